//! Checks a run against the order its backend declares, from a log of sends and receives
//! rather than by trusting the buffer: no item received while a higher-priority item sat in
//! the buffer (priority, one consumer), no item received while a newer one sat in it (LIFO,
//! one producer and one consumer).
//!
//! # The log
//!
//! One atomic counter, the run's *clock*, hands out tickets. A producer takes a ticket right
//! after a send returns `Ok` (the item is in the buffer, or already received); a consumer takes
//! one right before each receive call starts. So when item X's send ticket is below the ticket
//! of the receive that returned item Y, X's send completed before that receive began: X was
//! accepted before Y was taken.
//!
//! # Why a flagged pair is a definite violation
//!
//! With one consumer, receives are one sequence. If X was accepted before the receive of Y
//! began and X is received *after* Y, then X sat in the buffer for the whole of Y's receive:
//! nobody else takes items, and an evicted item is never received. A priority buffer that
//! hands out Y while X, of higher priority, is buffered breaks its contract; so does a LIFO
//! buffer that hands out Y while X, pushed after Y by the same producer, is buffered. At
//! capacity 0 an accepted item is already received, so it can never be flagged. A batch
//! receive takes one ticket for the whole batch, which is sound for the same reason: every
//! item accepted before the batch began and received after one of its items was buffered
//! while that item was taken.
//!
//! Pairs the log cannot order (X accepted while Y's receive was under way) are never flagged,
//! so the check can miss an inversion but never invents one. It needs one consumer; the LIFO
//! check also needs one producer, because only then is the push order known (it is the
//! sequence order).
//!
//! The clock is a contended cache line touched twice per item, so runs turn the log on only
//! where a check applies (see [`OrderChecks::for_run`]), and such runs measure a slower
//! buffer than they would without it.

use std::collections::BTreeMap;

use buffer_api::{Capabilities, Discipline};
use serde::Serialize;

use super::Violation;

/// A send ticket meaning "never accepted".
pub(crate) const NOT_SENT: u64 = u64::MAX;

/// Which order check a run makes from its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderCheck {
    /// No item received while a higher-priority one was buffered (one consumer).
    Priority,
    /// No item received while a newer one was buffered (one producer, one consumer).
    Lifo,
}

/// The order checks of one run, decided in this one place from the backend's declared
/// discipline and the run's topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OrderChecks {
    /// Whether the [`Ledger`](super::Ledger) checks per-producer order: items of one producer
    /// reach a consumer in the order sent on FIFO backends, and on a priority backend when
    /// every item has the same priority (equal priorities leave in FIFO order).
    pub(crate) per_producer: bool,
    /// The check made from the run's send and receive log, if any (it needs one consumer, and
    /// for LIFO one producer too).
    pub(crate) logged: Option<OrderCheck>,
}

impl OrderChecks {
    /// The checks a run of `producers:consumers` threads with `priorities` levels makes on a
    /// backend with `capabilities`.
    pub(crate) fn for_run(
        capabilities: &Capabilities,
        producers: usize,
        consumers: usize,
        priorities: u32,
    ) -> Self {
        let per_producer = capabilities.preserves_producer_order()
            || (capabilities.discipline == Discipline::Priority && priorities == 1);
        let logged = match capabilities.discipline {
            Discipline::Priority if consumers == 1 && priorities > 1 => Some(OrderCheck::Priority),
            Discipline::Lifo if producers == 1 && consumers == 1 => Some(OrderCheck::Lifo),
            // An unordered buffer promises exactly once and nothing more.
            Discipline::Fifo | Discipline::Priority | Discipline::Lifo | Discipline::Unordered => {
                None
            }
        };
        Self {
            per_producer,
            logged,
        }
    }
}

impl OrderCheck {
    /// How the check reads in a summary.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Priority => "priority order kept",
            Self::Lifo => "LIFO order kept",
        }
    }
}

/// One receive in a consumer's log: the ticket taken before the receive call began, and the
/// item it returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Receipt {
    /// The clock's value taken before the receive call.
    pub(crate) ticket: u64,
    /// The item's producer (0-based).
    pub(crate) producer: u32,
    /// The item's sequence number.
    pub(crate) seq: u64,
}

/// The send ticket of item `seq` of `producer`, if the log has one.
fn send_ticket(sent: &[Vec<u64>], producer: u32, seq: u64) -> Option<u64> {
    let ticket = *sent
        .get(producer as usize)?
        .get(usize::try_from(seq).ok()?)?;
    (ticket != NOT_SENT).then_some(ticket)
}

