//! The producer loop: sends its share according to the policy (or in batches), paced to the
//! open-loop rate when there is one, and records every item's fate.

use std::time::{Duration, Instant};

use buffer_api::{
    ForceSendError, Producer, SendBatchError, SendError, SendTimeoutError, TrySendError,
};

use super::fault::{FaultPlan, inject_panic};
use super::item::{self, Body, Item};
use super::shared::{Sampler, Shared};
use super::watchdog::WorkerState;
use crate::measure::{DEPTH_SAMPLE_EVERY, DepthHistogram};
use crate::spec::Policy;
use crate::verify::{NOT_SENT, ProducerRecord, Refusal};

/// What a producer keeps while it runs and hands over when it exits.
pub(super) struct ProducerLog {
    pub(super) record: ProducerRecord,
    /// Send tickets by sequence number, when the run logs for an order check.
    pub(super) sent: Vec<u64>,
    /// Send times (ns since the epoch) of the sampled items, in order: entry `k` is item
    /// `k * latency_sample_every`.
    pub(super) sent_at: Vec<u64>,
    pub(super) blocked_ns: Option<u64>,
    pub(super) depth: DepthHistogram,
    pub(super) fault_fired: bool,
}

impl ProducerLog {
    pub(super) fn new(shared: &Shared) -> Self {
        Self {
            record: shared.ledger.producer_record(),
            sent: Vec::new(),
            sent_at: Vec::new(),
            blocked_ns: None,
            depth: DepthHistogram::new(shared.workload.capacity),
            fault_fired: false,
        }
    }

    /// Logs items `first..first + count` as accepted now, when the run keeps a send log
    /// (`sent` is then sized to the producer's share).
    #[inline]
    pub(super) fn log_sent(&mut self, shared: &Shared, first: u64, count: u64) {
        if self.sent.is_empty() || count == 0 {
            return;
        }
        let ticket = shared.tick();
        for slot in &mut self.sent[first as usize..(first + count) as usize] {
            *slot = ticket;
        }
    }

    /// Reserves the send-time log for a share of `share` items timed every `every`-th, so it
    /// does not grow while the run is timed.
    pub(super) fn reserve_send_times(&mut self, share: u64, every: u32) {
        let samples = share.div_ceil(u64::from(every.max(1)));
        self.sent_at
            .reserve_exact(usize::try_from(samples).unwrap_or(usize::MAX));
    }

    /// Items `first..first + count` were accepted.
    #[inline]
    pub(super) fn accepted(&mut self, shared: &Shared, first: u64, count: u64) {
        self.record.accepted(first, count);
        self.log_sent(shared, first, count);
    }
}

/// The result of offering one item.
enum Offer<P> {
    Accepted,
    /// Accepted by evicting this older item (`drop-oldest`).
    AcceptedEvicting(Item<P>),
    Refused(Item<P>, Refusal),
}

/// Where one blocking call goes: the worker's board slot, and its blocked-time account when
/// blocked time is measured.
struct Blocking<'a> {
    shared: &'a Shared,
    slot: usize,
    blocked: Option<&'a mut u64>,
}

impl Blocking<'_> {
    /// Runs a blocking send marked on the board (and timed, when measured). The board says
    /// `Sending` for the whole send loop; only the blocking part is marked, so the fast path
    /// publishes nothing but its item count.
    fn around<R>(&mut self, send: impl FnOnce() -> R) -> R {
        self.shared.board.set(self.slot, WorkerState::BlockedOnFull);
        let since = self.shared.now_ns();
        let result = send();
        if let Some(blocked) = self.blocked.as_deref_mut() {
            *blocked += self.shared.now_ns() - since;
        }
        self.shared.board.set(self.slot, WorkerState::Sending);
        result
    }
}

