//! What to run: the [`Workload`] builder with its documented defaults, and the parsers the
//! command line uses for durations, rates, topologies, payloads, policies and faults.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Serialize, Serializer};

/// One producer-consumer workload, identical for every backend it is run against.
///
/// Build it with [`Workload::new`] and the chainable setters; every field is public so a report
/// can show it. The defaults follow `BENCHMARKS.md`:
///
/// | field | default |
/// | --- | --- |
/// | `producers`, `consumers` | 4, 4 |
/// | `capacity` | 1024 |
/// | `messages` | 1,000,000 (spread over the producers, the remainder to the first ones) |
/// | `payload` | [`Payload::U64`] |
/// | `batch` | 1 (no batch calls) |
/// | `policy` | [`Policy::Block`] |
/// | `priorities` | 1 (every item has priority 0) |
/// | `producer_delay`, `consumer_delay` | none |
/// | `rate` | none (closed loop) |
/// | `repeats`, `warmup` | 5, 1 |
/// | `seed` | 1 |
/// | `fault` | none |
/// | `sequential` | false |
/// | `latency_sample_every` | 32 |
/// | `blocked_time` | true |
/// | `watchdog` | 10 s |
///
/// ```
/// use harness::workload::{Payload, Workload};
///
/// let w = Workload::new().producers(2).consumers(3).capacity(16).messages(10_000).payload(Payload::Bytes64);
/// assert_eq!(w.share(0) + w.share(1), 10_000);
/// assert!(w.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workload {
    /// Producer threads (`producer-1` ...). Ignored when `sequential`.
    pub producers: usize,
    /// Consumer threads (`consumer-1` ...). Ignored when `sequential`.
    pub consumers: usize,
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
    /// Simulated work after each receive. In JSON: `consumer_delay_ns`.
    #[serde(serialize_with = "nanos", rename = "consumer_delay_ns")]
    pub consumer_delay: Duration,
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
    /// The `seq` workload: one thread sends `min(capacity, remaining)` items, then receives them,
    /// and repeats. Measures the uncontended cost.
    pub sequential: bool,
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
            producers: 4,
            consumers: 4,
            capacity: 1024,
            messages: 1_000_000,
            payload: Payload::U64,
            batch: 1,
            policy: Policy::Block,
            priorities: 1,
            producer_delay: Duration::ZERO,
            consumer_delay: Duration::ZERO,
            rate: None,
            repeats: 5,
            warmup: 1,
            seed: 1,
            fault: None,
            sequential: false,
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
        /// Sets [`Workload::producers`].
        producers: usize;
        /// Sets [`Workload::consumers`].
        consumers: usize;
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
        consumer_delay: Duration;
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
        /// Sets [`Workload::sequential`].
        sequential: bool;
        /// Sets [`Workload::latency_sample_every`].
        latency_sample_every: u32;
        /// Sets [`Workload::blocked_time`].
        blocked_time: bool;
        /// Sets [`Workload::watchdog`].
        watchdog: Duration;
    }

    /// Sets producers and consumers from a [`Topology`]; `seq` makes the workload sequential.
    #[must_use]
    pub fn topology(mut self, topology: Topology) -> Self {
        match topology {
            Topology::Seq => {
                self.sequential = true;
                self.producers = 1;
                self.consumers = 1;
            }
            Topology::Threads {
                producers,
                consumers,
            } => {
                self.sequential = false;
                self.producers = producers;
                self.consumers = consumers;
            }
        }
        self
    }

    /// The workload's shape.
    pub fn shape(&self) -> Topology {
        if self.sequential {
            Topology::Seq
        } else {
            Topology::Threads {
                producers: self.producers,
                consumers: self.consumers,
            }
        }
    }

    /// Producer threads actually started: 1 when sequential.
    pub fn producer_count(&self) -> usize {
        if self.sequential { 1 } else { self.producers }
    }

    /// Consumer threads actually started: 1 when sequential (the same thread as the producer).
    pub fn consumer_count(&self) -> usize {
        if self.sequential { 1 } else { self.consumers }
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
    /// The first invalid field, as a [`WorkloadError`] that names the command-line flag.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        if !self.sequential && self.producers == 0 {
            return Err(WorkloadError::ZeroProducers);
        }
        if !self.sequential && self.consumers == 0 {
            return Err(WorkloadError::ZeroConsumers);
        }
        if self.producer_count() > u32::MAX as usize {
            return Err(WorkloadError::TooManyProducers);
        }
        if self.batch == 0 {
            return Err(WorkloadError::ZeroBatch);
        }
        if self.repeats == 0 {
            return Err(WorkloadError::ZeroRepeats);
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
        if self.sequential && self.capacity == 0 {
            return Err(WorkloadError::SequentialRendezvous);
        }
        if self.sequential && self.fault.is_some() {
            return Err(WorkloadError::SequentialFault);
        }
        Ok(())
    }
}

