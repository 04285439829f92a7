//! [`Measurement`] and its parts: what a run measured, summed or spread over its repetitions.

use hdrhistogram::Histogram;
use serde::Serialize;

use super::DepthHistogram;
use super::interval::median_of_sorted;
use crate::spec::Workload;
use crate::verify::Verification;

/// Everything measured for one workload on one backend.
///
/// Counts that cover the whole run (per-thread counts, blocked time, latency, depth) are summed
/// over the measured repetitions; warm-ups are verified but not measured.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    /// The backend's `NAME`.
    pub backend: String,
    /// The workload that was run.
    pub workload: Workload,
    /// Each measured repetition, in order.
    pub repetitions: Vec<Repetition>,
    /// Wall time per repetition, in seconds: max(worker end) - min(worker start).
    pub wall_s: Spread,
    /// Messages delivered per second of wall time, per repetition.
    pub throughput: Spread,
    /// What was offered, shed and timed out next to what was delivered, and with an open-loop
    /// rate whether the backend kept up.
    pub load: Load,
    /// CPU time (user + system) of the whole process.
    pub cpu: CpuSummary,
    /// Send-to-receive latency of the sampled items; `None` when no item was sampled.
    pub latency: Option<Latency>,
    /// Per producer, in order (`producers[0]` is `producer-1`).
    pub producers: Vec<ProducerStats>,
    /// Per consumer, in order (`consumers[0]` is `consumer-1`).
    pub consumers: Vec<ConsumerStats>,
    /// Buffer length as sampled by the workers.
    pub depth: DepthHistogram,
    /// The ledger's verdict over every run, warm-ups included.
    pub verification: Verification,
    /// What the injected fault did, if one was injected.
    pub fault: Option<FaultOutcome>,
}

/// One measured repetition.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Repetition {
    /// When the repetition started, in seconds since the process started, so that the order in
    /// which a comparison interleaved its backends, and any drift, can be seen.
    pub started_s: f64,
    /// Wall time in seconds.
    pub wall_s: f64,
    /// Process user CPU time in seconds.
    pub user_s: f64,
    /// Process system CPU time in seconds.
    pub sys_s: f64,
    /// Voluntary context switches of the process during the repetition.
    pub voluntary_switches: u64,
    /// Involuntary context switches of the process during the repetition.
    pub involuntary_switches: u64,
    /// Items delivered.
    pub delivered: u64,
    /// `delivered / wall_s`.
    pub msgs_per_s: f64,
    /// Items offered to the buffer.
    pub offered: u64,
    /// Items shed by the policy: dropped (`drop-newest`) or evicted (`drop-oldest`).
    pub shed: u64,
    /// Items whose send timed out (`timeout:<dur>`).
    pub timed_out: u64,
    /// Items offered per second, from the first producer's start to the last one's end.
    pub send_rate: f64,
}

/// Offered load against delivered throughput, over the measured repetitions.
///
/// Shed items are those the policy gave up so that producers need not wait: dropped by
/// `drop-newest` or evicted by `drop-oldest`. With an open-loop rate, the backend *kept up*
/// when it delivered at least [`KEPT_UP`] of the target rate (median over the repetitions):
/// shedding or falling behind both mean it did not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Load {
    /// Items offered, summed over the repetitions.
    pub offered: u64,
    /// Items shed (dropped or evicted), summed.
    pub shed: u64,
    /// Items timed out, summed.
    pub timed_out: u64,
    /// `shed / offered`.
    pub shed_fraction: f64,
    /// `timed_out / offered`.
    pub timed_out_fraction: f64,
    /// Items shed per second of wall time.
    pub shed_per_s: f64,
    /// Items timed out per second of wall time.
    pub timed_out_per_s: f64,
    /// Items offered per second while the producers ran (median over the repetitions).
    pub send_rate: f64,
    /// The open-loop target rate (`--rate`), if any.
    pub target_rate: Option<f64>,
    /// With a target rate: whether the median delivered rate reached [`KEPT_UP`] of it.
    pub kept_up: Option<bool>,
}

/// The share of the target rate a backend must deliver to count as having kept up.
pub const KEPT_UP: f64 = 0.95;

impl Load {
    /// Sums the repetitions; `delivered_rate` is the median throughput.
    pub(crate) fn of(
        repetitions: &[Repetition],
        target_rate: Option<f64>,
        delivered_rate: f64,
    ) -> Self {
        let offered: u64 = repetitions.iter().map(|r| r.offered).sum();
        let shed: u64 = repetitions.iter().map(|r| r.shed).sum();
        let timed_out: u64 = repetitions.iter().map(|r| r.timed_out).sum();
        let wall: f64 = repetitions.iter().map(|r| r.wall_s).sum();
        let fraction = |n: u64| {
            if offered > 0 {
                n as f64 / offered as f64
            } else {
                0.0
            }
        };
        let per_s = |n: u64| if wall > 0.0 { n as f64 / wall } else { 0.0 };
        let send_rates: Vec<f64> = repetitions.iter().map(|r| r.send_rate).collect();
        Self {
            offered,
            shed,
            timed_out,
            shed_fraction: fraction(shed),
            timed_out_fraction: fraction(timed_out),
            shed_per_s: per_s(shed),
            timed_out_per_s: per_s(timed_out),
            send_rate: Spread::of(&send_rates).median,
            target_rate,
            kept_up: target_rate.map(|target| delivered_rate >= KEPT_UP * target),
        }
    }
}

