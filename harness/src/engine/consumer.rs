//! The consumer loop: receives until the buffer is empty and disconnected, records every item,
//! logs when the sampled ones arrived, and applies the consumer delay and the consumer faults.

use std::thread;
use std::time::Duration;

use buffer_api::{Consumer, TryRecvError};

use super::fault::{FaultPlan, inject_panic};
use super::item::{Body, Item};
use super::latency::Arrival;
use super::shared::Shared;
use super::watchdog::WorkerState;
use crate::measure::{DEPTH_SAMPLE_EVERY, DepthHistogram};
use crate::spec::Stall;
use crate::verify::{ConsumerRecord, Receipt};

/// What a consumer keeps while it runs and hands over when it exits.
pub(super) struct ConsumerLog {
    pub(super) record: ConsumerRecord,
    /// Receives in order with their tickets, when the run logs for an order check.
    pub(super) receipts: Vec<Receipt>,
    /// The ticket taken before the current receive call.
    pub(super) ticket: u64,
    /// The sampled items received, for the latency histogram built after the run.
    pub(super) arrivals: Vec<Arrival>,
    pub(super) depth: DepthHistogram,
    pub(super) blocked_ns: Option<u64>,
    pub(super) received: u64,
    pub(super) fault_fired: bool,
    /// This consumer's simulated work after each receive.
    delay: Duration,
}

/// The sampled items an even consumer share holds, with room for an uneven one: reserved up
/// front so the log rarely grows while the run is timed.
fn expected_arrivals(workload: &crate::spec::Workload) -> usize {
    let every = u64::from(workload.latency_sample_every.max(1));
    let share = workload.messages / workload.consumer_count().max(1) as u64;
    usize::try_from(share / every * 2 + 16).unwrap_or(usize::MAX)
}

/// What a consumer does after taking an item.
pub(super) enum Step {
    Go,
    Stop,
    Panic,
}

impl ConsumerLog {
    /// The log of consumer `index` (0-based; the sequential worker is consumer 0).
    pub(super) fn new(shared: &Shared, index: usize) -> Self {
        Self {
            record: shared.ledger.consumer_record(),
            receipts: Vec::new(),
            ticket: 0,
            arrivals: Vec::with_capacity(expected_arrivals(&shared.workload)),
            depth: DepthHistogram::new(shared.workload.capacity),
            blocked_ns: None,
            received: 0,
            fault_fired: false,
            delay: shared.workload.consumer_delay.of(index),
        }
    }

    /// Takes a ticket before a receive call, when the run keeps a log.
    #[inline]
    pub(super) fn before_receive(&mut self, shared: &Shared) {
        if shared.order_check.is_some() {
            self.ticket = shared.tick();
        }
    }

    /// Logs the receipt of `producer`'s item `seq`, when the run keeps a log.
    #[inline]
    fn log_receipt(&mut self, shared: &Shared, producer: u32, seq: u64) {
        if shared.order_check.is_some() {
            self.receipts.push(Receipt {
                ticket: self.ticket,
                producer,
                seq,
            });
        }
    }

    /// Accounts for one received item and applies delays and faults.
    #[inline]
    pub(super) fn take<P: Body>(
        &mut self,
        shared: &Shared,
        plan: &FaultPlan,
        slot: usize,
        item: Item<P>,
    ) -> Step {
        let (producer, seq) = (item.producer(), item.seq());
        self.log_receipt(shared, producer, seq);
        if plan.consumer_panic_at == Some(self.received) && shared.claim_consumer_fault() {
            self.record.record_in_hand_at_panic(producer, seq);
            self.fault_fired = true;
            shared.board.set(slot, WorkerState::Panicked);
            return Step::Panic;
        }
        self.received += 1;
        shared.board.items(slot, self.received);
        if plan.lose_item && self.received == 1 && shared.claim_consumer_fault() {
            // The verifier's self-test: this item is dropped without being recorded.
            self.fault_fired = true;
            return Step::Go;
        }
        item.touch();
        self.record.record(producer, seq);
        if item.sampled() {
            self.arrivals.push(Arrival {
                producer,
                seq,
                at_ns: shared.now_ns(),
            });
        }
        drop(item);
        if !shared.delay(slot, self.delay, WorkerState::Receiving) {
            return Step::Stop;
        }
        if let Some((at, stall)) = plan.consumer_stall_at
            && self.received == at
            && shared.claim_consumer_fault()
            && !self.stall(shared, slot, stall)
        {
            return Step::Stop;
        }
        Step::Go
    }

