//! The verification ledger: proof that every item offered was accounted for exactly once.
//!
//! Workers keep cheap local records while they run (see [`super::records`]), and the ledger
//! merges them after the threads are joined. The checks:
//!
//! - **exactly once**: every item a producer offered and the buffer accepted was received by
//!   exactly one consumer, once;
//! - **per-producer order** (where [`OrderChecks`](super::OrderChecks) asks for it): no
//!   consumer receives an item of a producer after a later item of the same producer;
//! - **accounting**: `offered = delivered + handed back + dropped by policy + evicted + timed
//!   out + in hand at a panic + discarded by the buffer`, item by item, where "discarded by the
//!   buffer" is allowed only when every consumer is gone (the buffer then drops what it still
//!   holds);
//! - **evictions** (`drop-oldest`): an item `force_send` evicted was accepted before, is
//!   evicted once, and is never received; whichever producer's send evicted it reports it;
//! - **drops**: every payload created was dropped exactly once (counted by the items
//!   themselves, see `engine::item`).
//!
//! A run checked by fingerprint (see [`Exactness`]) makes every check but the item-by-item
//! one: exactly once is then the consumers' combined count and fingerprint against those of the
//! items the producers had accepted (less the evicted ones), and a mismatch is a
//! [`Violation::Count`] or a [`Violation::Fingerprint`], which cannot name the items.
//!
//! Any failed check is a [`Violation`] naming the first offending items.

use std::borrow::Borrow;

use super::exactness::{Exactness, Fingerprint};
use super::records::{Bitmap, ConsumerRecord, ProducerRecord, bits_of, mask_below};
use super::violation::Violations;
use super::{OrderCheck, Verification, Violation};

/// What the ledger needs to know about the run besides the records.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunFacts {
    /// Payload drops counted over the run (see `engine::item`).
    pub(crate) payloads_dropped: u64,
    /// Every consumer died (a fault): the buffer may discard what it still held.
    pub(crate) consumers_all_gone: bool,
    /// A fault may stop producers before they offer their whole share.
    pub(crate) early_stop_allowed: bool,
    /// Violations found outside the records (a worker panicked, an order check failed).
    pub(crate) extra: Vec<Violation>,
    /// The order check made from the run's send and receive log, if any.
    pub(crate) order_check: Option<OrderCheck>,
}

/// The verification ledger of one run: the plan to compare the records against.
#[derive(Clone, Debug)]
pub(crate) struct Ledger {
    planned: Vec<u64>,
    check_order: bool,
    exactness: Exactness,
}

/// The verdict being built: the counts and the violations found so far.
struct Tally {
    v: Verification,
    violations: Violations,
}

impl Ledger {
    /// A ledger for producers that plan to send `planned[i]` items each, checking exactly-once
    /// by `exactness` and per-producer order when `check_order` (see
    /// [`OrderChecks`](super::OrderChecks)).
    pub(crate) fn new(planned: Vec<u64>, check_order: bool, exactness: Exactness) -> Self {
        Self {
            planned,
            check_order,
            exactness,
        }
    }

    /// An empty record for a producer.
    pub(crate) fn producer_record(&self) -> ProducerRecord {
        ProducerRecord::new()
    }

    /// An empty record for a consumer, sized for the plan.
    pub(crate) fn consumer_record(&self) -> ConsumerRecord {
        ConsumerRecord::new(&self.planned, self.check_order, self.exactness)
    }