/// The most priority levels a workload can draw from: an item's priority is one byte.
pub const MAX_PRIORITIES: u32 = 256;

/// A [`Workload`] no run can start with. `Display` is one line naming the flag.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WorkloadError {
    /// `producers` is 0.
    ZeroProducers,
    /// `consumers` is 0.
    ZeroConsumers,
    /// More producers than producer ids.
    TooManyProducers,
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
    /// The sequential workload cannot use a rendezvous buffer: one thread cannot meet itself.
    SequentialRendezvous,
    /// Faults need separate producer and consumer threads.
    SequentialFault,
}

impl WorkloadError {
    /// The command-line flag the error is about.
    pub fn flag(&self) -> &'static str {
        match self {
            Self::ZeroProducers | Self::TooManyProducers => "--producers",
            Self::ZeroConsumers => "--consumers",
            Self::ZeroBatch => "--batch",
            Self::ZeroRepeats => "--repeats",
            Self::ZeroLatencySampling => "--latency-sample-every",
            Self::BadRate(_) => "--rate",
            Self::BadPriorities(_) => "--priorities",
            Self::SequentialRendezvous => "--capacity",
            Self::SequentialFault => "--fault",
        }
    }
}

impl fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = self.flag();
        match self {
            Self::ZeroProducers => write!(f, "{flag}: at least one producer is needed"),
            Self::ZeroConsumers => write!(f, "{flag}: at least one consumer is needed"),
            Self::TooManyProducers => write!(f, "{flag}: at most {} producers", u32::MAX),
            Self::ZeroBatch => write!(f, "{flag}: the batch size must be at least 1"),
            Self::ZeroRepeats => write!(f, "{flag}: at least one repetition is needed"),
            Self::ZeroLatencySampling => write!(f, "{flag}: must be at least 1"),
            Self::BadRate(rate) => write!(f, "{flag}: rate {rate} is not a positive number"),
            Self::BadPriorities(n) => write!(
                f,
                "{flag}: {n} priority levels; choose 1 (all equal) to {MAX_PRIORITIES}"
            ),
            Self::SequentialRendezvous => {
                write!(f, "{flag}: the seq workload needs capacity >= 1")
            }
            Self::SequentialFault => write!(f, "{flag}: faults need producer and consumer threads"),
        }
    }
}

impl std::error::Error for WorkloadError {}

/// The shape of a workload: `seq` (one thread) or `P:C` threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topology {
    /// One thread that alternates sending and receiving.
    Seq,
    /// Separate producer and consumer threads.
    Threads {
        /// Producer threads.
        producers: usize,
        /// Consumer threads.
        consumers: usize,
    },
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Seq => f.write_str("seq"),
            Self::Threads {
                producers,
                consumers,
            } => write!(f, "{producers}:{consumers}"),
        }
    }
}

impl FromStr for Topology {
    type Err = ParseError;

    /// Parses `seq` or `P:C` with both counts at least 1.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("seq") {
            return Ok(Self::Seq);
        }
        let bad = || ParseError::new(format!("`{s}` is not a topology (`seq` or P:C, like 4:1)"));
        let (p, c) = s.split_once(':').ok_or_else(bad)?;
        let producers: usize = p.trim().parse().map_err(|_| bad())?;
        let consumers: usize = c.trim().parse().map_err(|_| bad())?;
        if producers == 0 || consumers == 0 {
            return Err(ParseError::new(format!(
                "`{s}`: producers and consumers must be at least 1"
            )));
        }
        Ok(Self::Threads {
            producers,
            consumers,
        })
    }
}

impl Serialize for Topology {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a message carries besides its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Payload {
    /// A `u64` (the default).
    U64,
    /// 64 bytes inline.
    Bytes64,
    /// A boxed 4 KiB block: one allocation per message, freed by the consumer.
    Boxed4K,
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::U64 => "u64",
            Self::Bytes64 => "bytes64",
            Self::Boxed4K => "boxed4k",
        })
    }
}

impl FromStr for Payload {
    type Err = ParseError;