/// Checks one consumer's receives against a priority buffer's contract.
///
/// `sent[p][seq]` is the send ticket of item `seq` of producer `p` ([`NOT_SENT`] when it was
/// not accepted); `receipts` is the consumer's log in receive order; `priority` gives an
/// item's priority, below `levels`. Returns one [`Violation::PriorityInversion`] per receive
/// that took an item while a higher-priority one was buffered, naming the highest such item.
/// Receipts of items the log does not know are skipped: the ledger reports those.
pub(crate) fn check_priority(
    sent: &[Vec<u64>],
    receipts: &[Receipt],
    levels: u32,
    priority: impl Fn(u32, u64) -> u8,
) -> Vec<Violation> {
    // Walking backwards, `waiting[level]` holds the earliest-sent item of that priority among
    // the receipts after the current one: the one most likely to have been buffered.
    let mut waiting: Vec<Option<(u64, u32, u64)>> = vec![None; levels.max(1) as usize];
    let mut found = Vec::new();
    for receipt in receipts.iter().rev() {
        let Some(sent_at) = send_ticket(sent, receipt.producer, receipt.seq) else {
            continue;
        };
        let level = usize::from(priority(receipt.producer, receipt.seq));
        if level >= waiting.len() {
            continue;
        }
        let higher = waiting[level + 1..]
            .iter()
            .enumerate()
            .rev()
            .find_map(|(above, slot)| {
                slot.filter(|&(ticket, _, _)| ticket < receipt.ticket)
                    .map(|s| (level + 1 + above, s))
            });
        if let Some((waiting_level, (_, producer, seq))) = higher {
            found.push(Violation::PriorityInversion {
                producer: receipt.producer,
                seq: receipt.seq,
                priority: level as u8,
                waiting_producer: producer,
                waiting_seq: seq,
                waiting_priority: waiting_level as u8,
            });
        }
        let slot = &mut waiting[level];
        if slot.is_none_or(|(ticket, _, _)| sent_at < ticket) {
            *slot = Some((sent_at, receipt.producer, receipt.seq));
        }
    }
    found.reverse();
    found
}

