//! The value axes of the plots: a ratio on a log2 axis centred on 1x, and a quantity on a
//! log10 axis (a rate or a latency). Each maps a value to a height between 0
//! (bottom) and 1 (top) and names its own ticks.

/// How a log10 axis labels its decades.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unit {
    /// Messages per second: `10.0 k`, `1.00 M`.
    Rate,
    /// Nanoseconds, written as a duration: `100 µs`, `1 ms`.
    Nanos,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Scale {
    /// A ratio from 2^-`span` to 2^`span`; 1x sits in the middle.
    Ratio { span: i32 },
    /// 10^`lo` to 10^`hi`.
    Log10 { lo: i32, hi: i32, unit: Unit },
}

/// The widest ratio axis: 1/64x to 64x. A value beyond it is drawn at the edge, with an arrow.
const MAX_SPAN: i32 = 6;

impl Scale {
    /// The narrowest ratio axis (at least 1/2x to 2x) that holds every value.
    pub(super) fn ratio_for(values: impl IntoIterator<Item = f64>) -> Self {
        let widest = values
            .into_iter()
            .filter(|v| *v > 0.0 && v.is_finite())
            .map(|v| v.log2().abs())
            .fold(0.0, f64::max);
        Self::Ratio {
            span: (widest.ceil() as i32).clamp(1, MAX_SPAN),
        }
    }

    /// The decades that hold every positive value (at least one decade).
    pub(super) fn log10_for(values: impl IntoIterator<Item = f64>, unit: Unit) -> Self {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| *v > 0.0 && v.is_finite()) {
            lo = lo.min(v.log10());
            hi = hi.max(v.log10());
        }
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        let lo = lo.floor() as i32;
        Self::Log10 {
            lo,
            hi: (hi.ceil() as i32).max(lo + 1),
            unit,
        }
    }

    /// Where `v` sits, 0 at the bottom and 1 at the top, clamped to the axis. `None` for a value
    /// a log axis cannot show (zero or negative).
    pub(super) fn position(self, v: f64) -> Option<f64> {
        let raw = match self {
            Self::Ratio { span } => {
                if v <= 0.0 {
                    return None;
                }
                (v.log2() + f64::from(span)) / (2.0 * f64::from(span))
            }
            Self::Log10 { lo, hi, .. } => {
                if v <= 0.0 {
                    return None;
                }
                (v.log10() - f64::from(lo)) / f64::from(hi - lo)
            }
        };
        Some(raw.clamp(0.0, 1.0))
    }

    /// Whether `v` lies beyond the axis: `Some(true)` above it, `Some(false)` below.
    pub(super) fn beyond(self, v: f64) -> Option<bool> {
        let (lo, hi) = match self {
            Self::Ratio { span } => (2f64.powi(-span), 2f64.powi(span)),
            Self::Log10 { lo, hi, .. } => (10f64.powi(lo), 10f64.powi(hi)),
        };
        if v > hi * (1.0 + 1e-9) {
            Some(true)
        } else if v < lo * (1.0 - 1e-9) {
            Some(false)
        } else {
            None
        }
    }

    /// The ticks: each value with its label.
    pub(super) fn ticks(self) -> Vec<(f64, String)> {
        match self {
            // On a wide axis every other power is labelled, 1x always.
            Self::Ratio { span } => (-span..=span)
                .map(|e| {
                    let label = if span < 5 || e % 2 == 0 {
                        ratio_label(e)
                    } else {
                        String::new()
                    };
                    (2f64.powi(e), label)
                })
                .collect(),
            Self::Log10 { lo, hi, unit } => (lo..=hi)
                .map(|e| (10f64.powi(e), decade_label(e, unit)))
                .collect(),
        }
    }
}

/// 10^`e` in `unit` with a metric prefix and no decimals: `100 k`, `1 M`; `10 µs`, `1 s`.
fn decade_label(e: i32, unit: Unit) -> String {
    let prefixes: &[&str] = match unit {
        Unit::Rate => &["", " k", " M", " G", " T"],
        Unit::Nanos => &[" ns", " µs", " ms", " s"],
    };
    let e = e.max(0);
    let group = ((e / 3) as usize).min(prefixes.len() - 1);
    let mantissa = 10u64.pow((e - 3 * group as i32) as u32);
    format!("{mantissa}{}", prefixes[group])
}

/// `1x`, `4x`, `1/4x` for 2^`e`.
fn ratio_label(e: i32) -> String {
    if e >= 0 {
        format!("{}x", 1u64 << e)
    } else {
        format!("1/{}x", 1u64 << -e)
    }
}

/// A ratio as a label beside a mark beyond the axis: `28.9x`, `0.02x`.
pub(super) fn ratio_value(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}x")
    } else if v >= 0.1 {
        format!("{v:.2}x")
    } else {
        format!("{v:.3}x")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tick labels, bottom to top.
    fn labels(scale: Scale) -> Vec<String> {
        scale.ticks().into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn a_ratio_axis_is_centred_on_one_and_holds_every_value() {
        let scale = Scale::ratio_for([0.3, 1.2, 2.5]);
        assert_eq!(scale, Scale::Ratio { span: 2 });
        assert_eq!(scale.position(1.0), Some(0.5));
        assert_eq!(scale.position(4.0), Some(1.0));
        assert_eq!(scale.position(0.25), Some(0.0));
        assert_eq!(scale.position(0.0), None);
        assert_eq!(labels(scale), ["1/4x", "1/2x", "1x", "2x", "4x"]);
    }

    #[test]
    fn a_ratio_axis_has_bounds_and_marks_what_lies_beyond() {
        assert_eq!(Scale::ratio_for([1.0]), Scale::Ratio { span: 1 });
        let widest = Scale::ratio_for([1000.0]);
        assert_eq!(widest, Scale::Ratio { span: 6 });
        assert_eq!(widest.position(1000.0), Some(1.0));
        assert_eq!(widest.beyond(1000.0), Some(true));
        assert_eq!(widest.beyond(0.001), Some(false));
        assert_eq!(widest.beyond(64.0), None);
        assert_eq!(labels(widest)[5..8], ["", "1x", ""]);
    }

    #[test]
    fn a_log_axis_spans_whole_decades() {
        let scale = Scale::log10_for([2_000.0, 3e6, 0.0], Unit::Nanos);
        assert_eq!(
            scale,
            Scale::Log10 {
                lo: 3,
                hi: 7,
                unit: Unit::Nanos
            }
        );
        assert_eq!(scale.position(1e5), Some(0.5));
        assert_eq!(labels(scale), ["1 µs", "10 µs", "100 µs", "1 ms", "10 ms"]);
        assert_eq!(decade_label(9, Unit::Nanos), "1 s");
        assert_eq!(decade_label(5, Unit::Rate), "100 k");
        assert_eq!(decade_label(0, Unit::Rate), "1");
        assert_eq!(
            Scale::log10_for([], Unit::Rate),
            Scale::Log10 {
                lo: 0,
                hi: 1,
                unit: Unit::Rate
            }
        );
    }

    #[test]
    fn a_value_beyond_the_axis_is_labelled_by_its_size() {
        assert_eq!(ratio_value(28.94), "29x");
        assert_eq!(ratio_value(0.5), "0.50x");
    }
}