    /// Parses `u64`, `bytes64` (or `64b`) and `boxed4k` (or `4k`).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "u64" => Ok(Self::U64),
            "bytes64" | "64b" | "64" => Ok(Self::Bytes64),
            "boxed4k" | "4k" | "4kib" | "box4k" => Ok(Self::Boxed4K),
            _ => Err(ParseError::new(format!(
                "`{s}` is not a payload (u64, bytes64, boxed4k)"
            ))),
        }
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a producer does when the buffer is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Wait for room (`send`, or `send_batch` when batching).
    Block,
    /// Wait at most this long (`send_timeout`); an item that times out is counted and the
    /// producer goes on with its next item.
    Timeout(Duration),
    /// Drop the item being sent (`try_send`); it is counted as dropped by policy.
    DropNewest,
    /// On a full buffer, evict the oldest buffered item and insert the new one in one atomic
    /// step (`force_send`); the evicted item comes back to the producer and is counted as
    /// evicted. Only backends declaring `Capabilities::drop_oldest` offer it.
    DropOldest,
}

impl Policy {
    /// Whether the policy sheds items (drops some so that producers never wait).
    pub fn sheds(self) -> bool {
        matches!(self, Self::DropNewest | Self::DropOldest)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Block => f.write_str("block"),
            Self::Timeout(d) => write!(f, "timeout:{}", DisplayDuration(*d)),
            Self::DropNewest => f.write_str("drop-newest"),
            Self::DropOldest => f.write_str("drop-oldest"),
        }
    }
}

impl FromStr for Policy {
    type Err = ParseError;

    /// Parses `block`, `timeout:<duration>`, `drop-newest` and `drop-oldest`.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        match s {
            "block" => Ok(Self::Block),
            "drop-newest" => Ok(Self::DropNewest),
            "drop-oldest" => Ok(Self::DropOldest),
            _ => match s.strip_prefix("timeout:") {
                Some(d) => Ok(Self::Timeout(parse_duration(d)?)),
                None => Err(ParseError::new(format!(
                    "`{s}` is not a policy (block, timeout:<dur>, drop-newest, drop-oldest)"
                ))),
            },
        }
    }
}

impl Serialize for Policy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// How long a stalled consumer stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stall {
    /// It resumes after this long.
    For(Duration),
    /// It never resumes: the watchdog has to end the run.
    Forever,
}

/// A fault injected into a run; see [`crate::fault`] for the rules each follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// `consumer-panic[:K]`: `consumer-1` panics after receiving `K` items, holding the next.
    ConsumerPanic {
        /// Items received first; `None` means a quarter of an even consumer share.
        after: Option<u64>,
    },
    /// `consumer-stall[:DUR|forever]`: `consumer-1` stops after half of an even consumer share.
    ConsumerStall {
        /// How long it stops.
        stall: Stall,
    },
    /// `producer-panic[:K]`: `producer-1` panics after sending `K` items, holding the next.
    ProducerPanic {
        /// Items sent first; `None` means half of its share.
        after: Option<u64>,
    },
    /// `close-storm[:N]`: `N` extra threads call `close()` at once at a seeded random moment.
    CloseStorm {
        /// How many threads close at once.
        closers: usize,
    },
    /// `lose-item`: a self-test of the verifier. `consumer-1` throws one received item away
    /// without recording it, so the run must fail verification.
    LoseItem,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConsumerPanic { after: None } => f.write_str("consumer-panic"),
            Self::ConsumerPanic { after: Some(k) } => write!(f, "consumer-panic:{k}"),
            Self::ConsumerStall {
                stall: Stall::For(d),
            } => write!(f, "consumer-stall:{}", DisplayDuration(*d)),
            Self::ConsumerStall {
                stall: Stall::Forever,
            } => f.write_str("consumer-stall:forever"),
            Self::ProducerPanic { after: None } => f.write_str("producer-panic"),
            Self::ProducerPanic { after: Some(k) } => write!(f, "producer-panic:{k}"),
            Self::CloseStorm { closers } => write!(f, "close-storm:{closers}"),
            Self::LoseItem => f.write_str("lose-item"),
        }
    }
}

impl FromStr for Fault {
    type Err = ParseError;

