//! Runs a [`Workload`] against one backend and returns a [`Measurement`]. Never prints.
//!
//! # Method (see `BENCHMARKS.md`)
//!
//! Each run builds a fresh buffer, clones one handle per thread, drops the originals, spawns
//! every thread (`producer-N`, `consumer-N`, named through [`std::thread::Builder`]) and
//! releases them all at once through one start gate. Each worker takes its own start and end
//! timestamps; the run's wall time is `max(end) - min(start)`, because timing from the spawning
//! thread under-measures on a machine with fewer cores than threads. Producers finish by dropping
//! their handles: consumers receive until the buffer reports `Disconnected`, with no sentinel
//! values. Warm-up runs come first and are verified but not measured.
//!
//! Workers keep everything they record local (ledger records, latency histograms, counts) and
//! hand it over when they exit, so the hot path touches no shared cache line except the buffer's
//! own and the worker's slot on the watchdog board.
//!
//! Producer and consumer delays spin below 100 µs (so that they are work, not timer slack) and
//! sleep above it. Open-loop pacing yields instead of spinning, so paced producers leave the
//! CPU to the consumers; each item's timestamp is its scheduled send time, so a producer that
//! falls behind schedule shows up as latency (no coordinated omission).

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use buffer_api::{
    Backend, CapacityError, Consumer, ForceSendError, Producer, SendBatchError, SendError,
    SendTimeoutError, TryRecvError, TrySendError,
};
use hdrhistogram::Histogram;

use crate::fault::{FaultPlan, InjectedPanic, Trigger, inject_panic};
use crate::item::{self, Body, Item};
use crate::measure::{
    ConsumerSample, CpuTime, DEPTH_SAMPLE_EVERY, DepthHistogram, FaultOutcome, Measurement,
    ProducerSample, RunSample, latency_histogram, summarise,
};
use crate::spec::{Fault, Payload, Policy, Stall, Workload, WorkloadError};
use crate::verify::{
    self, ConsumerRecord, Ledger, NOT_SENT, OrderCheck, OrderChecks, ProducerRecord, Receipt,
    Refusal, RunFacts, Verification, Violation,
};
use crate::watchdog::{Board, Watchdog, WatchdogReport, WorkerState};

/// How often the waiting thread looks at the watchdog board.
const TICK: Duration = Duration::from_millis(50);
/// How long workers get to notice an abort before they are left behind.
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// Why a run could not produce a measurement. A run that completes but fails verification is
/// not an error: its measurement says so in `verification.ok`.
#[derive(Debug)]
pub enum RunError {
    /// The workload is invalid.
    Workload(WorkloadError),
    /// The backend refused the capacity.
    Capacity(CapacityError),
    /// A thread could not be spawned.
    Spawn(std::io::Error),
    /// No thread made progress for the watchdog's timeout.
    Watchdog(WatchdogReport),
    /// The backend does not offer the workload's policy (`drop-oldest` needs
    /// `Capabilities::drop_oldest`).
    Unsupported(Unsupported),
}

/// A backend that does not offer a policy. `Display` is one line naming both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The backend's name.
    pub backend: &'static str,
    /// The policy it does not offer.
    pub policy: Policy,
}

impl Unsupported {
    /// `Some` when backend `name` with `capabilities` cannot run `policy`.
    pub fn check(
        name: &'static str,
        capabilities: &buffer_api::Capabilities,
        policy: Policy,
    ) -> Option<Self> {
        (policy == Policy::DropOldest && !capabilities.drop_oldest).then_some(Self {
            backend: name,
            policy,
        })
    }
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cannot evict and insert atomically, so it does not offer {}",
            self.backend, self.policy
        )
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Workload(e) => e.fmt(f),
            Self::Capacity(e) => write!(f, "--capacity: {e}"),
            Self::Spawn(e) => write!(f, "could not spawn a thread: {e}"),
            Self::Watchdog(report) => write!(f, "watchdog fired: {report}"),
            Self::Unsupported(e) => write!(f, "--policy: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Progress of a run, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Runs finished, warm-ups included.
    pub done: usize,
    /// Runs in all, warm-ups included.
    pub total: usize,
}

/// Runs `workload` against backend `B`: warm-ups, then the measured repetitions.
///
/// # Errors
///
/// See [`RunError`].
pub fn run<B: Backend>(workload: &Workload) -> Result<Measurement, RunError> {
    run_observed::<B>(workload, &mut |_| {})
}

/// As [`run`], calling `observer` after every run (warm-ups included).
///
/// # Errors
///
/// See [`RunError`].
pub fn run_observed<B: Backend>(
    workload: &Workload,
    observer: &mut dyn FnMut(Progress),
) -> Result<Measurement, RunError> {
    workload.validate().map_err(RunError::Workload)?;
    if let Some(e) = Unsupported::check(B::NAME, &B::CAPABILITIES, workload.policy) {
        return Err(RunError::Unsupported(e));
    }
    match workload.payload {
        Payload::U64 => run_typed::<B, u64>(workload, observer),
        Payload::Bytes64 => run_typed::<B, [u8; 64]>(workload, observer),
        Payload::Boxed4K => run_typed::<B, Box<[u8; 4096]>>(workload, observer),
    }
}

fn run_typed<B: Backend, P: Body>(
    workload: &Workload,
    observer: &mut dyn FnMut(Progress),
) -> Result<Measurement, RunError> {
    let total = workload.warmup + workload.repeats;
    let mut verification = Verification::default();
    let mut measured = Vec::with_capacity(workload.repeats);
    let mut fault = workload.fault.map(|f| FaultOutcome {
        fault: f.to_string(),
        ..FaultOutcome::default()
    });
    for index in 0..total {
        let warmup = index < workload.warmup;
        let label = if warmup {
            format!("warm-up {}", index + 1)
        } else {
            format!("repetition {}", index - workload.warmup + 1)
        };
        let outcome = run_once::<B, P>(workload, index)?;
        tracing::debug!(
            backend = B::NAME,
            run = %label,
            wall_ms = outcome.wall_ns as f64 / 1e6,
            ok = outcome.verification.ok,
            "run finished"
        );
        verification.absorb(outcome.verification.clone(), &label);
        if let Some(fault) = &mut fault {
            fault.runs += 1;
            fault.triggered_runs += u64::from(outcome.fault_fired);
        }
        if !warmup {
            measured.push(outcome);
        }
        observer(Progress {
            done: index + 1,
            total,
        });
    }
    let samples = measured.into_iter().map(RunOutcome::into_sample).collect();
    Ok(summarise(B::NAME, workload, samples, verification, fault))
}

