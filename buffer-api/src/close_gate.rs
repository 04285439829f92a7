//! An exact `close()` for channels that have none: a gate that every send passes through, so that
//! the closer knows when no send can still land in the channel.
//!
//! Adapters of crates without a close operation (crossbeam-channel, flume) share this one
//! mechanism, so the emulation is written, argued and tested once.
//!
//! # Why a plain flag is not exact
//!
//! The obvious emulation, "producers check an `AtomicBool`, then push; consumers report
//! `Disconnected` once the flag is set and the channel is empty", loses items. A producer can
//! load `closed == false`, be preempted, and push only after a consumer has seen the flag, found
//! the channel empty and reported `Disconnected` to every later call. The push returned `Ok`, so
//! the item counts as accepted, yet no consumer will ever receive it. The contract forbids exactly
//! that: every item whose send returned `Ok` is received before any consumer sees `Disconnected`.
//!
//! # The design
//!
//! The gate adds what the flag lacks: the closer waits until every send that passed the flag has
//! finished its push, and only then *seals* the buffer. Consumers report `Disconnected` only once
//! the buffer is sealed and empty.
//!
//! - Each producer handle owns a [`Lane`]: an in-flight counter on its own cache line, registered
//!   with the gate. Per-handle lanes keep producers on different threads (each with its own clone)
//!   from contending on one counter.
//! - A send [`enter`](CloseGate::enter)s the gate around its whole operation, raw attempt and
//!   blocking wait alike: it increments its lane's counter (`SeqCst`), then loads `closed`
//!   (`SeqCst`). If the buffer is closed it backs out and the send fails, handing its item back.
//!   Otherwise it holds a [`Pass`] until the push has finished or failed; dropping the pass
//!   decrements the counter (`Release`).
//! - [`close`](CloseGate::close) swaps `closed` to true (`SeqCst`), *fires* the adapter's wakeup so
//!   every blocked producer and consumer returns, takes a snapshot of the registered lanes, waits
//!   until each lane's counter reads 0, and finally stores `sealed = true`.
//! - Consumers ask for the [`Phase`] only when the channel looks empty: `Open` means block as
//!   usual (also waiting on the wakeup), `Closing` means a send may still land (retry after
//!   `yield_now`: the producers only have to finish one step), `Sealed` means one last raw receive
//!   decides between an item and `Disconnected`.
//!
//! Why this is exact: the counter increment and the `closed` swap are both `SeqCst`, so they are
//! totally ordered. If a send's increment comes first, the closer's later load of that counter
//! sees it, and waits until it reads the matching `Release` decrement, which makes the push
//! *happen before* the `sealed` store and therefore before any consumer's last receive. If the
//! swap comes first, the send's `closed` load sees `true` and the send refuses. A lane registered
//! after the closer took its snapshot is registered under the same mutex the closer took *after*
//! its swap, so that lane's first `enter` sees `closed` too.
//!
//! Holding a pass while blocked is fine, including at capacity 0 (rendezvous): `close` fires the
//! wakeup *before* it waits, so the blocked send returns and drops its pass.
//!
//! # A crate that cannot wait on a wake-up
//!
//! `fire` must wake every thread blocked in the wrapped crate. An adapter that can wait on two
//! things at once (crossbeam's `Select` over the operation and a wake-up channel that `fire`
//! disconnects) blocks exactly as long as it must. A crate without such a wait (flume's selector
//! loses items; std has none) blocks in slices of the crate's own timed operation instead and
//! looks at [`CloseGate::is_closed`] or [`CloseGate::phase`] between slices, with a `fire` that
//! does nothing. A close then reaches a blocked thread within one slice, and the adapter should
//! declare `blocking: Support::Emulated`. Holding a [`Pass`] across the slices is what keeps the
//! close exact: the closer waits for the sliced send to give up.
//!
//! # Cost
//!
//! One uncontended atomic increment and one decrement per send, on a cache line owned by the
//! producer handle, plus a load of `closed` that is shared read-only until the close. Receives pay
//! nothing on their fast path: the phase is read only when the channel is empty. Closing costs a
//! lock of the lane registry and a wait for in-flight sends; it happens once.
//!
//! # Example
//!
//! ```
//! use buffer_api::close_gate::{CloseGate, Phase};
//!
//! let gate = CloseGate::new();
//! let lane = gate.lane();
//! {
//!     let pass = gate.enter(&lane).expect("the gate is open");
//!     // ... push the item into the channel here ...
//!     drop(pass);
//! }
//! assert!(gate.close(|| { /* wake blocked threads here */ }));
//! assert!(gate.enter(&lane).is_none());
//! assert_eq!(gate.phase(), Phase::Sealed);
//! ```

use std::fmt;
use std::hint;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread;