    /// Merges the records and checks everything. `producers[i]` is producer `i`'s record.
    pub(crate) fn verify<P, C>(
        &self,
        producers: &[P],
        consumers: &[C],
        facts: RunFacts,
    ) -> Verification
    where
        P: Borrow<ProducerRecord>,
        C: Borrow<ConsumerRecord>,
    {
        let producers: Vec<&ProducerRecord> = producers.iter().map(Borrow::borrow).collect();
        let consumers: Vec<&ConsumerRecord> = consumers.iter().map(Borrow::borrow).collect();
        let mut tally = Tally {
            v: Verification {
                runs: 1,
                order_checked: self.check_order,
                ledger_runs: u64::from(self.exactness == Exactness::Ledger),
                fingerprint_runs: u64::from(self.exactness == Exactness::Fingerprint),
                discipline_checked: facts.order_check,
                planned: self.planned.iter().sum(),
                payloads_dropped: facts.payloads_dropped,
                ..Verification::default()
            },
            violations: Violations::default(),
        };
        for extra in facts.extra {
            tally.violations.push(extra);
        }
        if producers.len() != self.planned.len() {
            tally.violations.push(Violation::Internal {
                message: format!(
                    "{} producer records for {} producers",
                    producers.len(),
                    self.planned.len()
                ),
            });
        }
        tally.consumers(&consumers);
        let evicted = self.evictions(&producers, &mut tally);
        let mut distinct = 0;
        for (p, record) in producers.iter().enumerate() {
            let planned = self.planned.get(p).copied().unwrap_or(0);
            tally.producer(p, record, planned, facts.early_stop_allowed);
            if self.exactness == Exactness::Ledger {
                let items = ProducerItems {
                    producer: p,
                    record,
                    planned,
                    evicted: evicted.get(p),
                };
                distinct += tally.items(&items, &consumers, facts.consumers_all_gone);
            }
        }
        if self.exactness == Exactness::Fingerprint {
            distinct = tally.fingerprints(&producers, &consumers);
        }
        tally.finish(distinct, &consumers)
    }

    /// Evictions, reported by whichever producer evicted, filed under the item's owner.
    fn evictions(&self, producers: &[&ProducerRecord], tally: &mut Tally) -> Vec<Bitmap> {
        let mut evicted: Vec<Bitmap> = self.planned.iter().map(|&n| Bitmap::with_len(n)).collect();
        for record in producers {
            tally.v.evicted += record.returned_as_evicted;
            for &(producer, seq) in &record.evictions {
                tally.v.evicted += 1;
                match evicted.get_mut(producer as usize).and_then(|b| b.set(seq)) {
                    None => {
                        tally.v.unexpected += 1;
                        tally
                            .violations
                            .push(Violation::Unexpected { producer, seq });
                    }
                    Some(true) => tally
                        .violations
                        .push(Violation::EvictedTwice { producer, seq }),
                    Some(false) => {}
                }
            }
        }
        evicted
    }
}

/// One producer's items as the item-by-item check sees them.
struct ProducerItems<'a> {
    producer: usize,
    record: &'a ProducerRecord,
    planned: u64,
    evicted: Option<&'a Bitmap>,
}

impl Tally {
    /// Sums what each consumer found on its own (duplicates, reorders, unknown items).
    fn consumers(&mut self, consumers: &[&ConsumerRecord]) {
        for (c, consumer) in consumers.iter().enumerate() {
            self.v.duplicated += consumer.duplicated;
            self.v.reordered += consumer.reordered;
            self.v.unexpected += consumer.unexpected;
            self.v.in_hand_at_panic += consumer.in_hand;
            for &(producer, seq) in &consumer.duplicates {
                self.violations
                    .push(Violation::Duplicated { producer, seq });
            }
            for &(producer, seq, after) in &consumer.reorders {
                self.violations.push(Violation::Reordered {
                    consumer: c as u32,
                    producer,
                    seq,
                    after,
                });
            }
            for &(producer, seq) in &consumer.unexpecteds {
                self.violations
                    .push(Violation::Unexpected { producer, seq });
            }
        }
    }

    /// One producer's counts: its own accounting must add up, and without a fault it must
    /// have offered its whole share.
    fn producer(&mut self, p: usize, record: &ProducerRecord, planned: u64, early_stop: bool) {
        let in_hand = u64::from(record.in_hand.is_some());
        self.v.offered += record.offered;
        self.v.handed_back += record.handed_back;
        self.v.dropped_by_policy += record.dropped_by_policy;
        self.v.timed_out += record.timed_out;
        self.v.in_hand_at_panic += in_hand;
        self.v.not_offered += planned.saturating_sub(record.offered);
        let refusals = record.handed_back
            + record.dropped_by_policy
            + record.timed_out
            + record.returned_as_evicted;
        if record.accepted + refusals + in_hand != record.offered {
            self.violations.push(Violation::Internal {
                message: format!(
                    "producer-{} offered {} items but accounts for {}",
                    p + 1,
                    record.offered,
                    record.accepted + refusals
                ),
            });
        }
        if record.offered < planned && !early_stop {
            self.violations.push(Violation::StoppedEarly {
                producer: p as u32,
                offered: record.offered,
                planned,
            });
        }
    }