    /// The consumer-stall fault; false if the run was aborted meanwhile.
    fn stall(&mut self, shared: &Shared, slot: usize, stall: Stall) -> bool {
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
        if resumed {
            shared.board.set(slot, WorkerState::Receiving);
        }
        resumed
    }
}

/// The consumer loop: receives until the buffer is empty and disconnected.
pub(super) fn consume<P: Body, R: Consumer<Item<P>>>(
    shared: &Shared,
    slot: usize,
    rx: R,
    out: &mut ConsumerLog,
) {
    let plan = shared.plan;
    if shared.workload.batch > 1 {
        consume_batches(shared, &plan, slot, &rx, out);
    } else {
        consume_items(shared, &plan, slot, &rx, out);
    }
}

/// Receives with `recv_batch`.
fn consume_batches<P: Body, R: Consumer<Item<P>>>(
    shared: &Shared,
    plan: &FaultPlan,
    slot: usize,
    rx: &R,
    out: &mut ConsumerLog,
) {
    let batch = shared.workload.batch;
    let mut buf = Vec::with_capacity(batch);
    shared.board.set(slot, WorkerState::Receiving);
    loop {
        out.before_receive(shared);
        if rx.recv_batch(&mut buf, batch).is_err() {
            break;
        }
        let before = out.received;
        let mut items = buf.drain(..);
        while let Some(item) = items.next() {
            match out.take(shared, plan, slot, item) {
                Step::Go => {}
                Step::Stop => return,
                Step::Panic => {
                    // The rest of the batch is in hand too.
                    for rest in items {
                        out.log_receipt(shared, rest.producer(), rest.seq());
                        out.record
                            .record_in_hand_at_panic(rest.producer(), rest.seq());
                    }
                    inject_panic();
                }
            }
        }
        if out.received / DEPTH_SAMPLE_EVERY != before / DEPTH_SAMPLE_EVERY {
            out.depth.record(rx.len());
        }
    }
}

/// Receives one item at a time, timing the blocking part when blocked time is measured.
fn consume_items<P: Body, R: Consumer<Item<P>>>(
    shared: &Shared,
    plan: &FaultPlan,
    slot: usize,
    rx: &R,
    out: &mut ConsumerLog,
) {
    out.blocked_ns = shared.workload.blocked_time.then_some(0);
    shared.board.set(slot, WorkerState::Receiving);
    loop {
        out.before_receive(shared);
        let Some(item) = receive(shared, slot, rx, out.blocked_ns.as_mut()) else {
            break;
        };
        match out.take(shared, plan, slot, item) {
            Step::Go => {}
            Step::Stop => break,
            Step::Panic => inject_panic(),
        }
        if out.received.is_multiple_of(DEPTH_SAMPLE_EVERY) {
            out.depth.record(rx.len());
        }
    }
}

/// One receive; `None` once the buffer is empty and disconnected.
#[inline]
fn receive<P: Body, R: Consumer<Item<P>>>(
    shared: &Shared,
    slot: usize,
    rx: &R,
    blocked: Option<&mut u64>,
) -> Option<Item<P>> {
    let Some(blocked) = blocked else {
        return rx.recv().ok();
    };
    match rx.try_recv() {
        Ok(item) => Some(item),
        Err(TryRecvError::Disconnected) => None,
        Err(TryRecvError::Empty) => {
            shared.board.set(slot, WorkerState::BlockedOnEmpty);
            let since = shared.now_ns();
            let received = rx.recv();
            *blocked += shared.now_ns() - since;
            shared.board.set(slot, WorkerState::Receiving);
            received.ok()
        }
    }
}
