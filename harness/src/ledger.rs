//! The verification ledger: proof that every item offered was accounted for exactly once.
//!
//! Workers keep cheap local records while they run (a bitmap of received sequence numbers per
//! producer, the highest sequence number seen per producer), and the ledger merges them after
//! the threads are joined. The checks:
//!
//! - **exactly once**: every item a producer offered and the buffer accepted was received by
//!   exactly one consumer, once;
//! - **per-producer order** (FIFO backends only): no consumer receives an item of a producer
//!   after a later item of the same producer;
//! - **accounting**: `offered = delivered + handed back + dropped by policy + evicted + timed
//!   out + in hand at a panic + discarded by the buffer`, item by item, where "discarded by the
//!   buffer" is allowed only when every consumer is gone (the buffer then drops what it still
//!   holds);
//! - **evictions** (`drop-oldest`): an item `force_send` evicted was accepted before, is
//!   evicted once, and is never received; whichever producer's send evicted it reports it;
//! - **drops**: every payload created was dropped exactly once (counted by the items
//!   themselves, see `item`).
//!
//! Any failed check is a [`Violation`] naming the first offending items.

use std::borrow::Borrow;
use std::fmt;

use serde::Serialize;

use crate::discipline::OrderCheck;

/// Examples kept per kind of violation; the counts stay exact.
const EXAMPLES: usize = 5;

/// A growable bitmap over sequence numbers.
#[derive(Clone, Debug, Default)]
struct Bitmap {
    words: Vec<u64>,
}

impl Bitmap {
    fn with_len(bits: u64) -> Self {
        Self {
            words: vec![0; bits.div_ceil(64) as usize],
        }
    }

    /// Sets `bit`; returns whether it was already set, or `None` if it is out of range.
    #[inline]
    fn set(&mut self, bit: u64) -> Option<bool> {
        let word = self.words.get_mut((bit / 64) as usize)?;
        let mask = 1 << (bit % 64);
        let was = *word & mask != 0;
        *word |= mask;
        Some(was)
    }

    /// Sets `bit`, growing the bitmap as needed.
    fn insert(&mut self, bit: u64) {
        let word = (bit / 64) as usize;
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (bit % 64);
    }

    fn word(&self, index: usize) -> u64 {
        self.words.get(index).copied().unwrap_or(0)
    }
}

/// The mask of the bits below `limit` within word `index`.
fn mask_below(index: usize, limit: u64) -> u64 {
    let start = index as u64 * 64;
    if limit >= start + 64 {
        u64::MAX
    } else if limit <= start {
        0
    } else {
        (1u64 << (limit - start)) - 1
    }
}

/// The set bits of `word` (word `index` of a bitmap) as sequence numbers, lowest first.
fn bits_of(index: usize, mut word: u64) -> impl Iterator<Item = u64> {
    std::iter::from_fn(move || {
        (word != 0).then(|| {
            let bit = word.trailing_zeros();
            word &= word - 1;
            index as u64 * 64 + u64::from(bit)
        })
    })
}

/// Why a producer's item did not go into the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The buffer was disconnected; the send error handed the item back.
    HandedBack,
    /// The policy dropped it (`drop-newest` on a full buffer).
    DroppedByPolicy,
    /// `send_timeout` timed out and handed it back.
    TimedOut,
    /// `force_send` handed the item itself back as the evicted one: nothing was buffered to
    /// evict and no receiver was waiting (capacity 0).
    Evicted,
}

/// What one producer did, recorded by the producer thread as it goes.
#[derive(Clone, Debug)]
pub struct ProducerRecord {
    offered: u64,
    accepted: u64,
    refused: Bitmap,
    handed_back: u64,
    dropped_by_policy: u64,
    timed_out: u64,
    /// Items handed back as evicted that were never accepted (see [`Refusal::Evicted`]).
    evicted_refused: u64,
    /// Accepted items (of any producer) that this producer's `force_send` evicted.
    evictions: Vec<(u32, u64)>,
    in_hand: Option<u64>,
}

impl ProducerRecord {
    /// Items `seq..seq + count` were accepted by the buffer.
    #[inline]
    pub fn accepted(&mut self, seq: u64, count: u64) {
        self.accepted += count;
        self.offered = self.offered.max(seq + count);
    }