    /// Checks one producer's items, 64 at a time, against every consumer's bitmap. Returns how
    /// many distinct items of it were received.
    fn items(
        &mut self,
        items: &ProducerItems<'_>,
        consumers: &[&ConsumerRecord],
        consumers_all_gone: bool,
    ) -> u64 {
        let mut distinct = 0;
        for w in 0..items.planned.div_ceil(64) as usize {
            let received = self.received_word(items.producer, w, consumers);
            distinct += u64::from(received.count_ones());
            self.word(items, w, received, consumers_all_gone);
        }
        distinct
    }

    /// The union of every consumer's word `w` for producer `p`, counting the cross-consumer
    /// duplicates (a bit another consumer already set).
    fn received_word(&mut self, p: usize, w: usize, consumers: &[&ConsumerRecord]) -> u64 {
        let producer = p as u32;
        let mut received = 0u64;
        for consumer in consumers {
            let bits = consumer.seen.get(p).map_or(0, |b| b.word(w));
            let both = received & bits;
            if both != 0 {
                self.v.duplicated += u64::from(both.count_ones());
                for seq in bits_of(w, both) {
                    self.violations
                        .push(Violation::Duplicated { producer, seq });
                }
            }
            received |= bits;
        }
        received
    }

    /// Word `w` of one producer: every offered item received, refused, in hand, evicted or
    /// (when every consumer is gone) discarded by the buffer, and no item two of those.
    fn word(&mut self, items: &ProducerItems<'_>, w: usize, received: u64, all_gone: bool) {
        let producer = items.producer as u32;
        let record = items.record;
        let offered = mask_below(w, record.offered);
        let mut accounted = record.refused.word(w);
        if let Some(seq) = record.in_hand
            && seq / 64 == w as u64
        {
            accounted |= 1 << (seq % 64);
        }
        let gone = items.evicted.map_or(0, |b| b.word(w));
        let found = |bits: u64| bits_of(w, bits);
        for seq in found(gone & received) {
            self.violations
                .push(Violation::EvictedAndReceived { producer, seq });
        }
        for seq in found(gone & (accounted | !offered)) {
            self.violations
                .push(Violation::EvictedButNotAccepted { producer, seq });
        }
        let accounted = accounted | gone;
        for seq in found(received & accounted & !gone) {
            self.violations
                .push(Violation::ReceivedAndRefused { producer, seq });
        }
        let phantom = received & !offered;
        self.v.unexpected += u64::from(phantom.count_ones());
        for seq in found(phantom) {
            self.violations
                .push(Violation::Unexpected { producer, seq });
        }
        let missing = offered & !received & !accounted;
        if all_gone {
            self.v.discarded_by_buffer += u64::from(missing.count_ones());
        } else {
            self.v.lost += u64::from(missing.count_ones());
            for seq in found(missing) {
                self.violations.push(Violation::Lost { producer, seq });
            }
        }
    }

    /// Exactly once by fingerprint: the consumers' combined count and fingerprint against those
    /// of what the producers say the buffer accepted, less what `force_send` evicted. Returns
    /// how many distinct items were received, as far as the count can tell.
    fn fingerprints(
        &mut self,
        producers: &[&ProducerRecord],
        consumers: &[&ConsumerRecord],
    ) -> u64 {
        let mut expected = Fingerprint::default();
        for (p, record) in producers.iter().enumerate() {
            expected = expected.combine(record.accepted_fingerprint(p as u32));
        }
        for &(producer, seq) in producers.iter().flat_map(|r| &r.evictions) {
            expected.remove(producer, seq);
        }
        let received = consumers
            .iter()
            .filter_map(|c| c.fingerprint)
            .fold(Fingerprint::default(), Fingerprint::combine);
        if received.count != expected.count {
            // At least the shortfall was lost; exactly it when nothing else went wrong.
            self.v.lost += expected.count.saturating_sub(received.count);
            self.violations.push(Violation::Count {
                accepted: expected.count,
                received: received.count,
            });
        } else if received != expected {
            self.violations.push(Violation::Fingerprint {
                items: received.count,
            });
        }
        received.count.min(expected.count)
    }