/// What one run (one repetition or warm-up) produced.
struct RunOutcome {
    wall_ns: u64,
    /// From the first producer's start to the last producer's end: how long offering took.
    send_ns: u64,
    cpu: Option<CpuTime>,
    producers: Vec<ProducerOut>,
    consumers: Vec<ConsumerOut>,
    verification: Verification,
    fault_fired: bool,
}

impl RunOutcome {
    fn into_sample(self) -> RunSample {
        RunSample {
            wall_ns: self.wall_ns,
            send_ns: self.send_ns,
            cpu: self.cpu,
            producers: self
                .producers
                .into_iter()
                .map(|p| ProducerSample {
                    produced: p.record.accepted_count(),
                    handed_back: p.record.handed_back(),
                    dropped_by_policy: p.record.dropped_by_policy(),
                    evicted: p.record.evicted_count(),
                    timed_out: p.record.timed_out(),
                    blocked_ns: p.blocked_ns,
                    depth: p.depth,
                })
                .collect(),
            consumers: self
                .consumers
                .into_iter()
                .map(|c| ConsumerSample {
                    consumed: c.received,
                    blocked_ns: c.blocked_ns,
                    depth: c.depth,
                    latency: c.latency,
                })
                .collect(),
            verification: self.verification,
        }
    }
}

/// State every thread of one run shares. Nothing here is touched per item except the board.
struct Shared {
    workload: Workload,
    plan: FaultPlan,
    ledger: Ledger,
    epoch: Instant,
    start: Gate,
    board: Board,
    abort: AtomicBool,
    drops: AtomicU64,
    storm: Trigger,
    closers_meet: Gate,
    closes_returning_true: AtomicU64,
    /// The order check this run makes from its send and receive log, if any.
    order_check: Option<OrderCheck>,
    /// The log's clock (see [`crate::verify`]); touched only when `order_check` is set.
    clock: AtomicU64,
}

impl Shared {
    /// A ticket from the log's clock. Acquire-release on one counter is enough: a lower
    /// ticket's taker happens-before a higher one's.
    #[inline]
    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::AcqRel)
    }

    /// Nanoseconds since the run's epoch.
    #[inline]
    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    fn aborted(&self) -> bool {
        self.abort.load(Ordering::Relaxed)
    }

    /// Simulated work: spins when short (so it is work, not timer slack), sleeps when long.
    /// Returns false if the run was aborted meanwhile.
    fn pause(&self, duration: Duration) -> bool {
        self.wait_until(Instant::now() + duration, std::hint::spin_loop)
    }

    /// Open-loop pacing: waits until `deadline`, yielding the CPU while the wait is short so a
    /// paced producer never starves the consumers of a small machine. False if aborted first.
    fn pace_until(&self, deadline: Instant) -> bool {
        self.wait_until(deadline, thread::yield_now)
    }

    /// Waits until `deadline`, sleeping while far and calling `short_wait` when close; false
    /// if the run was aborted first.
    fn wait_until(&self, deadline: Instant, short_wait: fn()) -> bool {
        loop {
            if self.aborted() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            let left = deadline - now;
            if left > Duration::from_micros(100) {
                thread::sleep((left - Duration::from_micros(50)).min(Duration::from_millis(20)));
            } else {
                short_wait();
            }
        }
    }
}

/// A start gate that can be abandoned: `wait` returns false when the run aborts before every
/// thread arrived (a spawn failed, say), where `std::sync::Barrier` would wait forever.
#[derive(Debug)]
struct Gate {
    expected: usize,
    state: Mutex<(usize, bool)>,
    condvar: Condvar,
}

impl Gate {
    fn new(expected: usize) -> Self {
        Self {
            expected,
            state: Mutex::new((0, false)),
            condvar: Condvar::new(),
        }
    }

    fn wait(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        if state.0 >= self.expected {
            self.condvar.notify_all();
        }
        while state.0 < self.expected && !state.1 {
            state = self.condvar.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        !state.1
    }

    fn abandon(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 = true;
        self.condvar.notify_all();
    }
}

/// What a producer hands back when it exits.
struct ProducerOut {
    record: ProducerRecord,
    /// Send tickets by sequence number, when the run logs for an order check.
    sent: Vec<u64>,
    blocked_ns: Option<u64>,
    depth: DepthHistogram,
    fault_fired: bool,
}

/// What a consumer hands back when it exits.
struct ConsumerOut {
    record: ConsumerRecord,
    /// Receives in order with their tickets, when the run logs for an order check.
    receipts: Vec<Receipt>,
    /// The ticket taken before the current receive call.
    ticket: u64,
    latency: Histogram<u64>,
    depth: DepthHistogram,
    blocked_ns: Option<u64>,
    received: u64,
    lost_one: bool,
    fault_fired: bool,
}

enum Role {
    Producer(usize, ProducerOut),
    Consumer(usize, ConsumerOut),
    Sequential(ProducerOut, ConsumerOut),
    Closer,
}

/// How a worker ended.
enum Ending {
    Normal,
    Injected,
    Panicked(String),
}

struct WorkerReport {
    name: String,
    role: Role,
    start_ns: Option<u64>,
    end_ns: u64,
    ending: Ending,
}

/// What a consumer does after taking an item.
enum Step {
    Go,
    Stop,
    Panic,
}

impl ConsumerOut {
    fn new(shared: &Shared) -> Self {
        Self {
            record: shared.ledger.consumer_record(),
            receipts: Vec::new(),
            ticket: 0,
            latency: latency_histogram(),
            depth: DepthHistogram::new(shared.workload.capacity),
            blocked_ns: None,
            received: 0,
            lost_one: false,
            fault_fired: false,
        }
    }