    /// Item `seq` was offered and refused.
    pub fn refused(&mut self, seq: u64, why: Refusal) {
        self.refused.insert(seq);
        self.offered = self.offered.max(seq + 1);
        match why {
            Refusal::HandedBack => self.handed_back += 1,
            Refusal::DroppedByPolicy => self.dropped_by_policy += 1,
            Refusal::TimedOut => self.timed_out += 1,
            Refusal::Evicted => self.evicted_refused += 1,
        }
    }

    /// A `force_send` of this producer evicted item `seq` of `producer` (accepted earlier, by
    /// this producer or another) to make room.
    pub fn evicted(&mut self, producer: u32, seq: u64) {
        self.evictions.push((producer, seq));
    }

    /// Items this producer's `force_send` handed back as evicted, its own or others'.
    pub fn evicted_count(&self) -> u64 {
        self.evictions.len() as u64 + self.evicted_refused
    }

    /// Item `seq` was built and still in the producer's hand when it panicked.
    pub fn in_hand_at_panic(&mut self, seq: u64) {
        self.in_hand = Some(seq);
        self.offered = self.offered.max(seq + 1);
    }

    /// Items accepted by the buffer.
    pub fn accepted_count(&self) -> u64 {
        self.accepted
    }

    /// Items offered: accepted, refused, or in hand at a panic.
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// Items handed back by a disconnected buffer.
    pub fn handed_back(&self) -> u64 {
        self.handed_back
    }

    /// Items dropped by the policy.
    pub fn dropped_by_policy(&self) -> u64 {
        self.dropped_by_policy
    }

    /// Items whose send timed out.
    pub fn timed_out(&self) -> u64 {
        self.timed_out
    }
}

/// What one consumer received, recorded by the consumer thread as it goes.
#[derive(Clone, Debug)]
pub struct ConsumerRecord {
    seen: Vec<Bitmap>,
    /// Per producer: the highest sequence number received plus one, 0 for none.
    next: Vec<u64>,
    check_order: bool,
    received: u64,
    in_hand: u64,
    duplicated: u64,
    duplicates: Vec<(u32, u64)>,
    reordered: u64,
    reorders: Vec<(u32, u64, u64)>,
    unexpected: u64,
    unexpecteds: Vec<(u32, u64)>,
}

impl ConsumerRecord {
    /// Records one received item. Cheap enough for the hot path: a few bit operations.
    #[inline]
    pub fn record(&mut self, producer: u32, seq: u64) {
        self.received += 1;
        let p = producer as usize;
        match self.seen.get_mut(p).and_then(|bits| bits.set(seq)) {
            None => {
                self.unexpected += 1;
                if self.unexpecteds.len() < EXAMPLES {
                    self.unexpecteds.push((producer, seq));
                }
            }
            Some(true) => {
                self.duplicated += 1;
                if self.duplicates.len() < EXAMPLES {
                    self.duplicates.push((producer, seq));
                }
            }
            Some(false) => {
                if self.check_order {
                    let next = &mut self.next[p];
                    if seq < *next {
                        self.reordered += 1;
                        if self.reorders.len() < EXAMPLES {
                            self.reorders.push((producer, seq, *next - 1));
                        }
                    } else {
                        *next = seq + 1;
                    }
                }
            }
        }
    }

    /// Records an item received just before this consumer panicked: it counts as in hand at a
    /// panic, not as delivered.
    pub fn record_in_hand_at_panic(&mut self, producer: u32, seq: u64) {
        self.record(producer, seq);
        self.in_hand += 1;
    }

    /// Items received, duplicates included.
    pub fn received(&self) -> u64 {
        self.received
    }
}

/// What the ledger needs to know about the run besides the records.
#[derive(Clone, Debug, Default)]
pub struct RunFacts {
    /// Payload drops counted over the run (see `item`).
    pub payloads_dropped: u64,
    /// Every consumer died (a fault): the buffer may discard what it still held.
    pub consumers_all_gone: bool,
    /// A fault may stop producers before they offer their whole share.
    pub early_stop_allowed: bool,
    /// Violations found outside the records (a worker panicked, an order check failed).
    pub extra: Vec<Violation>,
    /// The order check made from the run's send and receive log, if any.
    pub order_check: Option<OrderCheck>,
}

/// The verification ledger of one run: the plan to compare the records against.
#[derive(Clone, Debug)]
pub struct Ledger {
    planned: Vec<u64>,
    check_order: bool,
}

