//! [`Violation`]: one failed check, naming the items or thread involved; and the collector
//! that keeps the first examples of each kind while counting all of them.

use std::fmt;

use serde::Serialize;

use super::EXAMPLES;

/// Keeps the first examples of each kind and counts all of them.
#[derive(Default)]
pub(super) struct Violations {
    pub(super) kept: Vec<Violation>,
    per_kind: std::collections::HashMap<&'static str, usize>,
    pub(super) total: u64,
}

impl Violations {
    pub(super) fn push(&mut self, violation: Violation) {
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
    /// On a run checked by count and fingerprint: the consumers received another number of
    /// items than the buffer accepted (the count cannot say which items).
    Count {
        /// Items the producers say the buffer accepted, less those evicted.
        accepted: u64,
        /// Items the consumers received.
        received: u64,
    },
    /// On a run checked by count and fingerprint: as many items were received as accepted,
    /// but not the same ones (an item lost and another received twice, or one never offered).
    Fingerprint {
        /// Items received, as many as were accepted.
        items: u64,
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
    /// before that receive began, was still buffered (see `verify/order.rs` and `docs/method.md`).
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
    /// before that receive began, was still buffered (see `verify/order.rs` and `docs/method.md`).
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
            Self::Count { .. } => "count",
            Self::Fingerprint { .. } => "fingerprint",
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

impl Violation {
    /// For a violation about one item: its producer, its sequence number and what happened to
    /// it, as `Display` words it after the kind.
    fn item(&self) -> Option<(u32, u64, &'static str)> {
        let (producer, seq, what) = match *self {
            Self::Lost { producer, seq } => (producer, seq, "was accepted but never received"),
            Self::Duplicated { producer, seq } => (producer, seq, "was received more than once"),
            Self::Unexpected { producer, seq } => (producer, seq, "was received but never offered"),
            Self::ReceivedAndRefused { producer, seq } => {
                (producer, seq, "was received although its send failed")
            }
            Self::EvictedAndReceived { producer, seq } => {
                (producer, seq, "was evicted by force_send and also received")
            }
            Self::EvictedTwice { producer, seq } => {
                (producer, seq, "was handed back as evicted more than once")
            }
            Self::EvictedButNotAccepted { producer, seq } => (
                producer,
                seq,
                "was handed back as evicted although the buffer never accepted it",
            ),
            _ => return None,
        };
        Some((producer, seq, what))
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((producer, seq, what)) = self.item() {
            let kind = self.kind().replace('_', " ");
            return write!(f, "{kind}: producer-{} seq {seq} {what}", producer + 1);
        }
        match self {
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
            Self::Count { accepted, received } => write!(
                f,
                "count: the buffer accepted {accepted} items and the consumers received \
                 {received} (a run checked by count and fingerprint, which cannot name the items)"
            ),
            Self::Fingerprint { items } => write!(
                f,
                "fingerprint: the {items} items received are not the {items} items accepted: \
                 one was lost and another received twice or never offered (a run checked by \
                 count and fingerprint, which cannot name the items)"
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
            // Described by `item` above.
            Self::Lost { .. }
            | Self::Duplicated { .. }
            | Self::Unexpected { .. }
            | Self::ReceivedAndRefused { .. }
            | Self::EvictedAndReceived { .. }
            | Self::EvictedTwice { .. }
            | Self::EvictedButNotAccepted { .. } => Ok(()),
        }
    }
}