    /// Accounts for one received item and applies delays and faults.
    #[inline]
    fn take<P: Body>(
        &mut self,
        shared: &Shared,
        plan: &FaultPlan,
        slot: usize,
        item: Item<P>,
    ) -> Step {
        if shared.order_check.is_some() {
            self.receipts.push(Receipt {
                ticket: self.ticket,
                producer: item.producer,
                seq: item.seq,
            });
        }
        if plan.consumer_panic_at == Some(self.received) {
            self.record.record_in_hand_at_panic(item.producer, item.seq);
            self.fault_fired = true;
            shared.board.set(slot, WorkerState::Panicked);
            return Step::Panic;
        }
        self.received += 1;
        shared.board.items(slot, self.received);
        if plan.lose_item && !self.lost_one {
            // The verifier's self-test: this item is dropped without being recorded.
            self.lost_one = true;
            self.fault_fired = true;
            return Step::Go;
        }
        item.touch();
        self.record.record(item.producer, item.seq);
        if item.stamp != 0 {
            let sent = item.stamp - 1;
            // An auto-resizing histogram refuses only values beyond `u64` range.
            let _ = self
                .latency
                .record(shared.now_ns().saturating_sub(sent).max(1));
        }
        drop(item);
        let workload = &shared.workload;
        if !workload.consumer_delay.is_zero() {
            shared.board.set(slot, WorkerState::Delaying);
            if !shared.pause(workload.consumer_delay) {
                return Step::Stop;
            }
            shared.board.set(slot, WorkerState::Receiving);
        }
        if let Some((at, stall)) = plan.consumer_stall_at
            && self.received == at
        {
            self.fault_fired = true;
            shared.board.set(slot, WorkerState::StalledByFault);
            let resumed = match stall {
                Stall::For(duration) => shared.pause(duration),
                Stall::Forever => {
                    while !shared.aborted() {
                        thread::sleep(Duration::from_millis(10));
                    }
                    false
                }
            };
            if !resumed {
                return Step::Stop;
            }
            shared.board.set(slot, WorkerState::Receiving);
        }
        Step::Go
    }
}

impl ProducerOut {
    fn new(shared: &Shared) -> Self {
        Self {
            record: shared.ledger.producer_record(),
            sent: Vec::new(),
            blocked_ns: None,
            depth: DepthHistogram::new(shared.workload.capacity),
            fault_fired: false,
        }
    }
}

/// The result of offering one item.
enum Offer<P> {
    Accepted,
    /// Accepted by evicting this older item (`drop-oldest`).
    AcceptedEvicting(Item<P>),
    Refused(Item<P>, Refusal),
}

/// Offers one item according to the policy, timing the blocking part when `blocked` is given.
#[inline]
fn offer<P: Body, T: Producer<Item<P>>>(
    tx: &T,
    item: Item<P>,
    policy: Policy,
    shared: &Shared,
    slot: usize,
    blocked: Option<&mut u64>,
) -> Offer<P> {
    // The board says `Sending` for the whole send loop; only the blocking part is marked, so
    // the fast path publishes nothing but its item count.
    match (policy, blocked) {
        (Policy::Block, None) => match tx.send(item) {
            Ok(()) => Offer::Accepted,
            Err(SendError(item)) => Offer::Refused(item, Refusal::HandedBack),
        },
        (Policy::Block, Some(blocked)) => match tx.try_send(item) {
            Ok(()) => Offer::Accepted,
            Err(TrySendError::Full(item)) => {
                shared.board.set(slot, WorkerState::BlockedOnFull);
                let since = shared.now_ns();
                let sent = tx.send(item);
                *blocked += shared.now_ns() - since;
                shared.board.set(slot, WorkerState::Sending);
                match sent {
                    Ok(()) => Offer::Accepted,
                    Err(SendError(item)) => Offer::Refused(item, Refusal::HandedBack),
                }
            }
            Err(TrySendError::Disconnected(item)) => Offer::Refused(item, Refusal::HandedBack),
        },
        (Policy::Timeout(timeout), blocked) => {
            let first = match blocked {
                Some(_) => tx.try_send(item),
                None => Err(TrySendError::Full(item)),
            };
            match first {
                Ok(()) => Offer::Accepted,
                Err(TrySendError::Disconnected(item)) => Offer::Refused(item, Refusal::HandedBack),
                Err(TrySendError::Full(item)) => {
                    shared.board.set(slot, WorkerState::BlockedOnFull);
                    let since = shared.now_ns();
                    let sent = tx.send_timeout(item, timeout);
                    if let Some(blocked) = blocked {
                        *blocked += shared.now_ns() - since;
                    }
                    shared.board.set(slot, WorkerState::Sending);
                    match sent {
                        Ok(()) => Offer::Accepted,
                        Err(SendTimeoutError::Timeout(item)) => {
                            Offer::Refused(item, Refusal::TimedOut)
                        }
                        Err(SendTimeoutError::Disconnected(item)) => {
                            Offer::Refused(item, Refusal::HandedBack)
                        }
                    }
                }
            }
        }
        (Policy::DropNewest, _) => match tx.try_send(item) {
            Ok(()) => Offer::Accepted,
            Err(TrySendError::Full(item)) => Offer::Refused(item, Refusal::DroppedByPolicy),
            Err(TrySendError::Disconnected(item)) => Offer::Refused(item, Refusal::HandedBack),
        },
        (Policy::DropOldest, _) => {
            let (producer, seq) = (item.producer, item.seq);
            match tx.force_send(item) {
                Ok(None) => Offer::Accepted,
                // At capacity 0 with no receiver waiting, the item itself comes back.
                Ok(Some(old)) if old.producer == producer && old.seq == seq => {
                    Offer::Refused(old, Refusal::ReturnedAsEvicted)
                }
                Ok(Some(old)) => Offer::AcceptedEvicting(old),
                // `run` refuses drop-oldest on backends without it before any thread starts,
                // so `Unsupported` cannot happen; were it to, the producer stops and the
                // ledger reports it stopping early.
                Err(ForceSendError::Disconnected(item) | ForceSendError::Unsupported(item)) => {
                    Offer::Refused(item, Refusal::HandedBack)
                }
            }
        }
    }
}

/// Logs items `first..first + count` as accepted now, when the run keeps a send log (`sent`
/// is then sized to the producer's share).
#[inline]
fn log_sent(shared: &Shared, sent: &mut [u64], first: u64, count: u64) {
    if sent.is_empty() || count == 0 {
        return;
    }
    let ticket = shared.tick();
    for slot in &mut sent[first as usize..(first + count) as usize] {
        *slot = ticket;
    }
}

/// Sends a pending batch. Returns false when the buffer disconnected (the producer stops).
fn flush<P: Body, T: Producer<Item<P>>>(
    shared: &Shared,
    tx: &T,
    batch: &mut Vec<Item<P>>,
    first: u64,
    record: &mut ProducerRecord,
    log: &mut [u64],
) -> bool {
    if batch.is_empty() {
        return true;
    }
    let count = batch.len() as u64;
    match tx.send_batch(batch.drain(..)) {
        Ok(()) => {
            record.accepted(first, count);
            log_sent(shared, log, first, count);
            true
        }
        Err(SendBatchError { sent, unsent }) => {
            record.accepted(first, sent as u64);
            log_sent(shared, log, first, sent as u64);
            for item in &unsent {
                record.refused(item.seq, Refusal::HandedBack);
            }
            false
        }
    }
}

/// The producer loop: sends its share, then returns (dropping its handle).
fn produce<P: Body, T: Producer<Item<P>>>(
    shared: &Shared,
    index: usize,
    tx: T,
    out: &mut ProducerOut,
) {
    let workload = &shared.workload;
    let slot = index;
    let id = index as u32;
    let share = workload.share(index);
    let sample = u64::from(workload.latency_sample_every);
    let batching = workload.batch > 1 && workload.policy == Policy::Block;
    // Kept in `out` as it grows, so a panicking producer still reports it.
    out.blocked_ns = (workload.blocked_time && !batching).then_some(0);
    let plan = if index == 0 {
        shared.plan
    } else {
        FaultPlan::default()
    };
    let mut batch: Vec<Item<P>> = Vec::with_capacity(if batching { workload.batch } else { 0 });
    let mut batch_first = 0;
    // Open loop: item `seq` is due `seq * interval` after this producer's start.
    let interval = workload
        .rate
        .map(|rate| Duration::from_secs_f64(workload.producer_count() as f64 / rate));
    if shared.order_check.is_some() {
        out.sent = vec![NOT_SENT; share as usize];
    }
    let start = Instant::now();
    let start_ns = shared.now_ns();
    shared.board.set(slot, WorkerState::Sending);

    let mut seq = 0;
    // Counts down to the next item that carries a timestamp (a division per item costs more
    // than some handoffs).
    let mut until_sample = 0;
    'items: while seq < share {
        if !workload.producer_delay.is_zero() {
            shared.board.set(slot, WorkerState::Delaying);
            if !shared.pause(workload.producer_delay) {
                break;
            }
            shared.board.set(slot, WorkerState::Sending);
        }
        let sampled = until_sample == 0;
        until_sample = if sampled {
            sample - 1
        } else {
            until_sample - 1
        };
        let stamp = match interval {
            Some(interval) => {
                let due = interval.mul_f64(seq as f64);
                shared.board.set(slot, WorkerState::Delaying);
                if !shared.pace_until(start + due) {
                    break;
                }
                shared.board.set(slot, WorkerState::Sending);
                if sampled {
                    start_ns + due.as_nanos() as u64 + 1
                } else {
                    0
                }
            }
            None if sampled => shared.now_ns() + 1,
            None => 0,
        };
        let priority = item::priority_of(workload.seed, id, seq, workload.priorities);
        if plan.close_storm_at == Some(seq) {
            out.fault_fired = true;
            shared.storm.fire();
        }
        if plan.producer_panic_at == Some(seq) {
            if batching
                && !flush(
                    shared,
                    &tx,
                    &mut batch,
                    batch_first,
                    &mut out.record,
                    &mut out.sent,
                )
            {
                break;
            }
            let in_hand = Item::<P>::new(id, seq, priority, stamp);
            out.record.in_hand_at_panic(in_hand.seq);
            out.fault_fired = true;
            shared.board.set(slot, WorkerState::Panicked);
            inject_panic();
        }
        let item = Item::new(id, seq, priority, stamp);
        if batching {
            if batch.is_empty() {
                batch_first = seq;
            }
            batch.push(item);
            if batch.len() == workload.batch
                && !flush(
                    shared,
                    &tx,
                    &mut batch,
                    batch_first,
                    &mut out.record,
                    &mut out.sent,
                )
            {
                break;
            }
        } else {
            match offer(
                &tx,
                item,
                workload.policy,
                shared,
                slot,
                out.blocked_ns.as_mut(),
            ) {
                Offer::Accepted => {
                    out.record.accepted(seq, 1);
                    log_sent(shared, &mut out.sent, seq, 1);
                }
                Offer::AcceptedEvicting(old) => {
                    out.record.accepted(seq, 1);
                    log_sent(shared, &mut out.sent, seq, 1);
                    out.record.record_eviction(old.producer, old.seq);
                    drop(old);
                }
                Offer::Refused(item, why) => {
                    out.record.refused(item.seq, why);
                    drop(item);
                    if why == Refusal::HandedBack {
                        break 'items;
                    }
                }
            }
        }
        seq += 1;
        shared.board.items(slot, seq);
        if seq.is_multiple_of(DEPTH_SAMPLE_EVERY) {
            out.depth.record(tx.len());
        }
    }
    if batching {
        flush(
            shared,
            &tx,
            &mut batch,
            batch_first,
            &mut out.record,
            &mut out.sent,
        );
    }
    if index == 0 {
        // The storm comes at the latest when producer-1 is done.
        shared.storm.fire();
    }
}