    /// The delivered count, the drop check and the verdict.
    fn finish(mut self, distinct: u64, consumers: &[&ConsumerRecord]) -> Verification {
        let consumer_in_hand: u64 = consumers.iter().map(|c| c.in_hand).sum();
        self.v.delivered = distinct.saturating_sub(consumer_in_hand);
        // Every item built was offered; every one must have been dropped exactly once.
        if self.v.payloads_dropped != self.v.offered {
            self.violations.push(Violation::PayloadDrops {
                created: self.v.offered,
                dropped: self.v.payloads_dropped,
            });
        }
        let mut v = self.v;
        v.ok = self.violations.total == 0
            && v.lost == 0
            && v.duplicated == 0
            && v.reordered == 0
            && v.unexpected == 0;
        v.violation_count = self.violations.total;
        v.violations = self.violations.kept;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EXAMPLES, Refusal};
    use super::*;

    /// Producer records for a run in which every producer's items were all accepted.
    fn all_accepted(ledger: &Ledger, planned: &[u64]) -> Vec<ProducerRecord> {
        planned
            .iter()
            .map(|&n| {
                let mut r = ledger.producer_record();
                r.accepted(0, n);
                r
            })
            .collect()
    }

    fn facts(dropped: u64) -> RunFacts {
        RunFacts {
            payloads_dropped: dropped,
            ..RunFacts::default()
        }
    }

    #[test]
    fn a_whole_run_passes() {
        let ledger = Ledger::new(vec![3, 2], true, Exactness::Ledger);
        let producers = all_accepted(&ledger, &[3, 2]);
        let mut a = ledger.consumer_record();
        let mut b = ledger.consumer_record();
        a.record(0, 0);
        b.record(1, 0);
        a.record(0, 1);
        a.record(1, 1);
        b.record(0, 2);
        let v = ledger.verify(&producers, &[a, b], facts(5));
        assert!(v.ok, "{v:?}");
        assert_eq!((v.offered, v.delivered, v.lost), (5, 5, 0));
        assert!(v.summary().starts_with("ok: 5 delivered exactly once"));
    }

    /// A ledger checked by fingerprint, its producers' records with every item accepted, and
    /// one consumer that received `items` in that order.
    fn by_fingerprint(
        planned: &[u64],
        check_order: bool,
        items: &[(u32, u64)],
    ) -> (Ledger, Vec<ProducerRecord>, ConsumerRecord) {
        let ledger = Ledger::new(planned.to_vec(), check_order, Exactness::Fingerprint);
        let producers = all_accepted(&ledger, planned);
        let mut c = ledger.consumer_record();
        for &(producer, seq) in items {
            c.record(producer, seq);
        }
        (ledger, producers, c)
    }

    #[test]
    fn a_whole_run_passes_by_fingerprint() {
        let items = [(1, 0), (0, 0), (0, 1), (1, 1), (0, 2)];
        let (ledger, producers, c) = by_fingerprint(&[3, 2], true, &items);
        let v = ledger.verify(&producers, &[c], facts(5));
        assert!(v.ok, "{v:?}");
        assert_eq!((v.offered, v.delivered, v.lost), (5, 5, 0));
        assert_eq!((v.ledger_runs, v.fingerprint_runs), (0, 1));
        assert!(v.summary().starts_with("ok: 5 delivered exactly once"));
    }

    #[test]
    fn a_loss_and_a_duplicate_together_fail_the_fingerprint() {
        // Seq 2 lost and seq 1 received twice: the count agrees, the fingerprint does not.
        let items = [(0, 0), (0, 1), (0, 1), (0, 3)];
        let (ledger, producers, c) = by_fingerprint(&[4], false, &items);
        let v = ledger.verify(&producers, &[c], facts(4));
        assert!(!v.ok);
        assert_eq!(v.violations, vec![Violation::Fingerprint { items: 4 }]);
        assert_eq!(
            v.violations[0].to_string(),
            "fingerprint: the 4 items received are not the 4 items accepted: one was lost and \
             another received twice or never offered (a run checked by count and fingerprint, \
             which cannot name the items)"
        );
        // An item never offered in place of a lost one fails it too.
        let (ledger, producers, c) = by_fingerprint(&[2], false, &[(0, 0), (0, 5)]);
        let v = ledger.verify(&producers, &[c], facts(2));
        assert_eq!(v.violations, vec![Violation::Fingerprint { items: 2 }]);
    }