/// Offers one item according to the policy, timing the blocking part when measured.
#[inline]
fn offer<P: Body, T: Producer<Item<P>>>(
    tx: &T,
    item: Item<P>,
    policy: Policy,
    mut blocking: Blocking<'_>,
) -> Offer<P> {
    let measured = blocking.blocked.is_some();
    match policy {
        Policy::Block if !measured => match tx.send(item) {
            Ok(()) => Offer::Accepted,
            Err(SendError(item)) => Offer::Refused(item, Refusal::HandedBack),
        },
        Policy::Block => match tx.try_send(item) {
            Ok(()) => Offer::Accepted,
            Err(TrySendError::Full(item)) => match blocking.around(|| tx.send(item)) {
                Ok(()) => Offer::Accepted,
                Err(SendError(item)) => Offer::Refused(item, Refusal::HandedBack),
            },
            Err(TrySendError::Disconnected(item)) => Offer::Refused(item, Refusal::HandedBack),
        },
        Policy::Timeout(timeout) => offer_timeout(tx, item, timeout, blocking),
        Policy::DropNewest => match tx.try_send(item) {
            Ok(()) => Offer::Accepted,
            Err(TrySendError::Full(item)) => Offer::Refused(item, Refusal::DroppedByPolicy),
            Err(TrySendError::Disconnected(item)) => Offer::Refused(item, Refusal::HandedBack),
        },
        Policy::DropOldest => offer_drop_oldest(tx, item),
    }
}

/// `send_timeout`, tried first without blocking when blocked time is measured.
fn offer_timeout<P: Body, T: Producer<Item<P>>>(
    tx: &T,
    item: Item<P>,
    timeout: Duration,
    mut blocking: Blocking<'_>,
) -> Offer<P> {
    let first = match blocking.blocked {
        Some(_) => tx.try_send(item),
        None => Err(TrySendError::Full(item)),
    };
    match first {
        Ok(()) => Offer::Accepted,
        Err(TrySendError::Disconnected(item)) => Offer::Refused(item, Refusal::HandedBack),
        Err(TrySendError::Full(item)) => match blocking.around(|| tx.send_timeout(item, timeout)) {
            Ok(()) => Offer::Accepted,
            Err(SendTimeoutError::Timeout(item)) => Offer::Refused(item, Refusal::TimedOut),
            Err(SendTimeoutError::Disconnected(item)) => Offer::Refused(item, Refusal::HandedBack),
        },
    }
}

/// `force_send`: in by evicting the oldest buffered item.
fn offer_drop_oldest<P: Body, T: Producer<Item<P>>>(tx: &T, item: Item<P>) -> Offer<P> {
    let (producer, seq) = (item.producer(), item.seq());
    match tx.force_send(item) {
        Ok(None) => Offer::Accepted,
        // At capacity 0 with no receiver waiting, the item itself comes back.
        Ok(Some(old)) if old.producer() == producer && old.seq() == seq => {
            Offer::Refused(old, Refusal::ReturnedAsEvicted)
        }
        Ok(Some(old)) => Offer::AcceptedEvicting(old),
        // `run` refuses drop-oldest on backends without it before any thread starts, so
        // `Unsupported` cannot happen; were it to, the producer stops and the ledger reports
        // it stopping early.
        Err(ForceSendError::Disconnected(item) | ForceSendError::Unsupported(item)) => {
            Offer::Refused(item, Refusal::HandedBack)
        }
    }
}

/// Sends a pending batch whose first item is `first`. Returns false when the buffer
/// disconnected (the producer stops).
pub(super) fn flush<P: Body, T: Producer<Item<P>>>(
    shared: &Shared,
    tx: &T,
    batch: &mut Vec<Item<P>>,
    first: u64,
    out: &mut ProducerLog,
) -> bool {
    if batch.is_empty() {
        return true;
    }
    let count = batch.len() as u64;
    match tx.send_batch(batch.drain(..)) {
        Ok(()) => {
            out.accepted(shared, first, count);
            true
        }
        Err(SendBatchError { sent, unsent }) => {
            out.accepted(shared, first, sent as u64);
            for item in &unsent {
                out.record.refused(item.seq(), Refusal::HandedBack);
            }
            false
        }
    }
}

/// The run was aborted while a producer waited.
struct Aborted;

/// One producer's sending state: its handle, its pending batch, its clock.
struct Sender<'a, P, T> {
    shared: &'a Shared,
    tx: &'a T,
    slot: usize,
    batching: bool,
    batch: Vec<Item<P>>,
    batch_first: u64,
    /// Open loop: item `seq` is due `seq * interval` after this producer's start.
    interval: Option<Duration>,
    start: Instant,
    start_ns: u64,
    sampler: Sampler,
}