impl Ledger {
    /// A ledger for producers that plan to send `planned[i]` items each, checking per-producer
    /// order when `check_order` (pass `B::CAPABILITIES.preserves_producer_order()`).
    pub fn new(planned: Vec<u64>, check_order: bool) -> Self {
        Self {
            planned,
            check_order,
        }
    }

    /// An empty record for a producer.
    pub fn producer_record(&self) -> ProducerRecord {
        ProducerRecord {
            offered: 0,
            accepted: 0,
            refused: Bitmap::default(),
            handed_back: 0,
            dropped_by_policy: 0,
            timed_out: 0,
            evicted_refused: 0,
            evictions: Vec::new(),
            in_hand: None,
        }
    }

    /// An empty record for a consumer, sized for the plan.
    pub fn consumer_record(&self) -> ConsumerRecord {
        ConsumerRecord {
            seen: self.planned.iter().map(|&n| Bitmap::with_len(n)).collect(),
            next: vec![0; self.planned.len()],
            check_order: self.check_order,
            received: 0,
            in_hand: 0,
            duplicated: 0,
            duplicates: Vec::new(),
            reordered: 0,
            reorders: Vec::new(),
            unexpected: 0,
            unexpecteds: Vec::new(),
        }
    }

    /// Merges the records and checks everything. `producers[i]` is producer `i`'s record.
    pub fn verify<P, C>(&self, producers: &[P], consumers: &[C], facts: RunFacts) -> Verification
    where
        P: Borrow<ProducerRecord>,
        C: Borrow<ConsumerRecord>,
    {
        let producers: Vec<&ProducerRecord> = producers.iter().map(Borrow::borrow).collect();
        let consumers: Vec<&ConsumerRecord> = consumers.iter().map(Borrow::borrow).collect();
        let mut v = Verification {
            runs: 1,
            order_checked: self.check_order,
            discipline_checked: facts.order_check,
            planned: self.planned.iter().sum(),
            payloads_dropped: facts.payloads_dropped,
            ..Verification::default()
        };
        let mut violations = Violations::default();
        for extra in facts.extra {
            violations.push(extra);
        }

        if producers.len() != self.planned.len() {
            violations.push(Violation::Internal {
                message: format!(
                    "{} producer records for {} producers",
                    producers.len(),
                    self.planned.len()
                ),
            });
        }

        for consumer in &consumers {
            v.duplicated += consumer.duplicated;
            v.reordered += consumer.reordered;
            v.unexpected += consumer.unexpected;
            v.in_hand_at_panic += consumer.in_hand;
        }
        for (c, consumer) in consumers.iter().enumerate() {
            for &(producer, seq) in &consumer.duplicates {
                violations.push(Violation::Duplicated { producer, seq });
            }
            for &(producer, seq, after) in &consumer.reorders {
                violations.push(Violation::Reordered {
                    consumer: c as u32,
                    producer,
                    seq,
                    after,
                });
            }
            for &(producer, seq) in &consumer.unexpecteds {
                violations.push(Violation::Unexpected { producer, seq });
            }
        }

        // Evictions, reported by whichever producer evicted, filed under the item's owner.
        let mut evicted: Vec<Bitmap> = self.planned.iter().map(|&n| Bitmap::with_len(n)).collect();
        for record in &producers {
            v.evicted += record.evicted_refused;
            for &(producer, seq) in &record.evictions {
                v.evicted += 1;
                match evicted.get_mut(producer as usize).and_then(|b| b.set(seq)) {
                    None => {
                        v.unexpected += 1;
                        violations.push(Violation::Unexpected { producer, seq });
                    }
                    Some(true) => violations.push(Violation::EvictedTwice { producer, seq }),
                    Some(false) => {}
                }
            }
        }

        let mut distinct = 0;
        for (p, record) in producers.iter().enumerate() {
            let planned = self.planned.get(p).copied().unwrap_or(0);
            v.offered += record.offered;
            v.handed_back += record.handed_back;
            v.dropped_by_policy += record.dropped_by_policy;
            v.timed_out += record.timed_out;
            v.in_hand_at_panic += u64::from(record.in_hand.is_some());
            v.not_offered += planned.saturating_sub(record.offered);
            let refusals = record.handed_back
                + record.dropped_by_policy
                + record.timed_out
                + record.evicted_refused;
            if record.accepted + refusals + u64::from(record.in_hand.is_some()) != record.offered {
                violations.push(Violation::Internal {
                    message: format!(
                        "producer-{} offered {} items but accounts for {}",
                        p + 1,
                        record.offered,
                        record.accepted + refusals
                    ),
                });
            }
            if record.offered < planned && !facts.early_stop_allowed {
                violations.push(Violation::StoppedEarly {
                    producer: p as u32,
                    offered: record.offered,
                    planned,
                });
            }
            let producer = p as u32;
            let words = planned.div_ceil(64) as usize;
            for w in 0..words {
                let mut received = 0u64;
                for consumer in &consumers {
                    let bits = consumer.seen.get(p).map_or(0, |b| b.word(w));
                    // Cross-consumer duplicates: a bit another consumer already set.
                    let both = received & bits;
                    if both != 0 {
                        v.duplicated += u64::from(both.count_ones());
                        for seq in bits_of(w, both) {
                            violations.push(Violation::Duplicated { producer, seq });
                        }
                    }
                    received |= bits;
                }
                let offered = mask_below(w, record.offered);
                let mut accounted = record.refused.word(w);
                if let Some(seq) = record.in_hand
                    && seq / 64 == w as u64
                {
                    accounted |= 1 << (seq % 64);
                }
                distinct += u64::from(received.count_ones());
                let gone = evicted.get(p).map_or(0, |b| b.word(w));
                for seq in bits_of(w, gone & received) {
                    violations.push(Violation::EvictedAndReceived { producer, seq });
                }
                for seq in bits_of(w, gone & (accounted | !offered)) {
                    violations.push(Violation::EvictedButNotAccepted { producer, seq });
                }
                let accounted = accounted | gone;
                let conflict = received & accounted & !gone;
                for seq in bits_of(w, conflict) {
                    violations.push(Violation::ReceivedAndRefused { producer, seq });
                }
                let phantom = received & !offered;
                v.unexpected += u64::from(phantom.count_ones());
                for seq in bits_of(w, phantom) {
                    violations.push(Violation::Unexpected { producer, seq });
                }
                let missing = offered & !received & !accounted;
                if facts.consumers_all_gone {
                    v.discarded_by_buffer += u64::from(missing.count_ones());
                } else {
                    v.lost += u64::from(missing.count_ones());
                    for seq in bits_of(w, missing) {
                        violations.push(Violation::Lost { producer, seq });
                    }
                }
            }
        }
        let consumer_in_hand: u64 = consumers.iter().map(|c| c.in_hand).sum();
        v.delivered = distinct.saturating_sub(consumer_in_hand);

        // Every item built was offered; every one must have been dropped exactly once.
        if v.payloads_dropped != v.offered {
            violations.push(Violation::PayloadDrops {
                created: v.offered,
                dropped: v.payloads_dropped,
            });
        }

        v.ok = violations.total == 0
            && v.lost == 0
            && v.duplicated == 0
            && v.reordered == 0
            && v.unexpected == 0;
        v.violation_count = violations.total;
        v.violations = violations.kept;
        v
    }
}

