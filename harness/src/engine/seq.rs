//! The `seq` workload: one thread fills the buffer (up to capacity), then drains it, and
//! repeats. It measures the uncontended cost of a send and a receive.

use buffer_api::{Consumer, Producer, SendError};

use super::consumer::ConsumerLog;
use super::fault::FaultPlan;
use super::item::{self, Body, Item};
use super::producer::{ProducerLog, flush};
use super::shared::{Sampler, Shared};
use crate::measure::DEPTH_SAMPLE_EVERY;
use crate::verify::{NOT_SENT, Refusal};

/// The `seq` workload on one thread.
pub(super) fn sequential<P: Body, T: Producer<Item<P>>, R: Consumer<Item<P>>>(
    shared: &Shared,
    tx: T,
    rx: R,
    producer: &mut ProducerLog,
    consumer: &mut ConsumerLog,
) {
    let workload = &shared.workload;
    let total = workload.messages;
    let batch_size = workload.batch.min(workload.capacity);
    let mut seq = Seq {
        shared,
        batch_size,
        sampler: Sampler::new(workload.latency_sample_every),
        batch: Vec::with_capacity(batch_size),
        buf: Vec::with_capacity(batch_size),
    };
    if shared.order_check.is_some() {
        producer.sent = vec![NOT_SENT; total as usize];
    }
    producer.reserve_send_times(total, workload.latency_sample_every);
    let mut first = 0;
    while first < total {
        let count = (workload.capacity as u64).min(total - first);
        if !seq.fill(&tx, first, count, producer) {
            return;
        }
        // The depth after a fill, sampled like the threaded loops' (a `len()` per fill would
        // be a call per item at capacity 1).
        if first / DEPTH_SAMPLE_EVERY != (first + count) / DEPTH_SAMPLE_EVERY || first == 0 {
            producer.depth.record(tx.len());
        }
        if !seq.drain(&rx, count, consumer) {
            return;
        }
        first += count;
    }
}

/// The state of the `seq` loop.
struct Seq<'a, P> {
    shared: &'a Shared,
    batch_size: usize,
    sampler: Sampler,
    /// Items waiting to go out in one `send_batch`.
    batch: Vec<Item<P>>,
    /// Items one `recv_batch` returned.
    buf: Vec<Item<P>>,
}

impl<P: Body> Seq<'_, P> {
    /// Sends items `first..first + count`. The buffer is empty, so none of these sends blocks.
    /// False when the buffer disconnected.
    fn fill<T: Producer<Item<P>>>(
        &mut self,
        tx: &T,
        first: u64,
        count: u64,
        producer: &mut ProducerLog,
    ) -> bool {
        let shared = self.shared;
        let workload = &shared.workload;
        let mut batch_first = first;
        for seq in first..first + count {
            let sampled = self.sampler.next();
            if sampled {
                producer.sent_at.push(shared.now_ns());
            }
            let priority = item::priority_of(workload.seed, 0, seq, workload.priorities);
            let item = Item::new(0, seq, priority, sampled);
            if self.batch_size > 1 {
                if self.batch.is_empty() {
                    batch_first = seq;
                }
                self.batch.push(item);
                if self.batch.len() == self.batch_size
                    && !flush(shared, tx, &mut self.batch, batch_first, producer)
                {
                    return false;
                }
            } else {
                match tx.send(item) {
                    Ok(()) => producer.accepted(shared, seq, 1),
                    Err(SendError(item)) => {
                        producer.record.refused(item.seq(), Refusal::HandedBack);
                        return false;
                    }
                }
            }
        }
        flush(shared, tx, &mut self.batch, batch_first, producer)
    }

    /// Receives the `count` items just sent. False when the buffer disconnected.
    fn drain<R: Consumer<Item<P>>>(
        &mut self,
        rx: &R,
        count: u64,
        consumer: &mut ConsumerLog,
    ) -> bool {
        let shared = self.shared;
        let plan = FaultPlan::default();
        let mut left = count;
        while left > 0 {
            consumer.before_receive(shared);
            if self.batch_size > 1 {
                let max = self.batch_size.min(left as usize);
                if rx.recv_batch(&mut self.buf, max).is_err() {
                    return false;
                }
                left = left.saturating_sub(self.buf.len() as u64);
                for item in self.buf.drain(..) {
                    consumer.take(shared, &plan, 0, item);
                }
            } else {
                match rx.recv() {
                    Ok(item) => {
                        consumer.take(shared, &plan, 0, item);
                        left -= 1;
                    }
                    Err(_) => return false,
                }
            }
        }
        true
    }
}
