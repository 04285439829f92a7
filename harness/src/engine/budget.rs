//! What a workload will take before it starts: the memory its bookkeeping needs and the time
//! its simulated work plans, checked against bounds so that a run that would abort on an
//! allocation, or never end, is refused up front. The errors carry values; the command line
//! names the flags.

use std::fmt;
use std::time::Duration;

use super::item::MAX_SHARE;
use super::latency::BYTES_PER_SAMPLE;
use crate::measure::{ConsumerSample, ProducerSample, RunSample};
use crate::spec::Workload;
use crate::verify::Receipt;

/// The memory bound used where `/proc/meminfo` has no `MemAvailable` (not Linux, or no
/// `/proc`): 16 GiB.
pub const FALLBACK_MEMORY: u64 = 16 << 30;

/// The most simulated work (delays and pacing) a run may plan over all its runs: 24 hours.
/// Past it, a run is a typo rather than a measurement, and nothing but Ctrl-C would end it:
/// the watchdog sees a delaying worker as busy.
pub const MAX_PLANNED: Duration = Duration::from_secs(24 * 60 * 60);

/// Where the memory bound came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryBound {
    /// `MemAvailable` in `/proc/meminfo`, in bytes.
    Available(u64),
    /// [`FALLBACK_MEMORY`]: `/proc/meminfo` could not be read.
    Fallback,
}

impl MemoryBound {
    /// `MemAvailable` from `/proc/meminfo`, or the fallback.
    pub fn detect() -> Self {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| mem_available(&text))
            .map_or(Self::Fallback, Self::Available)
    }

    fn bytes(self) -> u64 {
        match self {
            Self::Available(bytes) => bytes,
            Self::Fallback => FALLBACK_MEMORY,
        }
    }
}

/// `MemAvailable` in bytes from the text of `/proc/meminfo` (`MemAvailable:  123 kB`).
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// What a workload's simulated work is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// `producer_delay` before each send.
    ProducerDelay,
    /// `consumer_delay` after each receive.
    ConsumerDelay,
    /// The open-loop `rate`.
    Rate,
}

/// A workload that cannot finish in reason, or whose bookkeeping cannot fit in memory.
#[derive(Clone, Debug, PartialEq)]
pub enum BudgetError {
    /// The ledger and the repetitions' samples need more memory than the bound.
    Memory {
        /// Bytes for the ledger's per-item bookkeeping, over every thread.
        ledger: u128,
        /// Bytes for the measured repetitions' samples.
        samples: u128,
        /// The bound.
        bound: MemoryBound,
    },
    /// A producer's share is too large for an item's header to number (2^43 items).
    Share {
        /// The largest share, in messages.
        share: u64,
    },
    /// The simulated work planned over all runs is past [`MAX_PLANNED`].
    Planned {
        /// What dominates the plan.
        pace: Pace,
        /// Seconds of simulated work the slowest thread plans, over all runs.
        seconds: f64,
    },
}

impl BudgetError {
    /// Whether the repetitions' samples, not the ledger, dominate a memory error.
    pub fn is_samples(&self) -> bool {
        matches!(self, Self::Memory { ledger, samples, .. } if samples > ledger)
    }
}

impl fmt::Display for BudgetError {
    /// One line, without the flag a command line would name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory {
                ledger,
                samples,
                bound,
            } => {
                let source = match bound {
                    MemoryBound::Available(_) => "MemAvailable in /proc/meminfo",
                    MemoryBound::Fallback => "a fixed bound: /proc/meminfo has no MemAvailable",
                };
                write!(
                    f,
                    "the run needs {} bytes ({}) for the ledger's per-item bookkeeping and {} \
                     bytes ({}) for the repetitions' samples, more than the {} bytes ({}) \
                     available ({source}), so it is refused before any run",
                    ledger,
                    Bytes(*ledger),
                    samples,
                    Bytes(*samples),
                    bound.bytes(),
                    Bytes(u128::from(bound.bytes())),
                )
            }
            Self::Share { share } => write!(
                f,
                "a producer's share of {share} messages is more than the {} an item's header \
                 can number (2^43)",
                MAX_SHARE - 1
            ),
            Self::Planned { pace, seconds } => {
                let what = match pace {
                    Pace::ProducerDelay => "producer delays",
                    Pace::ConsumerDelay => "consumer delays",
                    Pace::Rate => "pacing to the rate",
                };
                write!(
                    f,
                    "the run plans {:.0} hours of {what} over all its runs, more than the {} \
                     hours a run may plan (the watchdog sees a delaying thread as busy, so \
                     nothing would stop it)",
                    seconds / 3600.0,
                    MAX_PLANNED.as_secs() / 3600,
                )
            }
        }
    }
}

impl std::error::Error for BudgetError {}

/// Bytes in binary units, one decimal.
struct Bytes(u128);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut value = self.0 as f64;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < UNITS.len() {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.1} {}", UNITS[unit])
    }
}

