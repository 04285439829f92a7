//! Fault injection, and the rules each fault follows so that the ledger stays whole.
//!
//! | fault | what happens | how the ledger accounts for it |
//! | --- | --- | --- |
//! | `consumer-panic[:K]` | The first consumer to have received `K` items (default: a quarter of an even consumer share), receives one more and panics while holding it. The other consumers go on. If it was the only consumer, the buffer disconnects: blocked and later sends fail and hand their items back, and each producer stops at its first refused item. | The item in its hand (with batches: every item of the batch not yet processed) counts as *in hand at a panic*; refused items as *handed back*; what the buffer still held when the last consumer went counts as *discarded by the buffer* (allowed only when every consumer is gone); the producers' unsent remainder as *not offered*. |
//! | `consumer-stall[:DUR\|forever]` | The first consumer to reach half of an even consumer share stops there for `DUR` (default 200 ms), then resumes. `forever` never resumes, so the watchdog ends the run (exit code 4). | Nothing is lost: every item is delivered. |
//! | `producer-panic[:K]` | `producer-1` sends `K` items (default: half its share), builds the next and panics while holding it. The other producers go on; the consumers drain and finish. | The built item counts as *in hand at a panic*, the rest of its share as *not offered*. |
//! | `close-storm[:N]` | `N` extra threads (default 4, named `closer-N`, alternately holding a producer and a consumer handle) wait for a seeded random moment (when `producer-1` reaches a random item of its share, or finishes), meet at a barrier and all call `close()` at once. | Exactly one `close()` must return `true`. Every accepted item is still delivered; each producer's first refused item counts as *handed back* and it stops, the rest as *not offered*. |
//! | `lose-item` | A self-test of the verifier: the first consumer to receive an item throws it away without recording it. | The run must fail verification with one *lost* item (exit code 3). |
//!
//! A consumer fault lands on whichever consumer reaches its point first (one per run), so it
//! fires however unfairly the buffer shares items out, as long as one consumer gets that
//! many. A producer fault needs `K` items of `producer-1`; the measurement reports in how many
//! runs each fault actually fired.
//!
//! Injected panics unwind with [`std::panic::resume_unwind`], which skips the panic hook, so
//! they print nothing. Any other panic in a worker is a violation.

use std::sync::{Condvar, Mutex};

use crate::spec::{Fault, Stall, Workload};

/// The payload of an injected panic, so it can be told apart from a real one.
#[derive(Debug)]
pub(crate) struct InjectedPanic;

/// Unwinds the current thread without running the panic hook.
pub(crate) fn inject_panic() -> ! {
    std::panic::resume_unwind(Box::new(InjectedPanic))
}

/// The fault of one run, resolved to concrete thread indexes and item counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FaultPlan {
    /// The first consumer to receive its item number `K` (0-based) panics.
    pub(crate) consumer_panic_at: Option<u64>,
    /// The first consumer to receive this many items stalls.
    pub(crate) consumer_stall_at: Option<(u64, Stall)>,
    /// `producer-1` panics instead of sending its item `K`.
    pub(crate) producer_panic_at: Option<u64>,
    /// `producer-1` fires the close storm when it reaches item `K`.
    pub(crate) close_storm_at: Option<u64>,
    /// Closer threads.
    pub(crate) closers: usize,
    /// The first consumer to receive an item loses it.
    pub(crate) lose_item: bool,
}

impl FaultPlan {
    /// Resolves the workload's fault for the run with this seed.
    pub(crate) fn new(workload: &Workload, seed: u64) -> Self {
        let consumers = workload.consumer_count().max(1) as u64;
        let consumer_share = workload.messages / consumers;
        let producer_share = workload.share(0);
        let mut plan = Self::default();
        match workload.fault {
            None => {}
            Some(Fault::ConsumerPanic { after }) => {
                plan.consumer_panic_at = Some(after.unwrap_or(consumer_share / 4));
            }
            Some(Fault::ConsumerStall { stall }) => {
                plan.consumer_stall_at = Some((consumer_share / 2, stall));
            }
            Some(Fault::ProducerPanic { after }) => {
                plan.producer_panic_at = Some(after.unwrap_or(producer_share / 2));
            }
            Some(Fault::CloseStorm { closers }) => {
                let mut rng = fastrand::Rng::with_seed(seed);
                plan.close_storm_at = Some(rng.u64(0..producer_share.max(1)));
                plan.closers = closers;
            }
            Some(Fault::LoseItem) => plan.lose_item = true,
        }
        plan
    }
}

/// A one-shot signal: the close storm's starting gun.
#[derive(Debug, Default)]
pub(crate) struct Trigger {
    fired: Mutex<bool>,
    condvar: Condvar,
}

impl Trigger {
    pub(crate) fn fire(&self) {
        let mut fired = self.fired.lock().unwrap_or_else(|e| e.into_inner());
        if !*fired {
            *fired = true;
            self.condvar.notify_all();
        }
    }

    /// Waits until fired or until `give_up` returns true (checked every 20 ms). Returns whether
    /// it fired.
    pub(crate) fn wait(&self, give_up: impl Fn() -> bool) -> bool {
        let mut fired = self.fired.lock().unwrap_or_else(|e| e.into_inner());
        while !*fired {
            if give_up() {
                return false;
            }
            fired = self
                .condvar
                .wait_timeout(fired, std::time::Duration::from_millis(20))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_follow_the_documented_defaults() {
        let w = Workload::new().producers(2).consumers(2).messages(800);
        let plan = FaultPlan::new(
            &w.clone().fault(Some(Fault::ConsumerPanic { after: None })),
            1,
        );
        assert_eq!(plan.consumer_panic_at, Some(100));
        let plan = FaultPlan::new(
            &w.clone().fault(Some(Fault::ProducerPanic { after: None })),
            1,
        );
        assert_eq!(plan.producer_panic_at, Some(200));
        let plan = FaultPlan::new(&w.clone().fault(Some(Fault::CloseStorm { closers: 3 })), 7);
        assert!(plan.close_storm_at.unwrap() < 400);
        assert_eq!(plan.closers, 3);
        assert_eq!(
            plan,
            FaultPlan::new(&w.fault(Some(Fault::CloseStorm { closers: 3 })), 7),
            "the same seed gives the same moment"
        );
    }
}
