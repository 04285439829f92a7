//! The [`Workload`] builder with its documented defaults, and the check of the values no run
//! can start with.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::parse::{DisplayDuration, display_option, nanos};
use super::{ConsumerDelays, Fault, Payload, Policy, Topology};

/// One producer-consumer workload, identical for every backend it is run against.
///
/// Build it with [`Workload::new`] and the chainable setters; every field is public so a report
/// can show it. The defaults are explained in `docs/method.md`:
///
/// | field | default |
/// | --- | --- |
/// | `topology` | 4:4 |
/// | `capacity` | 1024 |
/// | `messages` | 1,000,000 (spread over the producers, the remainder to the first ones) |
/// | `payload` | [`Payload::U64`] |
/// | `batch` | 1 (no batch calls) |
/// | `policy` | [`Policy::Block`] |
/// | `priorities` | 1 (every item has priority 0) |
/// | `producer_delay`, `consumer_delay` | none (`consumer_delay` may differ per consumer) |
/// | `rate` | none (closed loop) |
/// | `repeats`, `warmup` | 5, 1 |
/// | `seed` | 1 |
/// | `fault` | none |
/// | `latency_sample_every` | 32 |
/// | `blocked_time` | true |
/// | `watchdog` | 10 s |
///
/// ```
/// use harness::spec::{Payload, Workload};
///
/// let w = Workload::new().producers(2).consumers(3).capacity(16).messages(10_000).payload(Payload::Bytes64);
/// assert_eq!(w.share(0) + w.share(1), 10_000);
/// assert!(w.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workload {
    /// Which threads run: `seq` (one thread sends `min(capacity, remaining)` items, then
    /// receives them, and repeats: the uncontended cost) or `P:C` producer and consumer threads
    /// (`producer-1` ..., `consumer-1` ...). In JSON its text, `"seq"` or `"4:4"`.
    pub topology: Topology,
    /// Buffer capacity; 0 asks for a rendezvous buffer.
    pub capacity: usize,
    /// Messages per repetition, over all producers.
    pub messages: u64,
    /// What each message carries besides its `(producer, seq, send time)` header.
    pub payload: Payload,
    /// Items per `send_batch`/`recv_batch` call; 1 uses the single-item calls. Producers batch
    /// only under [`Policy::Block`] (the other policies decide item by item); consumers always
    /// use `recv_batch` when this is above 1. The `seq` workload uses `min(batch, capacity)`.
    pub batch: usize,
    /// What a producer does when the buffer is full.
    pub policy: Policy,
    /// How many priority levels items are drawn from, uniformly over `0..priorities` (1 to
    /// 256). Each item's priority is a pure function of the seed, its producer and its
    /// sequence number, so runs with one seed offer the same priorities. Only a priority
    /// backend reads them; with 1, every item has priority 0.
    pub priorities: u32,
    /// Simulated work before each send. In JSON: `producer_delay_ns`.
    #[serde(serialize_with = "nanos", rename = "producer_delay_ns")]
    pub producer_delay: Duration,
    /// Simulated work after each receive, per consumer (the same for all, or uneven). In
    /// JSON: `consumer_delay_ns`.
    #[serde(rename = "consumer_delay_ns")]
    pub consumer_delay: ConsumerDelays,
    /// Open-loop rate in messages per second over all producers; `None` sends as fast as the
    /// buffer accepts. In JSON: `rate_per_s`.
    #[serde(rename = "rate_per_s")]
    pub rate: Option<f64>,
    /// Measured repetitions.
    pub repeats: usize,
    /// Unmeasured (but verified) repetitions run first.
    pub warmup: usize,
    /// Seed for every random choice of the run (the moment of a close storm, for instance).
    pub seed: u64,
    /// A fault to inject, if any.
    #[serde(serialize_with = "display_option")]
    pub fault: Option<Fault>,
    /// Every n-th item of a producer carries a send timestamp for the latency histogram; reading
    /// the clock for every item would cost more than some backends' whole handoff.
    pub latency_sample_every: u32,
    /// Measure the time spent blocked on a full or empty buffer. A worker then tries the
    /// non-blocking call first and times only the blocking call that follows a failure. That
    /// costs throughput at small capacities (30-50% at capacity 1 on 2 vCPUs), so comparisons
    /// turn it off.
    pub blocked_time: bool,
    /// A run in which no thread makes progress for this long is stopped and reported. In JSON:
    /// `watchdog_ns`.
    #[serde(serialize_with = "nanos", rename = "watchdog_ns")]
    pub watchdog: Duration,
}