/// Median, minimum and maximum of a per-repetition value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    /// Median (the mean of the two middle values for an even count).
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; all zeros when empty.
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Self {
            median: median_of_sorted(&sorted),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        }
    }

    /// `max / min`, the spread the benchmark targets bound; `None` when min is 0.
    pub fn ratio(&self) -> Option<f64> {
        (self.min > 0.0).then(|| self.max / self.min)
    }
}

/// CPU time over the measured repetitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CpuSummary {
    /// User time summed over the measured repetitions, in seconds.
    pub user_s: f64,
    /// System time summed over the measured repetitions, in seconds.
    pub sys_s: f64,
    /// `(user + sys) / wall`, summed over repetitions: how many cores were busy on average.
    pub utilisation: f64,
    /// CPU nanoseconds per delivered message; `None` when nothing was delivered.
    pub ns_per_message: Option<f64>,
    /// Whether CPU time could be read (`getrusage`).
    pub available: bool,
    /// The resolution CPU time is counted in, in seconds (1e-6 from `getrusage`): totals below
    /// it read as zero.
    pub tick_s: f64,
    /// Voluntary context switches (a thread blocked) summed over the measured repetitions.
    pub voluntary_switches: u64,
    /// Involuntary context switches (a time slice ran out) summed likewise.
    pub involuntary_switches: u64,
    /// `(voluntary + involuntary) / delivered`: how often a message cost a trip through the
    /// scheduler; `None` when nothing was delivered.
    pub switches_per_message: Option<f64>,
}

/// Send-to-receive latency percentiles, in nanoseconds.
///
/// Every `sample_every`-th item of each producer carries its send time. With an open-loop rate
/// the send time is the item's scheduled time, so a producer that falls behind shows up as
/// latency instead of hiding it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Latency {
    /// Items timed.
    pub samples: u64,
    /// One item in this many was timed.
    pub sample_every: u32,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest.
    pub max_ns: u64,
    /// Mean.
    pub mean_ns: f64,
}

impl Latency {
    /// The percentiles of a histogram of nanoseconds; `None` when it is empty.
    pub(crate) fn from_histogram(histogram: &Histogram<u64>, sample_every: u32) -> Option<Self> {
        (!histogram.is_empty()).then(|| Self {
            samples: histogram.len(),
            sample_every,
            p50_ns: histogram.value_at_quantile(0.50),
            p90_ns: histogram.value_at_quantile(0.90),
            p99_ns: histogram.value_at_quantile(0.99),
            p999_ns: histogram.value_at_quantile(0.999),
            max_ns: histogram.max(),
            mean_ns: histogram.mean(),
        })
    }
}

/// A latency histogram in nanoseconds, 3 significant digits, resizing as needed.
pub(crate) fn latency_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is a valid histogram precision")
}

/// What one producer did over the measured repetitions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProducerStats {
    /// The thread's name.
    pub thread: String,
    /// Items the buffer accepted.
    pub produced: u64,
    /// Items handed back by a disconnected buffer.
    pub handed_back: u64,
    /// Items dropped by the policy (`drop-newest`).
    pub dropped_by_policy: u64,
    /// Items this producer's `force_send` evicted (`drop-oldest`), its own or others'.
    pub evicted: u64,
    /// Items whose send timed out.
    pub timed_out: u64,
    /// Seconds spent blocked on a full buffer; `None` when not measured (batches, or
    /// `blocked_time` off).
    pub blocked_s: Option<f64>,
}

/// What one consumer did over the measured repetitions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConsumerStats {
    /// The thread's name.
    pub thread: String,
    /// Items received.
    pub consumed: u64,
    /// Seconds spent blocked on an empty buffer; `None` when not measured.
    pub blocked_s: Option<f64>,
}

/// What an injected fault did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FaultOutcome {
    /// The fault, as given.
    pub fault: String,
    /// In how many runs (warm-ups included) it actually fired: a consumer that never gets its
    /// `K` items never panics.
    pub triggered_runs: u64,
    /// Runs in total.
    pub runs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_odd_and_even_counts() {
        assert_eq!(
            Spread::of(&[3.0, 1.0, 2.0]),
            Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            }
        );
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert_eq!(Spread::of(&[]), Spread::default());
        assert_eq!(Spread::of(&[2.0, 4.0]).ratio(), Some(2.0));
    }

    #[test]
    fn load_sums_sheds_and_judges_keeping_up() {
        let rep = |offered, shed, timed_out| Repetition {
            started_s: 0.0,
            voluntary_switches: 0,
            involuntary_switches: 0,
            wall_s: 0.5,
            user_s: 0.0,
            sys_s: 0.0,
            delivered: offered - shed - timed_out,
            msgs_per_s: 0.0,
            offered,
            shed,
            timed_out,
            send_rate: offered as f64 * 2.0,
        };
        let reps = [rep(1000, 200, 50), rep(1000, 300, 150)];
        let load = Load::of(&reps, Some(2000.0), 1900.0);
        assert_eq!((load.offered, load.shed, load.timed_out), (2000, 500, 200));
        assert_eq!(load.shed_fraction, 0.25);
        assert_eq!(load.timed_out_fraction, 0.1);
        assert_eq!(load.shed_per_s, 500.0);
        assert_eq!(load.send_rate, 2000.0);
        assert_eq!(load.kept_up, Some(true));
        assert_eq!(Load::of(&reps, Some(2000.0), 1899.0).kept_up, Some(false));
        assert_eq!(Load::of(&reps, None, 1.0).kept_up, None);
    }
}