/// Keeps the first examples of each kind and counts all of them.
#[derive(Default)]
struct Violations {
    kept: Vec<Violation>,
    per_kind: std::collections::HashMap<&'static str, usize>,
    total: u64,
}

impl Violations {
    fn push(&mut self, violation: Violation) {
        self.total += 1;
        let seen = self.per_kind.entry(violation.kind()).or_default();
        if *seen < EXAMPLES {
            *seen += 1;
            self.kept.push(violation);
        }
    }
}

/// One failed check, naming the item or thread involved. Producers and consumers are shown
/// 1-based, as their threads are named (`producer-1` is index 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// An accepted item was never received.
    Lost {
        /// Producer index (0-based).
        producer: u32,
        /// Sequence number.
        seq: u64,
    },
    /// An item was received more than once.
    Duplicated {
        /// Producer index (0-based).
        producer: u32,
        /// Sequence number.
        seq: u64,
    },
    /// A consumer received an item after a later item of the same producer.
    Reordered {
        /// Consumer index (0-based).
        consumer: u32,
        /// Producer index (0-based).
        producer: u32,
        /// The item received late.
        seq: u64,
        /// The later item received before it.
        after: u64,
    },
    /// An item that was never offered was received (unknown producer or sequence number).
    Unexpected {
        /// Producer index (0-based) as the item claims.
        producer: u32,
        /// Sequence number.
        seq: u64,
    },
    /// An item was received although its send failed and handed it back (or dropped it).
    ReceivedAndRefused {
        /// Producer index (0-based).
        producer: u32,
        /// Sequence number.
        seq: u64,
    },
    /// An item `force_send` reported as evicted was also received.
    EvictedAndReceived {
        /// Producer index (0-based).
        producer: u32,
        /// Sequence number.
        seq: u64,
    },
    /// `force_send` reported the same item as evicted more than once.
    EvictedTwice {
        /// Producer index (0-based).
        producer: u32,
        /// Sequence number.
        seq: u64,
    },
    /// `force_send` reported as evicted an item that was never accepted (refused, in hand at
    /// a panic, or never offered).
    EvictedButNotAccepted {
        /// Producer index (0-based).
        producer: u32,
        /// Sequence number.
        seq: u64,
    },
    /// A producer stopped before offering its whole share, with no fault to explain it.
    StoppedEarly {
        /// Producer index (0-based).
        producer: u32,
        /// Items it offered.
        offered: u64,
        /// Items it planned to offer.
        planned: u64,
    },
    /// Payload drops do not match payloads created.
    PayloadDrops {
        /// Payloads created (= offered).
        created: u64,
        /// Payload drops counted.
        dropped: u64,
    },
    /// `close()` returned `true` other than exactly once in a close storm.
    CloseCount {
        /// How many calls returned `true`.
        returned_true: u64,
    },
    /// A worker thread panicked without a fault asking it to.
    Panicked {
        /// The thread's name.
        thread: String,
        /// The panic message.
        message: String,
    },
    /// A priority buffer handed out an item while an item of higher priority, accepted
    /// before that receive began, was still buffered (see [`crate::discipline`]).
    PriorityInversion {
        /// The producer (0-based) of the item received too early.
        producer: u32,
        /// Its sequence number.
        seq: u64,
        /// Its priority.
        priority: u8,
        /// The producer (0-based) of the higher-priority item that was waiting.
        waiting_producer: u32,
        /// Its sequence number.
        waiting_seq: u64,
        /// Its priority.
        waiting_priority: u8,
    },
    /// A LIFO buffer handed out an item while a newer item of the same producer, accepted
    /// before that receive began, was still buffered (see [`crate::discipline`]).
    LifoOrder {
        /// The item received too early.
        seq: u64,
        /// The newer item that was waiting.
        newer: u64,
    },
    /// The harness's own bookkeeping does not add up.
    Internal {
        /// What does not add up.
        message: String,
    },
}