/// The consumer loop: receives until the buffer is empty and disconnected.
fn consume<P: Body, R: Consumer<Item<P>>>(
    shared: &Shared,
    index: usize,
    slot: usize,
    rx: R,
    out: &mut ConsumerOut,
) {
    let workload = &shared.workload;
    let plan = if index == 0 {
        shared.plan
    } else {
        FaultPlan::default()
    };
    if workload.batch > 1 {
        let mut buf = Vec::with_capacity(workload.batch);
        shared.board.set(slot, WorkerState::Receiving);
        loop {
            if shared.order_check.is_some() {
                out.ticket = shared.tick();
            }
            if rx.recv_batch(&mut buf, workload.batch).is_err() {
                break;
            }
            let before = out.received;
            let mut items = buf.drain(..);
            while let Some(item) = items.next() {
                match out.take(shared, &plan, slot, item) {
                    Step::Go => {}
                    Step::Stop => return,
                    Step::Panic => {
                        for rest in items {
                            if shared.order_check.is_some() {
                                out.receipts.push(Receipt {
                                    ticket: out.ticket,
                                    producer: rest.producer,
                                    seq: rest.seq,
                                });
                            }
                            out.record.record_in_hand_at_panic(rest.producer, rest.seq);
                        }
                        inject_panic();
                    }
                }
            }
            if out.received / DEPTH_SAMPLE_EVERY != before / DEPTH_SAMPLE_EVERY {
                out.depth.record(rx.len());
            }
        }
        return;
    }
    out.blocked_ns = workload.blocked_time.then_some(0);
    shared.board.set(slot, WorkerState::Receiving);
    loop {
        if shared.order_check.is_some() {
            out.ticket = shared.tick();
        }
        let item = if let Some(blocked) = out.blocked_ns.as_mut() {
            match rx.try_recv() {
                Ok(item) => item,
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {
                    shared.board.set(slot, WorkerState::BlockedOnEmpty);
                    let since = shared.now_ns();
                    let received = rx.recv();
                    *blocked += shared.now_ns() - since;
                    shared.board.set(slot, WorkerState::Receiving);
                    match received {
                        Ok(item) => item,
                        Err(_) => break,
                    }
                }
            }
        } else {
            match rx.recv() {
                Ok(item) => item,
                Err(_) => break,
            }
        };
        match out.take(shared, &plan, slot, item) {
            Step::Go => {}
            Step::Stop => break,
            Step::Panic => inject_panic(),
        }
        if out.received.is_multiple_of(DEPTH_SAMPLE_EVERY) {
            out.depth.record(rx.len());
        }
    }
}

