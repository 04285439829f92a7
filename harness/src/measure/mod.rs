//! What a run measured: [`Measurement`] and its parts (wall and CPU time per repetition with
//! their spread, throughput, load, latency percentiles, per-thread counts, blocked time, a
//! sampled queue-depth histogram), the statistics that sum the repetitions into it, and the
//! distribution-free intervals that comparisons report (`interval.rs`).
//!
//! CPU time and context switches are the process's, from `getrusage` at microsecond resolution
//! (see `cpu.rs`); nothing here starts a thread or touches a buffer.

mod cpu;
mod depth;
mod interval;
mod measurement;
mod summary;

pub(crate) use cpu::CpuTime;
pub(crate) use depth::DEPTH_SAMPLE_EVERY;
pub use depth::{DepthBucket, DepthHistogram};
pub(crate) use interval::median_or_zero;
pub use interval::{
    Interval, TARGET_LEVEL, median_interval, paired_ratio_interval, shift_interval,
};
pub(crate) use measurement::latency_histogram;
pub use measurement::{
    ConsumerStats, CpuSummary, FaultOutcome, KEPT_UP, Latency, Load, Measurement, ProducerStats,
    Repetition, Spread,
};
pub(crate) use summary::{ConsumerSample, ProducerSample, RunSample, summarise};

use std::sync::OnceLock;
use std::time::Instant;

/// The moment the process's clock for `started_s` begins: the first call of [`since_start`]
/// (the command line makes one as it starts).
static PROCESS_START: OnceLock<Instant> = OnceLock::new();

/// Seconds since the process started, as [`Repetition::started_s`] records them.
pub fn since_start() -> f64 {
    PROCESS_START
        .get_or_init(Instant::now)
        .elapsed()
        .as_secs_f64()
}
