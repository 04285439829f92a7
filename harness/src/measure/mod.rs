//! What a run measured: [`Measurement`] and its parts (wall and CPU time per repetition with
//! their spread, throughput, load, latency percentiles, per-thread counts, blocked time, a
//! sampled queue-depth histogram), and the statistics that sum the repetitions into it.
//!
//! CPU time is the process's user and system time from `/proc/self/stat`, in clock ticks (see
//! `cpu.rs`); nothing here starts a thread or touches a buffer.

mod cpu;
mod depth;
mod measurement;
mod summary;

pub(crate) use cpu::CpuTime;
pub(crate) use depth::DEPTH_SAMPLE_EVERY;
pub use depth::{DepthBucket, DepthHistogram};
pub(crate) use measurement::latency_histogram;
pub use measurement::{
    ConsumerStats, CpuSummary, FaultOutcome, KEPT_UP, Latency, Load, Measurement, ProducerStats,
    Repetition, Spread,
};
pub(crate) use summary::{ConsumerSample, ProducerSample, RunSample, summarise};