/// The `seq` workload: one thread fills the buffer (up to capacity), then drains it.
fn sequential<P: Body, T: Producer<Item<P>>, R: Consumer<Item<P>>>(
    shared: &Shared,
    tx: T,
    rx: R,
    producer: &mut ProducerOut,
    consumer: &mut ConsumerOut,
) {
    let workload = &shared.workload;
    let plan = FaultPlan::default();
    let total = workload.messages;
    let sample = u64::from(workload.latency_sample_every);
    let batch_size = workload.batch.min(workload.capacity);
    let mut batch: Vec<Item<P>> = Vec::with_capacity(batch_size);
    let mut buf: Vec<Item<P>> = Vec::with_capacity(batch_size);
    let mut first = 0;
    let mut until_sample = 0;
    if shared.order_check.is_some() {
        producer.sent = vec![NOT_SENT; total as usize];
    }
    while first < total {
        let count = (workload.capacity as u64).min(total - first);
        // Fill: the buffer is empty, so none of these sends blocks.
        let mut batch_first = first;
        for seq in first..first + count {
            let sampled = until_sample == 0;
            until_sample = if sampled {
                sample - 1
            } else {
                until_sample - 1
            };
            let stamp = if sampled { shared.now_ns() + 1 } else { 0 };
            let priority = item::priority_of(workload.seed, 0, seq, workload.priorities);
            let item = Item::new(0, seq, priority, stamp);
            if batch_size > 1 {
                if batch.is_empty() {
                    batch_first = seq;
                }
                batch.push(item);
                if batch.len() == batch_size
                    && !flush(
                        shared,
                        &tx,
                        &mut batch,
                        batch_first,
                        &mut producer.record,
                        &mut producer.sent,
                    )
                {
                    return;
                }
            } else {
                match tx.send(item) {
                    Ok(()) => {
                        producer.record.accepted(seq, 1);
                        log_sent(shared, &mut producer.sent, seq, 1);
                    }
                    Err(SendError(item)) => {
                        producer.record.refused(item.seq, Refusal::HandedBack);
                        return;
                    }
                }
            }
        }
        if !flush(
            shared,
            &tx,
            &mut batch,
            batch_first,
            &mut producer.record,
            &mut producer.sent,
        ) {
            return;
        }
        producer.depth.record(tx.len());
        // Drain what was just sent.
        let mut left = count;
        while left > 0 {
            if batch_size > 1 {
                let max = batch_size.min(left as usize);
                if shared.order_check.is_some() {
                    consumer.ticket = shared.tick();
                }
                if rx.recv_batch(&mut buf, max).is_err() {
                    return;
                }
                left = left.saturating_sub(buf.len() as u64);
                for item in buf.drain(..) {
                    consumer.take(shared, &plan, 0, item);
                }
            } else {
                if shared.order_check.is_some() {
                    consumer.ticket = shared.tick();
                }
                match rx.recv() {
                    Ok(item) => {
                        consumer.take(shared, &plan, 0, item);
                        left -= 1;
                    }
                    Err(_) => return,
                }
            }
        }
        first += count;
    }
}