    #[test]
    fn a_short_count_is_a_violation_and_a_lower_bound_on_the_lost() {
        let (ledger, producers, c) = by_fingerprint(&[4], true, &[(0, 0), (0, 2)]);
        let v = ledger.verify(&producers, &[c], facts(4));
        assert!(!v.ok);
        assert_eq!((v.lost, v.delivered), (2, 2));
        assert_eq!(
            v.violations,
            vec![Violation::Count {
                accepted: 4,
                received: 2
            }]
        );
        // One too many: a duplicate, counted by the count alone.
        let items = [(0, 0), (0, 1), (0, 1)];
        let (ledger, producers, c) = by_fingerprint(&[2], false, &items);
        let v = ledger.verify(&producers, &[c], facts(2));
        assert_eq!(
            v.violations,
            vec![Violation::Count {
                accepted: 2,
                received: 3
            }]
        );
        assert_eq!(v.lost, 0);
    }

    #[test]
    fn the_fingerprint_run_checks_order_and_accounts_for_refusals_and_evictions() {
        let (ledger, producers, c) = by_fingerprint(&[3], true, &[(0, 0), (0, 2), (0, 1)]);
        let v = ledger.verify(&producers, &[c], facts(3));
        assert_eq!(
            v.violations,
            vec![Violation::Reordered {
                consumer: 0,
                producer: 0,
                seq: 1,
                after: 2
            }]
        );
        // Seq 1 refused, seq 3 in hand at a panic, seq 2 evicted: only 0 and 4 arrive.
        let ledger = Ledger::new(vec![6], true, Exactness::Fingerprint);
        let mut p = ledger.producer_record();
        p.accepted(0, 1);
        p.refused(1, Refusal::TimedOut);
        p.accepted(2, 1);
        p.record_eviction(0, 2);
        p.in_hand_at_panic(3);
        p.accepted(4, 1);
        let mut c = ledger.consumer_record();
        c.record(0, 0);
        c.record(0, 4);
        let stopped = RunFacts {
            payloads_dropped: 5,
            early_stop_allowed: true,
            ..RunFacts::default()
        };
        let v = ledger.verify(&[p], &[c], stopped);
        assert!(v.ok, "{v:?}");
        assert_eq!(
            (v.delivered, v.evicted, v.timed_out, v.in_hand_at_panic),
            (2, 1, 1, 1)
        );
    }

    #[test]
    fn lost_items_are_named_lowest_first() {
        let ledger = Ledger::new(vec![100], true, Exactness::Ledger);
        let producers = all_accepted(&ledger, &[100]);
        let mut c = ledger.consumer_record();
        for seq in (0..100).filter(|s| ![7, 70, 99].contains(s)) {
            c.record(0, seq);
        }
        let v = ledger.verify(&producers, &[c], facts(100));
        assert!(!v.ok);
        assert_eq!(v.lost, 3);
        assert_eq!(
            v.violations,
            vec![
                Violation::Lost {
                    producer: 0,
                    seq: 7
                },
                Violation::Lost {
                    producer: 0,
                    seq: 70
                },
                Violation::Lost {
                    producer: 0,
                    seq: 99
                },
            ]
        );
        assert_eq!(
            v.violations[0].to_string(),
            "lost: producer-1 seq 7 was accepted but never received"
        );
    }

    #[test]
    fn duplicates_within_and_across_consumers() {
        let ledger = Ledger::new(vec![4], false, Exactness::Ledger);
        let producers = all_accepted(&ledger, &[4]);
        let mut a = ledger.consumer_record();
        let mut b = ledger.consumer_record();
        for seq in 0..4 {
            a.record(0, seq);
        }
        a.record(0, 2);
        b.record(0, 3);
        let v = ledger.verify(&producers, &[a, b], facts(4));
        assert!(!v.ok);
        assert_eq!(v.duplicated, 2);
        assert_eq!(
            v.violations,
            vec![
                Violation::Duplicated {
                    producer: 0,
                    seq: 2
                },
                Violation::Duplicated {
                    producer: 0,
                    seq: 3
                },
            ]
        );
    }

    #[test]
    fn reordering_is_a_violation_only_for_fifo() {
        for fifo in [true, false] {
            let ledger = Ledger::new(vec![3], fifo, Exactness::Ledger);
            let producers = all_accepted(&ledger, &[3]);
            let mut c = ledger.consumer_record();
            c.record(0, 0);
            c.record(0, 2);
            c.record(0, 1);
            let v = ledger.verify(&producers, &[c], facts(3));
            assert_eq!(v.ok, !fifo);
            if fifo {
                assert_eq!(v.reordered, 1);
                assert_eq!(
                    v.violations,
                    vec![Violation::Reordered {
                        consumer: 0,
                        producer: 0,
                        seq: 1,
                        after: 2
                    }]
                );
                assert_eq!(
                    v.violations[0].to_string(),
                    "reordered: consumer-1 received producer-1 seq 1 after seq 2"
                );
            }
        }
    }