/// How many times a waiting closer spins on a counter before it starts yielding.
const SPINS_BEFORE_YIELD: u32 = 64;

/// The shared close state of one buffer: the `closed` and `sealed` flags and the registry of
/// producer lanes.
///
/// Shared (through the adapter's `Arc`) by every handle of the buffer. See the
/// [module docs](self) for the protocol and why it is exact.
pub struct CloseGate {
    closed: AtomicBool,
    sealed: AtomicBool,
    /// Every lane ever registered; a dead `Weak` is a dropped handle, pruned on registration.
    lanes: Mutex<Vec<Weak<Slot>>>,
}

/// One in-flight counter, alone on its cache line (128 bytes covers adjacent-line prefetching).
#[repr(align(128))]
#[derive(Default)]
struct Slot(AtomicUsize);

/// A producer handle's registration with a [`CloseGate`]: the counter of its sends in flight.
///
/// Every producer handle, and every clone of one, takes its own lane with
/// [`CloseGate::lane`]. Dropping the lane unregisters it. A lane must only be used with the gate
/// that made it.
pub struct Lane {
    slot: Arc<Slot>,
}

/// Proof that one send is inside the gate; the closer waits until it is dropped.
///
/// Hold it across the whole send (raw attempt and blocking wait), and drop it once the item has
/// been accepted or refused.
#[must_use = "the send is in flight only while the pass is held"]
pub struct Pass<'a> {
    slot: &'a Slot,
}

/// Where a buffer stands with respect to `close()`, as a consumer that found it empty sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Not closed: block as usual, waiting on the close wakeup too.
    Open,
    /// Closed, but a send that entered before the close may still land: retry after
    /// `yield_now`.
    Closing,
    /// Closed and every accepted item is in the channel: one last receive decides between an item
    /// and `Disconnected`.
    Sealed,
}

impl CloseGate {
    /// A new, open gate with no lanes.
    pub fn new() -> Self {
        Self {
            closed: AtomicBool::new(false),
            sealed: AtomicBool::new(false),
            lanes: Mutex::new(Vec::new()),
        }
    }

    /// Registers a new lane, for a new producer handle or a clone of one.
    pub fn lane(&self) -> Lane {
        let slot = Arc::new(Slot::default());
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        lanes.retain(|lane| lane.strong_count() > 0);
        lanes.push(Arc::downgrade(&slot));
        Lane { slot }
    }

    /// Enters the gate for one send through `lane`, or returns `None` if the buffer is closed;
    /// the send must then fail with `Disconnected` and hand its item back.
    #[inline]
    pub fn enter<'a>(&self, lane: &'a Lane) -> Option<Pass<'a>> {
        let slot = &*lane.slot;
        slot.0.fetch_add(1, Ordering::SeqCst);
        // Ordered after the increment: either the closer sees the increment, or we see `closed`.
        if self.closed.load(Ordering::SeqCst) {
            slot.0.fetch_sub(1, Ordering::Release);
            return None;
        }
        Some(Pass { slot })
    }

    /// Closes the gate: refuses every later [`enter`](Self::enter), calls `fire` to wake every
    /// blocked thread of the buffer, waits for every send in flight to finish, then seals.
    ///
    /// Returns `true` if this call closed the gate. A later or concurrent call returns `false`,
    /// after waiting until the gate is sealed, so that every `close` that returns leaves the
    /// buffer sealed. `fire` runs only in the call that closes; it must wake every thread blocked
    /// in a send or a receive of the buffer, and keep waking any that block later (as dropping
    /// the sender of a wakeup channel does).
    pub fn close(&self, fire: impl FnOnce()) -> bool {
        if self.closed.swap(true, Ordering::SeqCst) {
            while !self.sealed.load(Ordering::SeqCst) {
                thread::yield_now();
            }
            return false;
        }
        // Blocked sends hold passes: wake them before waiting for the passes.
        fire();
        // Taken after the swap: a lane registered later will see `closed` on its first enter.
        let lanes: Vec<Arc<Slot>> = self
            .lanes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for slot in &lanes {
            let mut spins = 0;
            while slot.0.load(Ordering::SeqCst) != 0 {
                if spins < SPINS_BEFORE_YIELD {
                    spins += 1;
                    hint::spin_loop();
                } else {
                    thread::yield_now();
                }
            }
        }
        self.sealed.store(true, Ordering::SeqCst);
        true
    }

    /// Whether [`close`](Self::close) has been called (it may not have returned yet).
    #[inline]
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// The phase, for a consumer that found the channel empty. After [`Phase::Sealed`], the
    /// consumer's next raw receive sees every item that was ever accepted.
    #[inline]
    pub fn phase(&self) -> Phase {
        if self.sealed.load(Ordering::SeqCst) {
            Phase::Sealed
        } else if self.closed.load(Ordering::SeqCst) {
            Phase::Closing
        } else {
            Phase::Open
        }
    }
}