impl Default for Workload {
    fn default() -> Self {
        Self {
            topology: Topology::Threads {
                producers: 4,
                consumers: 4,
            },
            capacity: 1024,
            messages: 1_000_000,
            payload: Payload::U64,
            batch: 1,
            policy: Policy::Block,
            priorities: 1,
            producer_delay: Duration::ZERO,
            consumer_delay: ConsumerDelays::default(),
            rate: None,
            repeats: 5,
            warmup: 1,
            seed: 1,
            fault: None,
            latency_sample_every: 32,
            blocked_time: true,
            watchdog: Duration::from_secs(10),
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self, $name: $ty) -> Self {
                self.$name = $name;
                self
            }
        )*
    };
}

impl Workload {
    /// The default workload (see the table on [`Workload`]).
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Sets [`Workload::topology`].
        topology: Topology;
        /// Sets [`Workload::capacity`].
        capacity: usize;
        /// Sets [`Workload::messages`].
        messages: u64;
        /// Sets [`Workload::payload`].
        payload: Payload;
        /// Sets [`Workload::batch`].
        batch: usize;
        /// Sets [`Workload::policy`].
        policy: Policy;
        /// Sets [`Workload::priorities`].
        priorities: u32;
        /// Sets [`Workload::producer_delay`].
        producer_delay: Duration;
        /// Sets [`Workload::consumer_delay`].
        consumer_delay: ConsumerDelays;
        /// Sets [`Workload::rate`].
        rate: Option<f64>;
        /// Sets [`Workload::repeats`].
        repeats: usize;
        /// Sets [`Workload::warmup`].
        warmup: usize;
        /// Sets [`Workload::seed`].
        seed: u64;
        /// Sets [`Workload::fault`].
        fault: Option<Fault>;
        /// Sets [`Workload::latency_sample_every`].
        latency_sample_every: u32;
        /// Sets [`Workload::blocked_time`].
        blocked_time: bool;
        /// Sets [`Workload::watchdog`].
        watchdog: Duration;
    }

    /// Sets `P:C` threads with `producers` producers, keeping the consumers (1 after `seq`).
    #[must_use]
    pub fn producers(self, producers: usize) -> Self {
        let consumers = self.topology.consumers();
        self.topology(Topology::Threads {
            producers,
            consumers,
        })
    }

    /// Sets `P:C` threads with `consumers` consumers, keeping the producers (1 after `seq`).
    #[must_use]
    pub fn consumers(self, consumers: usize) -> Self {
        let producers = self.topology.producers();
        self.topology(Topology::Threads {
            producers,
            consumers,
        })
    }

    /// Producer threads actually started: 1 when sequential.
    pub fn producer_count(&self) -> usize {
        self.topology.producers()
    }

    /// Consumer threads actually started: 1 when sequential (the same thread as the producer).
    pub fn consumer_count(&self) -> usize {
        self.topology.consumers()
    }

    /// How many messages producer `index` (0-based) sends: an even split, with the remainder
    /// going one each to the first producers.
    pub fn share(&self, index: usize) -> u64 {
        let producers = self.producer_count() as u64;
        let index = index as u64;
        self.messages / producers + u64::from(index < self.messages % producers)
    }

    /// Every producer's share, in order.
    pub fn shares(&self) -> Vec<u64> {
        (0..self.producer_count()).map(|i| self.share(i)).collect()
    }

    /// Checks the values that no run can start with.
    ///
    /// # Errors
    ///
    /// The first invalid field, as a [`WorkloadError`].
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let topology = self.topology;
        if topology.producers() == 0 {
            return Err(WorkloadError::ZeroProducers);
        }
        if topology.consumers() == 0 {
            return Err(WorkloadError::ZeroConsumers);
        }
        let (producers, consumers) = (topology.producers(), topology.consumers());
        if producers > u32::MAX as usize {
            return Err(WorkloadError::TooManyProducers);
        }
        if producers.saturating_add(consumers) > MAX_THREADS {
            return Err(WorkloadError::TooManyThreads {
                producers,
                consumers,
            });
        }
        if self.batch == 0 {
            return Err(WorkloadError::ZeroBatch);
        }
        if self.batch > MAX_BATCH {
            return Err(WorkloadError::BatchTooLarge(self.batch));
        }
        if self.repeats == 0 {
            return Err(WorkloadError::ZeroRepeats);
        }
        if self.warmup.checked_add(self.repeats).is_none() {
            return Err(WorkloadError::TooManyRuns);
        }
        if self.latency_sample_every == 0 {
            return Err(WorkloadError::ZeroLatencySampling);
        }
        if !(1..=MAX_PRIORITIES).contains(&self.priorities) {
            return Err(WorkloadError::BadPriorities(self.priorities));
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(WorkloadError::BadRate(rate));
        }
        if self.watchdog < MIN_WATCHDOG {
            return Err(WorkloadError::WatchdogTooShort(self.watchdog));
        }
        if topology.fits(self.capacity).is_err() {
            return Err(WorkloadError::SequentialRendezvous);
        }
        if !topology.takes_faults() && self.fault.is_some() {
            return Err(WorkloadError::SequentialFault);
        }
        Ok(())
    }
}