/// The close storm: wait for the moment, meet the other closers, close, drop the handle.
fn close_storm<H: buffer_api::Handle>(shared: &Shared, slot: usize, handle: H) {
    shared.board.set(slot, WorkerState::WaitingToClose);
    if !shared.storm.wait(|| shared.aborted()) || !shared.closers_meet.wait() {
        return;
    }
    shared.board.set(slot, WorkerState::Closing);
    if handle.close() {
        shared.closes_returning_true.fetch_add(1, Ordering::Relaxed);
    }
}

/// Spawns one worker: waits at the start gate, runs `body` under `catch_unwind` (so records in
/// `out` survive a panic), counts the payload drops on this thread and reports.
fn spawn_worker<O: Send + 'static>(
    shared: &Arc<Shared>,
    name: String,
    slot: usize,
    out: O,
    reports: mpsc::Sender<WorkerReport>,
    role: impl FnOnce(O) -> Role + Send + 'static,
    body: impl FnOnce(&Shared, &mut O) + Send + 'static,
) -> std::io::Result<JoinHandle<()>> {
    let shared = Arc::clone(shared);
    thread::Builder::new().name(name.clone()).spawn(move || {
        let drops_before = item::drops_on_this_thread();
        let mut out = out;
        let mut start_ns = None;
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            if shared.start.wait() {
                start_ns = Some(shared.now_ns());
                body(&shared, &mut out);
            }
        }));
        let end_ns = shared.now_ns();
        let ending = match result {
            Ok(()) => Ending::Normal,
            Err(payload) if payload.is::<InjectedPanic>() => Ending::Injected,
            Err(payload) => Ending::Panicked(panic_message(payload.as_ref())),
        };
        shared.board.set(
            slot,
            match ending {
                Ending::Normal => WorkerState::Finished,
                _ => WorkerState::Panicked,
            },
        );
        let drops = item::drops_on_this_thread() - drops_before;
        shared.drops.fetch_add(drops, Ordering::Relaxed);
        // The receiver is gone only if the run was abandoned; nobody is left to tell.
        let _ = reports.send(WorkerReport {
            name,
            role: role(out),
            start_ns,
            end_ns,
            ending,
        });
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// The watchdog's timeout for a workload: its own, plus every wait the workload asks for.
fn watchdog_timeout(workload: &Workload) -> Duration {
    let pacing = workload.rate.map_or(Duration::ZERO, |rate| {
        Duration::try_from_secs_f64(workload.producer_count() as f64 / rate)
            .unwrap_or(Duration::MAX)
    });
    let stall = match workload.fault {
        Some(Fault::ConsumerStall {
            stall: Stall::For(d),
        }) => d,
        _ => Duration::ZERO,
    };
    workload
        .watchdog
        .saturating_add(workload.producer_delay)
        .saturating_add(workload.consumer_delay)
        .saturating_add(pacing)
        .saturating_add(stall)
}