    #[test]
    fn unknown_items_are_unexpected() {
        let ledger = Ledger::new(vec![2], true, Exactness::Ledger);
        let mut producer = ledger.producer_record();
        producer.accepted(0, 1);
        producer.refused(1, Refusal::HandedBack);
        let mut c = ledger.consumer_record();
        c.record(0, 0);
        c.record(3, 0);
        c.record(0, 9);
        let v = ledger.verify(
            &[producer],
            &[c],
            RunFacts {
                payloads_dropped: 2,
                early_stop_allowed: true,
                ..RunFacts::default()
            },
        );
        assert_eq!(v.unexpected, 2);
        assert_eq!(
            v.violations,
            vec![
                Violation::Unexpected {
                    producer: 3,
                    seq: 0
                },
                Violation::Unexpected {
                    producer: 0,
                    seq: 9
                },
            ]
        );
    }

    #[test]
    fn refused_items_must_not_arrive() {
        let ledger = Ledger::new(vec![3], true, Exactness::Ledger);
        let mut producer = ledger.producer_record();
        producer.accepted(0, 1);
        producer.refused(1, Refusal::DroppedByPolicy);
        producer.accepted(2, 1);
        let mut c = ledger.consumer_record();
        for seq in 0..3 {
            c.record(0, seq);
        }
        let v = ledger.verify(&[producer], &[c], facts(3));
        assert_eq!(
            v.violations,
            vec![Violation::ReceivedAndRefused {
                producer: 0,
                seq: 1
            }]
        );
    }

    #[test]
    fn accounting_with_refusals_and_panics_adds_up() {
        let ledger = Ledger::new(vec![10, 10], true, Exactness::Ledger);
        let mut p1 = ledger.producer_record();
        p1.accepted(0, 4);
        p1.refused(4, Refusal::TimedOut);
        p1.refused(5, Refusal::DroppedByPolicy);
        p1.accepted(6, 4);
        let mut p2 = ledger.producer_record();
        p2.accepted(0, 3);
        p2.in_hand_at_panic(3);
        let mut c = ledger.consumer_record();
        for seq in (0..4).chain(6..10) {
            c.record(0, seq);
        }
        c.record(1, 0);
        c.record(1, 1);
        c.record_in_hand_at_panic(1, 2);
        let v = ledger.verify(
            &[p1, p2],
            &[c],
            RunFacts {
                payloads_dropped: 14,
                early_stop_allowed: true,
                ..RunFacts::default()
            },
        );
        assert!(v.ok, "{v:?}");
        assert_eq!(v.offered, 14);
        assert_eq!(v.delivered, 10);
        assert_eq!(v.in_hand_at_panic, 2);
        assert_eq!((v.timed_out, v.dropped_by_policy), (1, 1));
        assert_eq!(v.not_offered, 6);
        assert_eq!(
            v.offered,
            v.delivered + v.handed_back + v.dropped_by_policy + v.timed_out + v.in_hand_at_panic
        );
    }

    #[test]
    fn stopping_early_needs_a_fault() {
        let ledger = Ledger::new(vec![5], true, Exactness::Ledger);
        let mut producer = ledger.producer_record();
        producer.accepted(0, 2);
        producer.refused(2, Refusal::HandedBack);
        let mut c = ledger.consumer_record();
        c.record(0, 0);
        c.record(0, 1);
        let v = ledger.verify(&[producer], &[c], facts(3));
        assert_eq!(
            v.violations,
            vec![Violation::StoppedEarly {
                producer: 0,
                offered: 3,
                planned: 5
            }]
        );
    }

    #[test]
    fn discards_are_allowed_only_when_every_consumer_is_gone() {
        let ledger = Ledger::new(vec![6], true, Exactness::Ledger);
        let producers = all_accepted(&ledger, &[6]);
        let mut c = ledger.consumer_record();
        c.record(0, 0);
        c.record_in_hand_at_panic(0, 1);
        let gone = RunFacts {
            payloads_dropped: 6,
            consumers_all_gone: true,
            early_stop_allowed: true,
            ..RunFacts::default()
        };
        let v = ledger.verify(&producers, std::slice::from_ref(&c), gone);
        assert!(v.ok, "{v:?}");
        assert_eq!(
            (v.delivered, v.in_hand_at_panic, v.discarded_by_buffer),
            (1, 1, 4)
        );
        let v = ledger.verify(&producers, &[c], facts(6));
        assert_eq!(v.lost, 4);
    }