/// The bytes the ledger and the samples of `workload` need, at least: one bit per message in
/// each consumer's record, in the eviction map and in the refusal maps, with `order_log` a
/// send time and a receipt per message (the LIFO and priority checks), the latency logs of the
/// sampled items, and one sample per measured repetition.
pub(crate) fn memory_needed(workload: &Workload, order_log: bool) -> (u128, u128) {
    let bits_per_message = workload.consumer_count() as u128 + 2;
    let mut ledger = u128::from(workload.messages.div_ceil(8))
        .saturating_mul(bits_per_message)
        .saturating_add(sample_log_bytes(workload));
    if order_log {
        let per_message = (size_of::<u64>() + size_of::<Receipt>()) as u128;
        ledger = ledger.saturating_add(u128::from(workload.messages).saturating_mul(per_message));
    }
    let per_sample = size_of::<RunSample>()
        + workload.producer_count() * size_of::<ProducerSample>()
        + workload.consumer_count() * size_of::<ConsumerSample>();
    let samples = (workload.repeats as u128).saturating_mul(per_sample as u128);
    (ledger, samples)
}

/// The latency logs of `workload`: a send time and an arrival per sampled item, with room for
/// the consumers' logs to double while they grow.
fn sample_log_bytes(workload: &Workload) -> u128 {
    let samples = workload.messages / u64::from(workload.latency_sample_every.max(1))
        + workload.producer_count() as u64
        + 16 * workload.consumer_count() as u64;
    u128::from(samples).saturating_mul(2 * BYTES_PER_SAMPLE)
}

/// Whether a backend with `capabilities` logs every send and receipt of `workload` for its
/// order check (LIFO with one producer and one consumer, priority with one consumer).
pub fn logs_order(capabilities: &buffer_api::Capabilities, workload: &Workload) -> bool {
    crate::verify::OrderChecks::for_run(
        capabilities,
        workload.producer_count(),
        workload.consumer_count(),
        workload.priorities,
    )
    .logged
    .is_some()
}

/// Seconds of simulated work the slowest thread of `workload` plans over all runs, and what
/// dominates it.
fn planned(workload: &Workload) -> (Pace, f64) {
    let runs = workload.warmup as f64 + workload.repeats as f64;
    let messages = workload.messages as f64;
    let per_producer = workload.share(0) as f64;
    [
        (
            Pace::ProducerDelay,
            per_producer * workload.producer_delay.as_secs_f64(),
        ),
        (
            Pace::ConsumerDelay,
            workload
                .consumer_delay
                .planned_seconds(messages, workload.consumer_count()),
        ),
        (
            Pace::Rate,
            workload.rate.map_or(0.0, |rate| messages / rate),
        ),
    ]
    .into_iter()
    .map(|(pace, seconds)| (pace, seconds * runs))
    .fold((Pace::ProducerDelay, 0.0), |most, next| {
        if next.1 > most.1 { next } else { most }
    })
}

/// Checks that `workload`'s bookkeeping fits in `bound` and that its simulated work is within
/// [`MAX_PLANNED`]. `order_log`: a backend the workload runs on logs every send and receipt
/// for its order check (see [`logs_order`]). Call it after [`Workload::validate`].
///
/// # Errors
///
/// The first bound exceeded, as a [`BudgetError`].
pub fn check_budget(
    workload: &Workload,
    bound: MemoryBound,
    order_log: bool,
) -> Result<(), BudgetError> {
    let (ledger, samples) = memory_needed(workload, order_log);
    if ledger.saturating_add(samples) > u128::from(bound.bytes()) {
        return Err(BudgetError::Memory {
            ledger,
            samples,
            bound,
        });
    }
    let share = workload.share(0);
    if share >= MAX_SHARE {
        return Err(BudgetError::Share { share });
    }
    let (pace, seconds) = planned(workload);
    if seconds > MAX_PLANNED.as_secs_f64() {
        return Err(BudgetError::Planned { pace, seconds });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_available_reads_the_kib_line() {
        let text = "MemTotal:       16000 kB\nMemAvailable:    2048 kB\n";
        assert_eq!(mem_available(text), Some(2 << 20));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn the_default_workload_fits_and_the_extremes_do_not() {
        let bound = MemoryBound::Available(1 << 30);
        assert_eq!(check_budget(&Workload::new(), bound, true), Ok(()));
        let huge = Workload::new().messages(u64::MAX);
        assert!(matches!(
            check_budget(&huge, bound, false),
            Err(e @ BudgetError::Memory { .. }) if !e.is_samples()
        ));
        let many = Workload::new().messages(1).repeats(100_000_000);
        assert!(matches!(check_budget(&many, bound, false), Err(e) if e.is_samples()));
        // 10^8 messages fit in the ledger, not with an order log.
        let logged = Workload::new().messages(100_000_000).repeats(1);
        assert_eq!(check_budget(&logged, bound, false), Ok(()));
        assert!(check_budget(&logged, bound, true).is_err());
        let unnumbered = Workload::new().producers(1).messages(MAX_SHARE).repeats(1);
        assert_eq!(
            check_budget(&unnumbered, MemoryBound::Available(u64::MAX), false),
            Err(BudgetError::Share { share: MAX_SHARE })
        );
        let widest = unnumbered.messages(MAX_SHARE - 1);
        assert_eq!(
            check_budget(&widest, MemoryBound::Available(u64::MAX), false),
            Ok(())
        );
        let slow = Workload::new()
            .messages(100)
            .producer_delay(Duration::from_secs(3600));
        assert!(matches!(
            check_budget(&slow, bound, false),
            Err(BudgetError::Planned {
                pace: Pace::ProducerDelay,
                ..
            })
        ));
    }
}