impl Violation {
    fn kind(&self) -> &'static str {
        match self {
            Self::Lost { .. } => "lost",
            Self::Duplicated { .. } => "duplicated",
            Self::Reordered { .. } => "reordered",
            Self::Unexpected { .. } => "unexpected",
            Self::ReceivedAndRefused { .. } => "received_and_refused",
            Self::EvictedAndReceived { .. } => "evicted_and_received",
            Self::EvictedTwice { .. } => "evicted_twice",
            Self::EvictedButNotAccepted { .. } => "evicted_but_not_accepted",
            Self::StoppedEarly { .. } => "stopped_early",
            Self::PayloadDrops { .. } => "payload_drops",
            Self::CloseCount { .. } => "close_count",
            Self::Panicked { .. } => "panicked",
            Self::PriorityInversion { .. } => "priority_inversion",
            Self::LifoOrder { .. } => "lifo_order",
            Self::Internal { .. } => "internal",
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lost { producer, seq } => {
                write!(
                    f,
                    "lost: producer-{} seq {seq} was accepted but never received",
                    producer + 1
                )
            }
            Self::Duplicated { producer, seq } => {
                write!(
                    f,
                    "duplicated: producer-{} seq {seq} was received more than once",
                    producer + 1
                )
            }
            Self::Reordered {
                consumer,
                producer,
                seq,
                after,
            } => write!(
                f,
                "reordered: consumer-{} received producer-{} seq {seq} after seq {after}",
                consumer + 1,
                producer + 1
            ),
            Self::Unexpected { producer, seq } => write!(
                f,
                "unexpected: producer-{} seq {seq} was received but never offered",
                producer + 1
            ),
            Self::ReceivedAndRefused { producer, seq } => write!(
                f,
                "received and refused: producer-{} seq {seq} was received although its send failed",
                producer + 1
            ),
            Self::EvictedAndReceived { producer, seq } => write!(
                f,
                "evicted and received: producer-{} seq {seq} was evicted by force_send and \
                 also received",
                producer + 1
            ),
            Self::EvictedTwice { producer, seq } => write!(
                f,
                "evicted twice: producer-{} seq {seq} was handed back as evicted more than once",
                producer + 1
            ),
            Self::EvictedButNotAccepted { producer, seq } => write!(
                f,
                "evicted but not accepted: producer-{} seq {seq} was handed back as evicted \
                 although the buffer never accepted it",
                producer + 1
            ),
            Self::StoppedEarly {
                producer,
                offered,
                planned,
            } => write!(
                f,
                "stopped early: producer-{} offered {offered} of {planned} items (the buffer disconnected)",
                producer + 1
            ),
            Self::PayloadDrops { created, dropped } => write!(
                f,
                "payload drops: {created} payloads created, {dropped} dropped"
            ),
            Self::CloseCount { returned_true } => write!(
                f,
                "close count: close() returned true {returned_true} times, expected exactly once"
            ),
            Self::Panicked { thread, message } => write!(f, "panicked: {thread}: {message}"),
            Self::PriorityInversion {
                producer,
                seq,
                priority,
                waiting_producer,
                waiting_seq,
                waiting_priority,
            } => write!(
                f,
                "priority inversion: producer-{} seq {seq} (priority {priority}) was received \
                 while producer-{} seq {waiting_seq} (priority {waiting_priority}), accepted \
                 before that receive began, was still buffered",
                producer + 1,
                waiting_producer + 1
            ),
            Self::LifoOrder { seq, newer } => write!(
                f,
                "LIFO order: seq {seq} was received while seq {newer}, pushed later and \
                 accepted before that receive began, was still buffered"
            ),
            Self::Internal { message } => write!(f, "internal: {message}"),
        }
    }
}