/// The most priority levels a workload can draw from: an item's priority is one byte.
pub const MAX_PRIORITIES: u32 = 256;

/// The most producer and consumer threads one run starts: a fixed cap, so that a run the
/// system could not spawn is refused before it starts instead of failing after the build-up
/// (Linux's `kernel.threads-max` and `ulimit -u` are often far lower than `u32::MAX`, and
/// every thread reserves a stack).
pub const MAX_THREADS: usize = 4096;

/// The largest batch: every worker keeps a buffer of this many items.
pub const MAX_BATCH: usize = 65_536;

/// The shortest watchdog: it looks at the workers every 50 ms, so anything shorter fires on
/// the first look, before a busy machine has started every thread.
pub const MIN_WATCHDOG: Duration = Duration::from_millis(100);

/// A [`Workload`] no run can start with. `Display` says what is wrong in one line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WorkloadError {
    /// `producers` is 0.
    ZeroProducers,
    /// `consumers` is 0.
    ZeroConsumers,
    /// More producers than producer ids.
    TooManyProducers,
    /// More than [`MAX_THREADS`] producer and consumer threads together.
    TooManyThreads {
        /// Producers asked for.
        producers: usize,
        /// Consumers asked for.
        consumers: usize,
    },
    /// `batch` is 0.
    ZeroBatch,
    /// `repeats` is 0.
    ZeroRepeats,
    /// `latency_sample_every` is 0.
    ZeroLatencySampling,
    /// `rate` is not a positive finite number.
    BadRate(f64),
    /// `priorities` is not between 1 and [`MAX_PRIORITIES`].
    BadPriorities(u32),
    /// `watchdog` is shorter than [`MIN_WATCHDOG`] (the value asked for).
    WatchdogTooShort(Duration),
    /// `batch` is more than [`MAX_BATCH`].
    BatchTooLarge(usize),
    /// `warmup + repeats` overflows.
    TooManyRuns,
    /// The sequential workload cannot use a rendezvous buffer: one thread cannot meet itself.
    SequentialRendezvous,
    /// Faults need separate producer and consumer threads.
    SequentialFault,
}

impl fmt::Display for WorkloadError {
    /// What is wrong, in one line; the command line prefixes the flag it is about.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroProducers => write!(f, "at least one producer is needed"),
            Self::ZeroConsumers => write!(f, "at least one consumer is needed"),
            Self::TooManyProducers => write!(f, "at most {} producers", u32::MAX),
            Self::TooManyThreads {
                producers,
                consumers,
            } => write!(
                f,
                "{producers} producers and {consumers} consumers are {} threads, more than the \
                 {MAX_THREADS} a run may start (a fixed cap: past it, spawning fails partway)",
                producers.saturating_add(*consumers)
            ),
            Self::WatchdogTooShort(d) => write!(
                f,
                "{} is too short: at least {} (it looks every 50ms, so a shorter one fires \
                 before the threads have started)",
                DisplayDuration(*d),
                DisplayDuration(MIN_WATCHDOG)
            ),
            Self::BatchTooLarge(n) => write!(
                f,
                "batch {n} is more than {MAX_BATCH}: every thread keeps a buffer of that many items"
            ),
            Self::TooManyRuns => write!(f, "warm-ups and repetitions together overflow a count"),
            Self::ZeroBatch => write!(f, "the batch size must be at least 1"),
            Self::ZeroRepeats => write!(f, "at least one repetition is needed"),
            Self::ZeroLatencySampling => write!(f, "must be at least 1"),
            Self::BadRate(rate) => write!(f, "rate {rate} is not a positive number"),
            Self::BadPriorities(n) => write!(
                f,
                "{n} priority levels; choose 1 (all equal) to {MAX_PRIORITIES}"
            ),
            Self::SequentialRendezvous => write!(f, "the seq workload needs capacity >= 1"),
            Self::SequentialFault => write!(f, "faults need producer and consumer threads"),
        }
    }
}

impl std::error::Error for WorkloadError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_spread_the_remainder() {
        let w = Workload::new().producers(3).messages(10);
        assert_eq!(w.shares(), vec![4, 3, 3]);
        let w = Workload::new().producers(4).messages(2);
        assert_eq!(w.shares(), vec![1, 1, 0, 0]);
        let w = Workload::new().topology(Topology::Seq).messages(7);
        assert_eq!(w.shares(), vec![7]);
    }
}