impl<P: Body, T: Producer<Item<P>>> Sender<'_, P, T> {
    /// Waits for item `seq`'s scheduled time on an open loop; returns its send time when it is
    /// sampled (on an open loop, the scheduled time), or `Err(Aborted)` if the run was aborted
    /// meanwhile.
    fn pace(&mut self, seq: u64) -> Result<Option<u64>, Aborted> {
        let sampled = self.sampler.next();
        let shared = self.shared;
        match self.interval {
            Some(interval) => {
                let due = interval.mul_f64(seq as f64);
                shared.board.set(self.slot, WorkerState::Delaying);
                if !shared.pace_until(self.start + due) {
                    return Err(Aborted);
                }
                shared.board.set(self.slot, WorkerState::Sending);
                Ok(sampled.then(|| self.start_ns + due.as_nanos() as u64))
            }
            None => Ok(sampled.then(|| shared.now_ns())),
        }
    }

    fn flush(&mut self, out: &mut ProducerLog) -> bool {
        flush(self.shared, self.tx, &mut self.batch, self.batch_first, out)
    }

    /// Sends one item, in a batch or alone; false when the producer must stop.
    fn send(&mut self, item: Item<P>, out: &mut ProducerLog) -> bool {
        let workload = &self.shared.workload;
        let seq = item.seq();
        if self.batching {
            if self.batch.is_empty() {
                self.batch_first = seq;
            }
            self.batch.push(item);
            return self.batch.len() < workload.batch || self.flush(out);
        }
        let blocking = Blocking {
            shared: self.shared,
            slot: self.slot,
            blocked: out.blocked_ns.as_mut(),
        };
        match offer(self.tx, item, workload.policy, blocking) {
            Offer::Accepted => out.accepted(self.shared, seq, 1),
            Offer::AcceptedEvicting(old) => {
                out.accepted(self.shared, seq, 1);
                out.record.record_eviction(old.producer(), old.seq());
                drop(old);
            }
            Offer::Refused(item, why) => {
                out.record.refused(item.seq(), why);
                drop(item);
                return why != Refusal::HandedBack;
            }
        }
        true
    }
}

/// The producer loop: sends its share, then returns (dropping its handle).
pub(super) fn produce<P: Body, T: Producer<Item<P>>>(
    shared: &Shared,
    index: usize,
    tx: T,
    out: &mut ProducerLog,
) {
    let workload = &shared.workload;
    let slot = index;
    let id = index as u32;
    let share = workload.share(index);
    let batching = workload.batch > 1 && workload.policy == Policy::Block;
    // Kept in `out` as it grows, so a panicking producer still reports it.
    out.blocked_ns = (workload.blocked_time && !batching).then_some(0);
    let plan = if index == 0 {
        shared.plan
    } else {
        FaultPlan::default()
    };
    if shared.order_check.is_some() {
        out.sent = vec![NOT_SENT; share as usize];
    }
    out.reserve_send_times(share, workload.latency_sample_every);
    let mut sender = Sender {
        shared,
        tx: &tx,
        slot,
        batching,
        batch: Vec::with_capacity(if batching { workload.batch } else { 0 }),
        batch_first: 0,
        interval: workload
            .rate
            .map(|rate| Duration::from_secs_f64(workload.producer_count() as f64 / rate)),
        start: Instant::now(),
        start_ns: shared.now_ns(),
        sampler: Sampler::new(workload.latency_sample_every),
    };
    shared.board.set(slot, WorkerState::Sending);
    let mut seq = 0;
    while seq < share {
        if !shared.delay(slot, workload.producer_delay, WorkerState::Sending) {
            break;
        }
        let Ok(sent_at) = sender.pace(seq) else {
            break;
        };
        let priority = item::priority_of(workload.seed, id, seq, workload.priorities);
        let sampled = sent_at.is_some();
        out.sent_at.extend(sent_at);
        if plan.close_storm_at == Some(seq) {
            out.fault_fired = true;
            shared.storm.fire();
        }
        if plan.producer_panic_at == Some(seq) {
            if batching && !sender.flush(out) {
                break;
            }
            let in_hand = Item::<P>::new(id, seq, priority, sampled);
            out.record.in_hand_at_panic(in_hand.seq());
            out.fault_fired = true;
            shared.board.set(slot, WorkerState::Panicked);
            inject_panic();
        }
        if !sender.send(Item::new(id, seq, priority, sampled), out) {
            break;
        }
        seq += 1;
        shared.board.items(slot, seq);
        if seq.is_multiple_of(DEPTH_SAMPLE_EVERY) {
            out.depth.record(tx.len());
        }
    }
    if batching {
        sender.flush(out);
    }
    if index == 0 {
        // The storm comes at the latest when producer-1 is done.
        shared.storm.fire();
    }
}