/// The result of checking one run (or, summed, several).
///
/// The counts satisfy `offered = delivered + handed_back + dropped_by_policy + evicted + timed_out +
/// in_hand_at_panic + discarded_by_buffer + lost`, and `planned = offered + not_offered`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Verification {
    /// Whether every check passed.
    pub ok: bool,
    /// How many runs this verification covers (warm-ups included).
    pub runs: u64,
    /// Items the producers planned to send (the workload's messages).
    pub planned: u64,
    /// Items built and offered to the buffer.
    pub offered: u64,
    /// Distinct items received and processed by a consumer.
    pub delivered: u64,
    /// Items a disconnected buffer handed back to their producer.
    pub handed_back: u64,
    /// Items dropped by the backpressure policy (`drop-newest`: the item being sent).
    pub dropped_by_policy: u64,
    /// Items `force_send` evicted to make room (`drop-oldest`), handed back and never
    /// delivered.
    pub evicted: u64,
    /// Items whose `send_timeout` timed out.
    pub timed_out: u64,
    /// Items in a thread's hand when a fault made it panic (dropped by the unwinding).
    pub in_hand_at_panic: u64,
    /// Items the buffer dropped when every consumer was gone (consumer-panic fault).
    pub discarded_by_buffer: u64,
    /// Items never offered because a fault stopped their producer.
    pub not_offered: u64,
    /// Accepted items never received (a violation).
    pub lost: u64,
    /// Extra deliveries of items already received (a violation).
    pub duplicated: u64,
    /// Items received after a later item of the same producer (a violation on FIFO backends).
    pub reordered: u64,
    /// Received items that were never offered (a violation).
    pub unexpected: u64,
    /// Payload drops counted; equals `offered` when every payload was dropped exactly once.
    pub payloads_dropped: u64,
    /// Whether per-producer order was checked (the backend is FIFO, or a priority backend
    /// whose items all have one priority).
    pub order_checked: bool,
    /// The order check made from the send and receive log (`"priority"` or `"lifo"`), or
    /// `null`; see [`crate::discipline`].
    pub discipline_checked: Option<OrderCheck>,
    /// How many violations were found in all.
    pub violation_count: u64,
    /// The first violations of each kind, naming the items.
    pub violations: Vec<Violation>,
    /// Which run the first violation came from ("warm-up 1", "repetition 3"), when summed.
    pub first_failure: Option<String>,
}