/// One run: build, spawn, release, wait (watching), join, verify.
fn run_once<B: Backend, P: Body>(
    workload: &Workload,
    index: usize,
) -> Result<RunOutcome, RunError> {
    let main_drops_before = item::drops_on_this_thread();
    let (tx, rx) = B::bounded::<Item<P>>(workload.capacity).map_err(RunError::Capacity)?;
    let plan = FaultPlan::new(workload, workload.seed.wrapping_add(index as u64));
    let producers = workload.producer_count();
    let consumers = workload.consumer_count();
    let closers = plan.closers;
    let mut names: Vec<String> = if workload.sequential {
        vec!["seq-1".to_owned()]
    } else {
        (0..producers)
            .map(|i| workload.producer_name(i))
            .chain((0..consumers).map(|i| workload.consumer_name(i)))
            .collect()
    };
    names.extend((0..closers).map(|i| format!("closer-{}", i + 1)));
    let threads = names.len();
    let checks = OrderChecks::for_run(&B::CAPABILITIES, producers, consumers, workload.priorities);
    let shared = Arc::new(Shared {
        workload: workload.clone(),
        plan,
        ledger: Ledger::new(workload.shares(), checks.per_producer),
        epoch: Instant::now(),
        start: Gate::new(threads),
        board: Board::new(names.clone()),
        abort: AtomicBool::new(false),
        drops: AtomicU64::new(0),
        storm: Trigger::default(),
        closers_meet: Gate::new(closers),
        closes_returning_true: AtomicU64::new(0),
        order_check: checks.logged,
        clock: AtomicU64::new(0),
    });

    // One handle per thread, cloned before any thread starts, so the originals can go first.
    let producer_handles: Vec<_> = (0..producers).map(|_| tx.clone()).collect();
    let consumer_handles: Vec<_> = (0..consumers).map(|_| rx.clone()).collect();
    let closer_producers: Vec<_> = (0..closers.div_ceil(2)).map(|_| tx.clone()).collect();
    let closer_consumers: Vec<_> = (0..closers / 2).map(|_| rx.clone()).collect();
    drop(tx);
    drop(rx);

    let (report_tx, report_rx) = mpsc::channel();
    let cpu_before = CpuTime::now();
    let mut handles = Vec::with_capacity(threads);
    let mut spawn = |result: std::io::Result<JoinHandle<()>>| -> Result<(), RunError> {
        match result {
            Ok(handle) => {
                handles.push(handle);
                Ok(())
            }
            Err(e) => {
                shared.abort.store(true, Ordering::Relaxed);
                shared.start.abandon();
                Err(RunError::Spawn(e))
            }
        }
    };
    if workload.sequential {
        let mut producer_handles = producer_handles;
        let mut consumer_handles = consumer_handles;
        let (tx, rx) = (producer_handles.remove(0), consumer_handles.remove(0));
        spawn(spawn_worker(
            &shared,
            names[0].clone(),
            0,
            (ProducerOut::new(&shared), ConsumerOut::new(&shared)),
            report_tx.clone(),
            |(p, c)| Role::Sequential(p, c),
            move |shared, (p, c)| sequential(shared, tx, rx, p, c),
        ))?;
    } else {
        for (i, tx) in producer_handles.into_iter().enumerate() {
            spawn(spawn_worker(
                &shared,
                names[i].clone(),
                i,
                ProducerOut::new(&shared),
                report_tx.clone(),
                move |out| Role::Producer(i, out),
                move |shared, out| produce(shared, i, tx, out),
            ))?;
        }
        for (i, rx) in consumer_handles.into_iter().enumerate() {
            let slot = producers + i;
            spawn(spawn_worker(
                &shared,
                names[slot].clone(),
                slot,
                ConsumerOut::new(&shared),
                report_tx.clone(),
                move |out| Role::Consumer(i, out),
                move |shared, out| consume(shared, i, slot, rx, out),
            ))?;
        }
    }
    let first_closer = threads - closers;
    let mut closer_slots = first_closer..threads;
    for tx in closer_producers {
        let slot = closer_slots.next().unwrap_or(first_closer);
        spawn(spawn_worker(
            &shared,
            names[slot].clone(),
            slot,
            (),
            report_tx.clone(),
            |()| Role::Closer,
            move |shared, ()| close_storm(shared, slot, tx),
        ))?;
    }
    for rx in closer_consumers {
        let slot = closer_slots.next().unwrap_or(first_closer);
        spawn(spawn_worker(
            &shared,
            names[slot].clone(),
            slot,
            (),
            report_tx.clone(),
            |()| Role::Closer,
            move |shared, ()| close_storm(shared, slot, rx),
        ))?;
    }
    drop(report_tx);

    let mut reports = Vec::with_capacity(threads);
    let mut watchdog = Watchdog::new(watchdog_timeout(workload));
    while reports.len() < threads {
        match report_rx.recv_timeout(TICK) {
            Ok(report) => reports.push(report),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if let Some(report) = watchdog.check(&shared.board) {
            // Release every wait the harness controls; threads stuck inside the backend are
            // left behind, detached.
            shared.abort.store(true, Ordering::Relaxed);
            shared.start.abandon();
            shared.closers_meet.abandon();
            shared.storm.fire();
            let deadline = Instant::now() + ABORT_GRACE;
            while reports.len() < threads {
                let left = deadline.saturating_duration_since(Instant::now());
                match report_rx.recv_timeout(left) {
                    Ok(report) => reports.push(report),
                    Err(_) => break,
                }
            }
            for handle in handles {
                if handle.is_finished() {
                    let _ = handle.join();
                }
            }
            return Err(RunError::Watchdog(report));
        }
    }
    for handle in handles {
        // Workers catch their own panics, so joining cannot fail.
        let _ = handle.join();
    }
    let cpu = match (cpu_before, CpuTime::now()) {
        (Some(before), Some(after)) => Some(after.since(&before)),
        _ => None,
    };
    let main_drops = item::drops_on_this_thread() - main_drops_before;
    Ok(settle(
        &shared,
        reports,
        cpu,
        shared.drops.load(Ordering::Relaxed) + main_drops,
    ))
}

/// Turns the workers' reports into a run outcome, verified.
fn settle(
    shared: &Shared,
    reports: Vec<WorkerReport>,
    cpu: Option<CpuTime>,
    payloads_dropped: u64,
) -> RunOutcome {
    let workload = &shared.workload;
    let mut producers: Vec<Option<ProducerOut>> =
        (0..workload.producer_count()).map(|_| None).collect();
    let mut consumers: Vec<Option<ConsumerOut>> =
        (0..workload.consumer_count()).map(|_| None).collect();
    let mut start = u64::MAX;
    let mut end = 0;
    let mut extra = Vec::new();
    let mut consumer_panics = 0;
    let mut producer_panics = 0;
    let (mut send_start, mut send_end) = (u64::MAX, 0);
    for report in reports {
        let is_closer = matches!(report.role, Role::Closer);
        if !is_closer && let Some(s) = report.start_ns {
            start = start.min(s);
            end = end.max(report.end_ns);
            if matches!(report.role, Role::Producer(..) | Role::Sequential(..)) {
                send_start = send_start.min(s);
                send_end = send_end.max(report.end_ns);
            }
        }
        match (&report.ending, &report.role) {
            (Ending::Injected, Role::Consumer(..)) => consumer_panics += 1,
            (Ending::Injected, Role::Producer(..)) => producer_panics += 1,
            (Ending::Panicked(message), _) => extra.push(Violation::Panicked {
                thread: report.name.clone(),
                message: message.clone(),
            }),
            _ => {}
        }
        match report.role {
            Role::Producer(i, out) => producers[i] = Some(out),
            Role::Consumer(i, out) => consumers[i] = Some(out),
            Role::Sequential(p, c) => {
                producers[0] = Some(p);
                consumers[0] = Some(c);
            }
            Role::Closer => {}
        }
    }
    let producers: Vec<ProducerOut> = producers
        .into_iter()
        .map(|p| p.unwrap_or_else(|| ProducerOut::new(shared)))
        .collect();
    let consumers: Vec<ConsumerOut> = consumers
        .into_iter()
        .map(|c| c.unwrap_or_else(|| ConsumerOut::new(shared)))
        .collect();
    if shared.plan.closers > 0 {
        let returned_true = shared.closes_returning_true.load(Ordering::Relaxed);
        if returned_true != 1 {
            extra.push(Violation::CloseCount { returned_true });
        }
    }
    let consumers_all_gone = consumer_panics == consumers.len();
    let fault_fired = producers.iter().any(|p| p.fault_fired)
        || consumers.iter().any(|c| c.fault_fired)
        || shared.plan.closers > 0;
    extra.extend(check_order(shared, &producers, &consumers));
    let facts = RunFacts {
        payloads_dropped,
        consumers_all_gone,
        early_stop_allowed: consumers_all_gone || producer_panics > 0 || shared.plan.closers > 0,
        extra,
        order_check: shared.order_check,
    };
    let producer_records: Vec<&ProducerRecord> = producers.iter().map(|p| &p.record).collect();
    let consumer_records: Vec<&ConsumerRecord> = consumers.iter().map(|c| &c.record).collect();
    let verification = shared
        .ledger
        .verify(&producer_records, &consumer_records, facts);
    RunOutcome {
        wall_ns: end.saturating_sub(start.min(end)),
        send_ns: send_end.saturating_sub(send_start.min(send_end)),
        cpu,
        producers,
        consumers,
        verification,
        fault_fired,
    }
}

/// The run's order check from its send and receive log (see [`crate::verify`]).
fn check_order(
    shared: &Shared,
    producers: &[ProducerOut],
    consumers: &[ConsumerOut],
) -> Vec<Violation> {
    let workload = &shared.workload;
    match (shared.order_check, consumers) {
        (Some(OrderCheck::Priority), [consumer]) => {
            let sent: Vec<Vec<u64>> = producers.iter().map(|p| p.sent.clone()).collect();
            verify::check_priority(
                &sent,
                &consumer.receipts,
                workload.priorities,
                |producer, seq| {
                    item::priority_of(workload.seed, producer, seq, workload.priorities)
                },
            )
        }
        (Some(OrderCheck::Lifo), [consumer]) => match producers {
            [producer] => verify::check_lifo(&producer.sent, &consumer.receipts),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Checks the workload's capacity the way every backend does, for the workload's item type,
/// without building a buffer: a capacity too large to allocate is refused here, before any
/// backend runs. Capacity 0 passes; whether a backend has rendezvous is its own question.
///
/// # Errors
///
/// [`CapacityError::TooLarge`].
pub fn check_capacity(workload: &Workload) -> Result<(), CapacityError> {
    let any = buffer_api::Capabilities {
        rendezvous: true,
        close: buffer_api::Support::Native,
        batch: buffer_api::Support::Native,
        discipline: buffer_api::Discipline::Fifo,
        buffered_drop: buffer_api::BufferedDrop::OnLastConsumer,
        drop_oldest: true,
    };
    let capacity = workload.capacity;
    match workload.payload {
        Payload::U64 => buffer_api::check_capacity::<Item<u64>>("harness", &any, capacity),
        Payload::Bytes64 => buffer_api::check_capacity::<Item<[u8; 64]>>("harness", &any, capacity),
        Payload::Boxed4K => {
            buffer_api::check_capacity::<Item<Box<[u8; 4096]>>>("harness", &any, capacity)
        }
    }
}

#[cfg(test)]
mod tests {
    use buffer_api::{Capabilities, Discipline};
    use buffer_condvar::Condvar;

    use super::*;

    /// A FIFO buffer that declares another discipline: the order checks must catch it.
    struct Mislabelled<const LIFO: bool>;

    impl<const LIFO: bool> Backend for Mislabelled<LIFO> {
        const NAME: &'static str = "mislabelled";
        const CAPABILITIES: Capabilities = Capabilities {
            discipline: if LIFO {
                Discipline::Lifo
            } else {
                Discipline::Priority
            },
            ..Condvar::CAPABILITIES
        };
        type Producer<T: Send + 'static> = <Condvar as Backend>::Producer<T>;
        type Consumer<T: Send + 'static> = <Condvar as Backend>::Consumer<T>;

        fn bounded<T: Send + 'static>(
            capacity: usize,
        ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
            Condvar::bounded(capacity)
        }
    }

    /// The seq workload fills the buffer, then drains it: the order is deterministic.
    fn seq(capacity: usize, messages: u64) -> Workload {
        Workload::new()
            .topology(crate::spec::Topology::Seq)
            .capacity(capacity)
            .messages(messages)
            .repeats(1)
            .warmup(0)
    }

    #[test]
    fn a_fifo_buffer_declared_lifo_fails_the_lifo_check() {
        let m = run::<Mislabelled<true>>(&seq(4, 8)).unwrap();
        let v = &m.verification;
        assert!(!v.ok);
        // Each fill of 4 leaves as 0, 1, 2, 3: the first three of each are taken too early.
        assert_eq!(v.violation_count, 6);
        assert_eq!(
            v.violations[..2],
            [
                Violation::LifoOrder { seq: 0, newer: 1 },
                Violation::LifoOrder { seq: 1, newer: 2 },
            ]
        );
        assert_eq!(v.delivered, 8);
    }

    #[test]
    fn a_fifo_buffer_declared_priority_fails_the_priority_check() {
        let w = seq(4, 64).priorities(10);
        let m = run::<Mislabelled<false>>(&w).unwrap();
        let v = &m.verification;
        // The same rule by brute force: within each fill of 4, an item received before a
        // higher-priority item of the same fill is an inversion.
        let priority = |seq| item::priority_of(w.seed, 0, seq, 10);
        let expected = (0..64u64)
            .filter(|&seq| {
                let fill_end = (seq / 4 + 1) * 4;
                (seq + 1..fill_end).any(|later| priority(later) > priority(seq))
            })
            .count() as u64;
        assert!(expected > 0);
        assert!(!v.ok);
        assert_eq!(v.violation_count, expected);
        assert!(
            v.violations
                .iter()
                .all(|x| matches!(x, Violation::PriorityInversion { .. })),
            "{:?}",
            v.violations
        );
    }

    #[test]
    fn the_real_disciplines_pass_their_checks() {
        let m = run::<buffer_condvar::CondvarLifo>(&seq(4, 64)).unwrap();
        assert!(m.verification.ok, "{}", m.verification.summary());
        assert_eq!(m.verification.discipline_checked, Some(OrderCheck::Lifo));
        let m =
            run::<buffer_condvar::CondvarPriority<item::ItemPriority>>(&seq(4, 64).priorities(10))
                .unwrap();
        assert!(m.verification.ok, "{}", m.verification.summary());
        assert_eq!(
            m.verification.discipline_checked,
            Some(OrderCheck::Priority)
        );
        assert!(!m.verification.order_checked);
    }
}