impl Default for CloseGate {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Pass<'_> {
    #[inline]
    fn drop(&mut self) {
        // Release: the push this pass covered happens before the closer's `sealed` store.
        self.slot.0.fetch_sub(1, Ordering::Release);
    }
}

impl fmt::Debug for CloseGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseGate")
            .field("phase", &self.phase())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lane")
            .field("in_flight", &self.slot.0.load(Ordering::Relaxed))
            .finish()
    }
}

impl fmt::Debug for Pass<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pass")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::sync::mpsc;

    #[test]
    fn enter_after_close_is_refused() {
        let gate = CloseGate::new();
        let lane = gate.lane();
        assert_eq!(gate.phase(), Phase::Open);
        assert!(gate.close(|| {}));
        assert!(gate.enter(&lane).is_none());
        assert!(
            gate.enter(&gate.lane()).is_none(),
            "a lane made after close"
        );
        assert_eq!(lane.slot.0.load(Ordering::SeqCst), 0, "refusal backs out");
        assert_eq!(gate.phase(), Phase::Sealed);
        assert!(!gate.close(|| panic!("fire runs only once")));
    }

    #[test]
    fn close_fires_once_and_waits_for_a_pass() {
        let gate = CloseGate::new();
        let lane = gate.lane();
        let pass = gate.enter(&lane).expect("open");
        let returned = AtomicBool::new(false);
        let (fired_tx, fired_rx) = mpsc::channel();
        thread::scope(|s| {
            let closer = s.spawn(|| {
                let closed = gate.close(move || fired_tx.send(()).expect("test alive"));
                returned.store(true, Ordering::SeqCst);
                closed
            });
            fired_rx.recv().expect("close fires before it waits");
            // The pass is still held, so close can neither seal nor return, whatever the timing.
            assert_eq!(gate.phase(), Phase::Closing);
            assert!(gate.is_closed());
            assert!(!returned.load(Ordering::SeqCst));
            assert!(gate.enter(&lane).is_none(), "closed while a pass is held");
            drop(pass);
            assert!(closer.join().expect("closer"));
        });
        assert!(returned.load(Ordering::SeqCst));
        assert_eq!(gate.phase(), Phase::Sealed);
    }

    #[test]
    fn second_close_returns_false_only_once_sealed() {
        let gate = CloseGate::new();
        let lane = gate.lane();
        let pass = gate.enter(&lane).expect("open");
        let (fired_tx, fired_rx) = mpsc::channel();
        thread::scope(|s| {
            let first = s.spawn(|| gate.close(move || fired_tx.send(()).expect("test alive")));
            fired_rx.recv().expect("the first close fired");
            let second = s.spawn(|| {
                let closed = gate.close(|| panic!("fire runs only once"));
                (closed, gate.phase())
            });
            drop(pass);
            assert_eq!(second.join().expect("second"), (false, Phase::Sealed));
            assert!(first.join().expect("first"));
        });
    }

    #[test]
    fn dropped_lanes_do_not_hold_close() {
        let gate = CloseGate::new();
        let kept = gate.lane();
        for _ in 0..100 {
            let lane = gate.lane();
            let pass = gate.enter(&lane).expect("open");
            drop(pass);
        }
        assert_eq!(
            gate.lanes.lock().expect("not poisoned").len(),
            2,
            "dead lanes are pruned on registration"
        );
        assert!(gate.close(|| {}));
        assert!(gate.enter(&kept).is_none());
    }

    /// Every pass granted is granted before `close` returns: after it returns, the count of
    /// accepted "sends" never moves again.
    #[test]
    fn no_pass_lands_after_close_returns() {
        const PRODUCERS: usize = 4;
        for _ in 0..200 {
            let gate = CloseGate::new();
            let accepted = AtomicU64::new(0);
            let refused = AtomicU64::new(0);
            let at_close = thread::scope(|s| {
                for _ in 0..PRODUCERS {
                    s.spawn(|| {
                        let lane = gate.lane();
                        loop {
                            match gate.enter(&lane) {
                                Some(_pass) => accepted.fetch_add(1, Ordering::Relaxed),
                                None => {
                                    refused.fetch_add(1, Ordering::Relaxed);
                                    break;
                                }
                            };
                        }
                    });
                }
                while accepted.load(Ordering::Relaxed) < 100 {
                    thread::yield_now();
                }
                assert!(gate.close(|| {}));
                accepted.load(Ordering::Relaxed)
            });
            assert_eq!(accepted.load(Ordering::Relaxed), at_close);
            assert_eq!(refused.load(Ordering::Relaxed), PRODUCERS as u64);
        }
    }
}