impl Verification {
    /// Adds another run's verification into this one. `label` names the other run in
    /// `first_failure`.
    pub fn absorb(&mut self, other: Verification, label: &str) {
        if self.runs == 0 {
            self.ok = true;
            self.order_checked = other.order_checked;
            self.discipline_checked = other.discipline_checked;
        }
        if !other.ok && self.first_failure.is_none() {
            self.first_failure = Some(other.first_failure.unwrap_or_else(|| label.to_owned()));
        }
        self.ok &= other.ok;
        self.runs += other.runs;
        self.planned += other.planned;
        self.offered += other.offered;
        self.delivered += other.delivered;
        self.handed_back += other.handed_back;
        self.dropped_by_policy += other.dropped_by_policy;
        self.evicted += other.evicted;
        self.timed_out += other.timed_out;
        self.in_hand_at_panic += other.in_hand_at_panic;
        self.discarded_by_buffer += other.discarded_by_buffer;
        self.not_offered += other.not_offered;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.reordered += other.reordered;
        self.unexpected += other.unexpected;
        self.payloads_dropped += other.payloads_dropped;
        self.violation_count += other.violation_count;
        let room = (EXAMPLES * 4).saturating_sub(self.violations.len());
        self.violations
            .extend(other.violations.into_iter().take(room));
    }

    /// A one-line summary: "ok: 1000000 delivered exactly once, ..." or the first violation.
    pub fn summary(&self) -> String {
        if !self.ok {
            let first = self
                .violations
                .first()
                .map_or_else(|| "unknown".to_owned(), ToString::to_string);
            let place = self
                .first_failure
                .as_deref()
                .map_or_else(String::new, |p| format!(" in {p}"));
            return format!(
                "FAILED{place}: {} violations (lost {}, duplicated {}, reordered {}); first: {first}",
                self.violation_count, self.lost, self.duplicated, self.reordered
            );
        }
        let mut text = format!("ok: {} delivered exactly once", self.delivered);
        if self.order_checked {
            text.push_str(", per-producer order kept");
        }
        if let Some(check) = self.discipline_checked {
            text.push_str(", ");
            text.push_str(check.describe());
        }
        for (count, what) in [
            (self.handed_back, "handed back"),
            (self.dropped_by_policy, "dropped by policy"),
            (self.evicted, "evicted"),
            (self.timed_out, "timed out"),
            (self.in_hand_at_panic, "in hand at a panic"),
            (self.discarded_by_buffer, "discarded by the buffer"),
            (self.not_offered, "not offered"),
        ] {
            if count > 0 {
                text.push_str(&format!(", {count} {what}"));
            }
        }
        text.push_str(&format!(
            ", {} payloads dropped once each",
            self.payloads_dropped
        ));
        text
    }
}

#[cfg(test)]
mod tests {
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
        let ledger = Ledger::new(vec![3, 2], true);
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

    #[test]
    fn lost_items_are_named_lowest_first() {
        let ledger = Ledger::new(vec![100], true);
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
        let ledger = Ledger::new(vec![4], false);
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
            let ledger = Ledger::new(vec![3], fifo);
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
        let ledger = Ledger::new(vec![2], true);
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
        let ledger = Ledger::new(vec![3], true);
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
        let ledger = Ledger::new(vec![10, 10], true);
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
        let ledger = Ledger::new(vec![5], true);
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
        let ledger = Ledger::new(vec![6], true);
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
        let ledger = Ledger::new(vec![2], true);
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
        let ledger = Ledger::new(vec![1000], true);
        let producers = all_accepted(&ledger, &[1000]);
        let c = ledger.consumer_record();
        let v = ledger.verify(&producers, &[c], facts(1000));
        assert_eq!(v.lost, 1000);
        assert_eq!(v.violation_count, 1000);
        assert_eq!(v.violations.len(), EXAMPLES);
    }

    #[test]
    fn absorbing_sums_and_names_the_first_failure() {
        let ledger = Ledger::new(vec![1], true);
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
        let ledger = Ledger::new(vec![5, 2], true);
        let mut p1 = ledger.producer_record();
        p1.accepted(0, 4);
        p1.refused(4, Refusal::Evicted);
        p1.evicted(0, 2);
        let mut p2 = ledger.producer_record();
        p2.accepted(0, 2);
        p2.evicted(0, 1);
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
        let ledger = Ledger::new(vec![4], true);
        let mut p = ledger.producer_record();
        p.accepted(0, 3);
        p.refused(3, Refusal::DroppedByPolicy);
        p.evicted(0, 0);
        p.evicted(0, 1);
        p.evicted(0, 1);
        p.evicted(0, 3);
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
