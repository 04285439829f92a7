//! [`Verification`]: the verdict on one run, or several summed, with its one-line summary.

use serde::Serialize;

use super::{EXAMPLES, Exactness, OrderCheck, Violation};
use crate::spec::Fault;

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
    /// Accepted items never received (a violation). On a run checked by count and fingerprint,
    /// the count's shortfall: at least that many were lost.
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
    /// `null`; see `verify/order.rs` and `docs/method.md`.
    pub discipline_checked: Option<OrderCheck>,
    /// Runs checked exactly once item by item, by the full ledger (every lost, duplicated or
    /// unexpected item named).
    pub ledger_runs: u64,
    /// Runs checked exactly once by count and fingerprint (a failure says which disagreed);
    /// see `verify/exactness.rs`.
    pub fingerprint_runs: u64,
    /// What the runs were checked by, in words ("warm-ups by the full ledger (every item by
    /// name), measured repetitions by count and fingerprint, per-producer order on every run");
    /// empty for a single run.
    pub checked: String,
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
    pub(crate) fn absorb(&mut self, other: Verification, label: &str) {
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
        self.ledger_runs += other.ledger_runs;
        self.fingerprint_runs += other.fingerprint_runs;
        let room = (EXAMPLES * 4).saturating_sub(self.violations.len());
        self.violations
            .extend(other.violations.into_iter().take(room));
    }

    /// Words in [`Self::checked`] what the runs of a workload with `warmups` warm-ups and
    /// `fault` were checked by, from the rule that chose it ([`Exactness::for_run`]).
    pub(crate) fn note_checks(&mut self, warmups: usize, fault: Option<Fault>) {
        self.checked = Exactness::describe_runs(warmups, fault);
        if self.order_checked {
            self.checked.push_str(", per-producer order on every run");
        }
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
