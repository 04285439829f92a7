//! Distribution-free intervals: for the median of paired ratios (one per round), and for the
//! shift between two independent sets of repetitions. Neither assumes a distribution; both come
//! from order statistics, so a single wild repetition moves them by one rank at most.
//!
//! `docs/method.md` explains the choice.

use serde::Serialize;

/// The confidence level the intervals aim for. With few rounds no order-statistic interval
/// reaches it, and the widest one (the min-max) is used with its own, lower level.
pub const TARGET_LEVEL: f64 = 0.95;

/// A median with a confidence interval: the true median lies in `low..=high` with probability
/// at least `level`, whatever the distribution of the values.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    /// The sample median.
    pub median: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
    /// Its coverage, 0 for a single value (no interval).
    pub level: f64,
}

impl Interval {
    /// Whether the interval contains `x`: for a ratio, whether `1.0` (no difference) is
    /// plausible.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// The probability that a Binomial(n, 1/2) variable is below `k`: `sum_{i<k} C(n, i) / 2^n`.
fn binomial_below(n: usize, k: usize) -> f64 {
    let mut term = 0.5_f64.powi(i32::try_from(n).unwrap_or(i32::MAX)); // C(n, 0) / 2^n
    let mut sum = 0.0;
    for i in 0..k {
        sum += term;
        term = term * (n - i) as f64 / (i + 1) as f64;
    }
    sum
}

/// The median of `values` with the order-statistic interval `[x(k), x(n+1-k)]` for the
/// largest `k` whose coverage `1 - 2 P(Bin(n, 1/2) < k)` reaches [`TARGET_LEVEL`], or `k = 1`
/// (the min-max) when none does. With 5 values that is the min-max at 93.75%. `None` for no
/// values; NaNs are ignored.
pub fn median_interval(values: &[f64]) -> Option<Interval> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = median_of_sorted(&sorted);
    if n == 1 {
        return Some(Interval {
            median,
            low: median,
            high: median,
            level: 0.0,
        });
    }
    let coverage = |k: usize| 1.0 - 2.0 * binomial_below(n, k);
    let mut k = 1;
    while k < n / 2 && coverage(k + 1) >= TARGET_LEVEL {
        k += 1;
    }
    Some(Interval {
        median,
        low: sorted[k - 1],
        high: sorted[n - k],
        level: coverage(k),
    })
}

/// The median of `values` as [`median_interval`] finds it, 0 with none: the figure a table
/// shows beside an interval.
pub(crate) fn median_or_zero(values: &[f64]) -> f64 {
    median_interval(values).map_or(0.0, |i| i.median)
}

/// The median of `sorted`, which is sorted and not empty: the middle value, or the mean of
/// the two middle values.
pub(super) fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The median and interval of the paired ratios `numerators[i] / denominators[i]`, round by
/// round; pairs whose denominator is not positive are left out. `None` with no pair left.
pub fn paired_ratio_interval(numerators: &[f64], denominators: &[f64]) -> Option<Interval> {
    let ratios: Vec<f64> = numerators
        .iter()
        .zip(denominators)
        .filter(|&(_, &d)| d > 0.0)
        .map(|(n, d)| n / d)
        .collect();
    median_interval(&ratios)
}

/// How much `new` moved against `old`, two independent sets of repetitions: the median of all
/// `new[j] / old[i]` ratios (the Hodges-Lehmann estimate of the shift, on a log scale), with
/// the interval between the ranks that the Mann-Whitney statistic's normal approximation puts
/// at [`TARGET_LEVEL`]. `None` if either side is empty or holds a non-positive value.
pub fn shift_interval(old: &[f64], new: &[f64]) -> Option<Interval> {
    if old.is_empty() || new.is_empty() || old.iter().chain(new).any(|&v| v.is_nan() || v <= 0.0) {
        return None;
    }
    let mut ratios: Vec<f64> = new
        .iter()
        .flat_map(|&n| old.iter().map(move |&o| n / o))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let (m, n) = (old.len() as f64, new.len() as f64);
    let pairs = ratios.len();
    let median = if pairs % 2 == 1 {
        ratios[pairs / 2]
    } else {
        (ratios[pairs / 2 - 1] * ratios[pairs / 2]).sqrt()
    };
    // z for a two-sided 95% interval.
    const Z: f64 = 1.959_964;
    let spread = (m * n * (m + n + 1.0) / 12.0).sqrt();
    let k = ((m * n / 2.0 - Z * spread).floor().max(0.0) as usize).min(pairs / 2);
    let level = if k == 0 {
        // Even the extremes do not reach the target: report the full range of the ratios, whose
        // exact coverage is 1 - 2 / C(m + n, n).
        1.0 - 2.0 / choose(old.len() + new.len(), new.len())
    } else {
        TARGET_LEVEL
    };
    let k = k.max(1);
    Some(Interval {
        median,
        low: ratios[k - 1],
        high: ratios[pairs - k],
        level,
    })
}

/// `C(n, k)` as a float.
fn choose(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_rounds_give_the_min_max_at_93_75_percent() {
        let i = median_interval(&[1.3, 0.9, 1.1, 1.0, 1.2]).unwrap();
        assert_eq!((i.median, i.low, i.high), (1.1, 0.9, 1.3));
        assert!((i.level - 0.9375).abs() < 1e-12, "{}", i.level);
        assert!(i.contains(1.0));
    }

    #[test]
    fn more_rounds_narrow_the_interval_and_keep_95_percent() {
        // n = 10: k = 2 covers 1 - 2 * 11/1024 = 97.85%; k = 3 would cover 89.06%.
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        let i = median_interval(&values).unwrap();
        assert_eq!((i.median, i.low, i.high), (5.5, 2.0, 9.0));
        assert!(
            (i.level - (1.0 - 22.0 / 1024.0)).abs() < 1e-12,
            "{}",
            i.level
        );
    }

    #[test]
    fn one_value_has_no_interval_and_none_has_no_median() {
        let i = median_interval(&[2.0]).unwrap();
        assert_eq!((i.median, i.low, i.high, i.level), (2.0, 2.0, 2.0, 0.0));
        assert_eq!(median_interval(&[]), None);
        assert_eq!(median_interval(&[f64::NAN]), None);
    }

    #[test]
    fn a_clear_shift_excludes_one_and_noise_does_not() {
        let old = [10.0, 10.5, 9.8, 10.2, 10.1];
        let faster = [12.0, 12.4, 11.9, 12.2, 12.1];
        let i = shift_interval(&old, &faster).unwrap();
        assert!(i.low > 1.1 && i.high < 1.3, "{i:?}");
        assert!((i.median - 1.2).abs() < 0.02, "{i:?}");
        let same = [10.1, 9.9, 10.4, 10.0, 10.3];
        let j = shift_interval(&old, &same).unwrap();
        assert!(j.contains(1.0), "{j:?}");
        assert_eq!(shift_interval(&[], &same), None);
        assert_eq!(shift_interval(&[0.0], &same), None);
    }

    #[test]
    fn tiny_samples_report_the_exact_level_of_the_full_range() {
        let i = shift_interval(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert_eq!((i.low, i.high), (4.0 / 3.0, 6.0));
        assert!((i.level - 0.9).abs() < 1e-12, "{}", i.level);
    }
}