    #[test]
    fn payload_drops_must_match() {
        let ledger = Ledger::new(vec![2], true, Exactness::Ledger);
        let producers = all_accepted(&ledger, &[2]);
        let mut c = ledger.consumer_record();
        c.record(0, 0);
        c.record(0, 1);
        let v = ledger.verify(&producers, &[c], facts(1));
        assert_eq!(
            v.violations,
            vec![Violation::PayloadDrops {
                created: 2,
                dropped: 1
            }]
        );
    }

    #[test]
    fn examples_are_capped_but_counts_are_exact() {
        let ledger = Ledger::new(vec![1000], true, Exactness::Ledger);
        let producers = all_accepted(&ledger, &[1000]);
        let c = ledger.consumer_record();
        let v = ledger.verify(&producers, &[c], facts(1000));
        assert_eq!(v.lost, 1000);
        assert_eq!(v.violation_count, 1000);
        assert_eq!(v.violations.len(), EXAMPLES);
    }

    #[test]
    fn absorbing_sums_and_names_the_first_failure() {
        let ledger = Ledger::new(vec![1], true, Exactness::Ledger);
        let producers = all_accepted(&ledger, &[1]);
        let mut c = ledger.consumer_record();
        c.record(0, 0);
        let good = ledger.verify(&producers, std::slice::from_ref(&c), facts(1));
        let bad = ledger.verify(&producers, &[ledger.consumer_record()], facts(1));
        let mut total = Verification::default();
        total.absorb(good.clone(), "warm-up 1");
        total.absorb(bad, "repetition 1");
        total.absorb(good, "repetition 2");
        assert!(!total.ok);
        assert_eq!(total.first_failure.as_deref(), Some("repetition 1"));
        assert_eq!((total.delivered, total.lost), (2, 1));
    }

    #[test]
    fn evictions_are_accounted_once_under_their_owner() {
        // Producer-2 evicts producer-1's seq 1; producer-1 evicts its own seq 2; producer-1's
        // seq 4 came straight back as evicted (capacity 0, nobody waiting).
        let ledger = Ledger::new(vec![5, 2], true, Exactness::Ledger);
        let mut p1 = ledger.producer_record();
        p1.accepted(0, 4);
        p1.refused(4, Refusal::ReturnedAsEvicted);
        p1.record_eviction(0, 2);
        let mut p2 = ledger.producer_record();
        p2.accepted(0, 2);
        p2.record_eviction(0, 1);
        let mut c = ledger.consumer_record();
        for (producer, seq) in [(0, 0), (1, 0), (0, 3), (1, 1)] {
            c.record(producer, seq);
        }
        let v = ledger.verify(&[p1, p2], &[c], facts(7));
        assert!(v.ok, "{v:?}");
        assert_eq!((v.offered, v.delivered, v.evicted), (7, 4, 3));
        assert_eq!(v.offered, v.delivered + v.evicted);
        assert!(v.summary().contains(", 3 evicted,"), "{}", v.summary());
    }

    #[test]
    fn an_evicted_item_must_not_arrive_or_be_evicted_twice() {
        let ledger = Ledger::new(vec![4], true, Exactness::Ledger);
        let mut p = ledger.producer_record();
        p.accepted(0, 3);
        p.refused(3, Refusal::DroppedByPolicy);
        p.record_eviction(0, 0);
        p.record_eviction(0, 1);
        p.record_eviction(0, 1);
        p.record_eviction(0, 3);
        let mut c = ledger.consumer_record();
        c.record(0, 0);
        c.record(0, 2);
        let v = ledger.verify(&[p], &[c], facts(4));
        assert!(!v.ok);
        assert_eq!(
            v.violations,
            vec![
                Violation::EvictedTwice {
                    producer: 0,
                    seq: 1
                },
                Violation::EvictedAndReceived {
                    producer: 0,
                    seq: 0
                },
                Violation::EvictedButNotAccepted {
                    producer: 0,
                    seq: 3
                },
            ]
        );
        assert_eq!(
            v.violations[1].to_string(),
            "evicted and received: producer-1 seq 0 was evicted by force_send and also received"
        );
    }
}