    /// Parses the forms shown on each variant.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let (name, arg) = match s.split_once(':') {
            Some((name, arg)) => (name, Some(arg.trim())),
            None => (s, None),
        };
        let count = |arg: &str| {
            arg.parse::<u64>()
                .map_err(|_| ParseError::new(format!("`{arg}` is not an item count")))
        };
        match (name, arg) {
            ("consumer-panic", None) => Ok(Self::ConsumerPanic { after: None }),
            ("consumer-panic", Some(k)) => Ok(Self::ConsumerPanic {
                after: Some(count(k)?),
            }),
            ("consumer-stall", None) => Ok(Self::ConsumerStall {
                stall: Stall::For(Duration::from_millis(200)),
            }),
            ("consumer-stall", Some("forever")) => Ok(Self::ConsumerStall {
                stall: Stall::Forever,
            }),
            ("consumer-stall", Some(d)) => Ok(Self::ConsumerStall {
                stall: Stall::For(parse_duration(d)?),
            }),
            ("producer-panic", None) => Ok(Self::ProducerPanic { after: None }),
            ("producer-panic", Some(k)) => Ok(Self::ProducerPanic {
                after: Some(count(k)?),
            }),
            ("close-storm", None) => Ok(Self::CloseStorm { closers: 4 }),
            ("close-storm", Some(n)) => match n.parse::<usize>() {
                Ok(closers @ 1..=64) => Ok(Self::CloseStorm { closers }),
                _ => Err(ParseError::new(format!(
                    "`{n}` is not a closer count (1 to 64)"
                ))),
            },
            ("lose-item", None) => Ok(Self::LoseItem),
            _ => Err(ParseError::new(format!(
                "`{s}` is not a fault (consumer-panic[:K], consumer-stall[:DUR|forever], \
                 producer-panic[:K], close-storm[:N], lose-item)"
            ))),
        }
    }
}

/// A value on the command line that could not be parsed; `Display` says why in one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(String);

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// Parses a duration: a non-negative decimal number followed by a unit `ns`, `us` (or `µs`),
/// `ms`, `s` or `min`. `0` alone is accepted.
///
/// ```
/// use std::time::Duration;
/// use harness::workload::parse_duration;
///
/// assert_eq!(parse_duration("1.5ms"), Ok(Duration::from_micros(1500)));
/// assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
/// assert!(parse_duration("-5ms").is_err());
/// assert!(parse_duration("5").is_err());
/// ```
///
/// # Errors
///
/// A negative, unit-less, unparsable or overflowing value.
pub fn parse_duration(s: &str) -> Result<Duration, ParseError> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.starts_with('-') {
        return Err(ParseError::new(format!(
            "`{s}`: a duration cannot be negative"
        )));
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| {
            ParseError::new(format!(
                "`{s}` needs a unit: ns, us, ms, s or min (as in 10ms)"
            ))
        })?;
    let (number, unit) = s.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| ParseError::new(format!("`{s}` is not a duration (as in 10ms, 1.5s)")))?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "min" => 60.0,
        _ => {
            return Err(ParseError::new(format!(
                "`{s}`: unknown unit `{unit}` (ns, us, ms, s, min)"
            )));
        }
    };
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| ParseError::new(format!("`{s}` is too long a duration")))
}

/// Parses a rate in messages per second: a positive number with an optional `k`, `M` or `G`
/// suffix and an optional `/s`, as in `50k` or `2.5M/s`.
///
/// # Errors
///
/// Zero, negative or unparsable values.
pub fn parse_rate(s: &str) -> Result<f64, ParseError> {
    let trimmed = s.trim();
    let body = trimmed.strip_suffix("/s").unwrap_or(trimmed);
    let (number, scale) = match body.char_indices().last() {
        Some((i, 'k' | 'K')) => (&body[..i], 1e3),
        Some((i, 'M')) => (&body[..i], 1e6),
        Some((i, 'G')) => (&body[..i], 1e9),
        _ => (body, 1.0),
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * scale),
        _ => Err(ParseError::new(format!(
            "`{trimmed}` is not a positive rate in messages per second (as in 50k)"
        ))),
    }
}

/// Parses a comma-separated list with `parse_one`, refusing an empty list.
///
/// # Errors
///
/// The first element that does not parse, or an empty list.
pub fn parse_list<T>(
    s: &str,
    parse_one: impl Fn(&str) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    let items: Vec<T> = s
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(parse_one)
        .collect::<Result<_, _>>()?;
    if items.is_empty() {
        return Err(ParseError::new("the list is empty"));
    }
    Ok(items)
}

/// Parses `seq,1:1,4:1,...`.
///
/// # Errors
///
/// As [`parse_list`] with [`Topology::from_str`].
pub fn parse_topologies(s: &str) -> Result<Vec<Topology>, ParseError> {
    parse_list(s, str::parse)
}

/// Parses `0,1,64,1024`.
///
/// # Errors
///
/// As [`parse_list`].
pub fn parse_capacities(s: &str) -> Result<Vec<usize>, ParseError> {
    parse_list(s, |part| {
        part.parse()
            .map_err(|_| ParseError::new(format!("`{part}` is not a capacity")))
    })
}