/// Checks the receives of a run with one producer and one consumer against a LIFO buffer's
/// contract.
///
/// `sent[seq]` is the send ticket of item `seq` ([`NOT_SENT`] when it was not accepted);
/// `receipts` is the consumer's log in receive order. Returns one [`Violation::LifoOrder`]
/// per receive that took an item while a newer one (a higher sequence number, so pushed
/// later) was buffered.
pub(crate) fn check_lifo(sent: &[u64], receipts: &[Receipt]) -> Vec<Violation> {
    // Received later, by sequence number, with their send tickets. One producer sends in
    // sequence order, so the lowest sequence number above an item was sent the earliest of
    // all the later-pushed items: if any of them was buffered, that one was.
    let mut later: BTreeMap<u64, u64> = BTreeMap::new();
    let mut found = Vec::new();
    let sent = [sent.to_vec()];
    for receipt in receipts.iter().rev() {
        let Some(sent_at) = send_ticket(&sent, receipt.producer, receipt.seq) else {
            continue;
        };
        if let Some((&newer, _)) = later
            .range(receipt.seq + 1..)
            .next()
            .filter(|(_, ticket)| **ticket < receipt.ticket)
        {
            found.push(Violation::LifoOrder {
                seq: receipt.seq,
                newer,
            });
        }
        later.insert(receipt.seq, sent_at);
    }
    found.reverse();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(ticket: u64, producer: u32, seq: u64) -> Receipt {
        Receipt {
            ticket,
            producer,
            seq,
        }
    }

    /// Priorities by sequence number, one producer.
    fn by_seq(priorities: &'static [u8]) -> impl Fn(u32, u64) -> u8 {
        move |_, seq| priorities[seq as usize]
    }

    #[test]
    fn priority_order_passes() {
        // Sends of priorities 1, 5, 3 complete (tickets 0-2) before the consumer starts:
        // it must take 5, 3, 1.
        let sent = vec![vec![0, 1, 2]];
        let receipts = [receipt(3, 0, 1), receipt(4, 0, 2), receipt(5, 0, 0)];
        assert_eq!(
            check_priority(&sent, &receipts, 8, by_seq(&[1, 5, 3])),
            vec![]
        );
    }

    #[test]
    fn an_inversion_is_named() {
        // Seq 0 (priority 1) is taken at ticket 3 although seq 1 (priority 5), sent at
        // ticket 1, was buffered: it is received later.
        let sent = vec![vec![0, 1, 2]];
        let receipts = [receipt(3, 0, 0), receipt(4, 0, 1), receipt(5, 0, 2)];
        let found = check_priority(&sent, &receipts, 8, by_seq(&[1, 5, 3]));
        assert_eq!(
            found,
            vec![Violation::PriorityInversion {
                producer: 0,
                seq: 0,
                priority: 1,
                waiting_producer: 0,
                waiting_seq: 1,
                waiting_priority: 5,
            }]
        );
        assert_eq!(
            found[0].to_string(),
            "priority inversion: producer-1 seq 0 (priority 1) was received while producer-1 \
             seq 1 (priority 5), accepted before that receive began, was still buffered"
        );
    }

    #[test]
    fn the_highest_waiting_priority_is_named() {
        // Two producers; seq 0 of producer-1 (priority 0) is taken while producer-2's
        // items of priorities 4 and 7 were both buffered.
        let sent = vec![vec![0], vec![1, 2]];
        let receipts = [receipt(5, 0, 0), receipt(6, 1, 1), receipt(7, 1, 0)];
        let found = check_priority(&sent, &receipts, 8, |p, seq| match (p, seq) {
            (0, _) => 0,
            (_, 0) => 4,
            _ => 7,
        });
        assert_eq!(
            found,
            vec![Violation::PriorityInversion {
                producer: 0,
                seq: 0,
                priority: 0,
                waiting_producer: 1,
                waiting_seq: 1,
                waiting_priority: 7,
            }]
        );
    }

    #[test]
    fn a_send_that_completes_during_the_receive_is_not_flagged() {
        // Seq 1 (priority 9) was accepted at ticket 4, after the receive of seq 0 began at
        // ticket 3: the buffer may have chosen before it arrived.
        let sent = vec![vec![0, 4]];
        let receipts = [receipt(3, 0, 0), receipt(5, 0, 1)];
        assert_eq!(
            check_priority(&sent, &receipts, 10, by_seq(&[0, 9])),
            vec![]
        );
    }

    #[test]
    fn equal_priorities_and_unknown_items_are_not_flagged() {
        let sent = vec![vec![0, 1, NOT_SENT]];
        let receipts = [
            receipt(3, 0, 1),
            receipt(4, 0, 0),
            receipt(5, 0, 2),
            receipt(6, 7, 0),
        ];
        assert_eq!(
            check_priority(&sent, &receipts, 4, by_seq(&[2, 2, 3])),
            vec![]
        );
    }

    #[test]
    fn lifo_order_passes() {
        // Pushes 0, 1, 2 complete, then the consumer pops 2 and 1; 3 is pushed; it pops 3, 0.
        let sent = [0, 1, 2, 5];
        let receipts = [
            receipt(3, 0, 2),
            receipt(4, 0, 1),
            receipt(6, 0, 3),
            receipt(7, 0, 0),
        ];
        assert_eq!(check_lifo(&sent, &receipts), vec![]);
    }

    #[test]
    fn lifo_order_violations_are_named() {
        // FIFO order from a LIFO buffer: seq 0 and 1 are taken while 2 was buffered.
        let sent = [0, 1, 2];
        let receipts = [receipt(3, 0, 0), receipt(4, 0, 1), receipt(5, 0, 2)];
        let found = check_lifo(&sent, &receipts);
        assert_eq!(
            found,
            vec![
                Violation::LifoOrder { seq: 0, newer: 1 },
                Violation::LifoOrder { seq: 1, newer: 2 },
            ]
        );
        assert_eq!(
            found[0].to_string(),
            "LIFO order: seq 0 was received while seq 1, pushed later and accepted before that \
             receive began, was still buffered"
        );
    }

    #[test]
    fn lifo_ignores_pushes_during_the_receive() {
        // Seq 1 was accepted (ticket 3) after the receive of seq 0 began (ticket 2).
        let sent = [0, 3];
        let receipts = [receipt(2, 0, 0), receipt(4, 0, 1)];
        assert_eq!(check_lifo(&sent, &receipts), vec![]);
    }

    #[test]
    fn the_check_follows_the_declared_discipline() {
        let caps = |discipline| Capabilities::new(discipline);
        let priority = caps(Discipline::Priority);
        assert_eq!(
            OrderChecks::for_run(&priority, 4, 1, 10).logged,
            Some(OrderCheck::Priority)
        );
        assert_eq!(OrderChecks::for_run(&priority, 4, 2, 10).logged, None);
        assert_eq!(OrderChecks::for_run(&priority, 4, 1, 1).logged, None);
        let lifo = caps(Discipline::Lifo);
        assert_eq!(
            OrderChecks::for_run(&lifo, 1, 1, 1).logged,
            Some(OrderCheck::Lifo)
        );
        assert_eq!(OrderChecks::for_run(&lifo, 2, 1, 1).logged, None);
        assert_eq!(
            OrderChecks::for_run(&caps(Discipline::Fifo), 1, 1, 10).logged,
            None
        );
        let unordered = caps(Discipline::Unordered);
        for (producers, consumers, priorities) in [(1, 1, 1), (1, 1, 10), (4, 4, 1)] {
            assert_eq!(
                OrderChecks::for_run(&unordered, producers, consumers, priorities),
                OrderChecks {
                    per_producer: false,
                    logged: None
                }
            );
        }
    }
}