/// Shows a duration the way [`parse_duration`] reads it back: `1.5ms`, `200ms`, `3s`.
#[derive(Clone, Copy, Debug)]
pub struct DisplayDuration(pub Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos();
        let (value, unit) = if ns == 0 {
            return f.write_str("0");
        } else if ns < 1_000 {
            (ns as f64, "ns")
        } else if ns < 1_000_000 {
            (ns as f64 / 1e3, "us")
        } else if ns < 1_000_000_000 {
            (ns as f64 / 1e6, "ms")
        } else {
            (ns as f64 / 1e9, "s")
        };
        // Up to three decimals, without trailing zeros.
        let text = format!("{value:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        write!(f, "{text}{unit}")
    }
}

fn nanos<S: Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn display_option<S: Serializer, T: fmt::Display>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.collect_str(v),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("250µs"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("100ns"), Ok(Duration::from_nanos(100)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1min"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration(" 0 "), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0ms"), Ok(Duration::ZERO));
        for bad in ["", "ms", "5", "-1ms", "1.2.3ms", "3h", "1e400s", "abc"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn durations_round_trip_through_display() {
        for text in ["1.5ms", "200ms", "3s", "17ns", "250us", "0"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(DisplayDuration(d).to_string(), text);
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert_eq!(parse_rate("50k"), Ok(50_000.0));
        assert_eq!(parse_rate("2.5M/s"), Ok(2_500_000.0));
        for bad in ["0", "-3", "k", "fast", ""] {
            assert!(parse_rate(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn topologies_and_capacities() {
        assert_eq!(
            parse_topologies("seq, 1:1,4:1").unwrap(),
            vec![
                Topology::Seq,
                Topology::Threads {
                    producers: 1,
                    consumers: 1
                },
                Topology::Threads {
                    producers: 4,
                    consumers: 1
                },
            ]
        );
        assert!(parse_topologies("0:1").is_err());
        assert!(parse_topologies("4").is_err());
        assert!(parse_topologies("").is_err());
        assert_eq!(parse_capacities("0,1,64").unwrap(), vec![0, 1, 64]);
        assert!(parse_capacities("1,x").is_err());
    }

    #[test]
    fn policies() {
        assert_eq!("block".parse(), Ok(Policy::Block));
        assert_eq!("drop-newest".parse(), Ok(Policy::DropNewest));
        assert_eq!(
            "timeout:5ms".parse(),
            Ok(Policy::Timeout(Duration::from_millis(5)))
        );
        assert_eq!("drop-oldest".parse(), Ok(Policy::DropOldest));
        assert_eq!(Policy::DropOldest.to_string(), "drop-oldest");
        assert!("timeout:-1ms".parse::<Policy>().is_err());
        assert!("wait".parse::<Policy>().is_err());
        assert_eq!(
            Policy::Timeout(Duration::from_millis(5)).to_string(),
            "timeout:5ms"
        );
    }

    #[test]
    fn faults_round_trip() {
        for text in [
            "consumer-panic",
            "consumer-panic:10",
            "consumer-stall:50ms",
            "consumer-stall:forever",
            "producer-panic",
            "producer-panic:7",
            "close-storm:3",
            "lose-item",
        ] {
            let fault: Fault = text.parse().unwrap();
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!(
            "close-storm".parse::<Fault>(),
            Ok(Fault::CloseStorm { closers: 4 })
        );
        for bad in [
            "panic",
            "close-storm:0",
            "producer-panic:x",
            "consumer-stall:5",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn shares_spread_the_remainder() {
        let w = Workload::new().producers(3).messages(10);
        assert_eq!(w.shares(), vec![4, 3, 3]);
        let w = Workload::new().producers(4).messages(2);
        assert_eq!(w.shares(), vec![1, 1, 0, 0]);
        let w = Workload::new().topology(Topology::Seq).messages(7);
        assert_eq!(w.shares(), vec![7]);
    }

    #[test]
    fn validation_names_the_flag() {
        let err = Workload::new().producers(0).validate().unwrap_err();
        assert_eq!(err.flag(), "--producers");
        let err = Workload::new().consumers(0).validate().unwrap_err();
        assert_eq!(err.flag(), "--consumers");
        let err = Workload::new().rate(Some(-1.0)).validate().unwrap_err();
        assert_eq!(err.flag(), "--rate");
        for bad in [0, 257] {
            let err = Workload::new().priorities(bad).validate().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("--priorities: {bad} priority levels; choose 1 (all equal) to 256")
            );
        }
        assert!(Workload::new().priorities(256).validate().is_ok());
        assert!(Workload::new().validate().is_ok());
    }
}
