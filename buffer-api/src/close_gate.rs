//! An exact `close()` for channels that have none: a gate that every send passes through, so that
//! the closer knows when no send can still land in the channel.
//!
//! Adapters of crates without a close operation (crossbeam-channel, flume) share this one
//! mechanism, so the emulation is written, argued and tested once; the generic exact-close
//! adapter of [`channel_adapter`](crate::channel_adapter) uses it for every channel crate.
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
//! - Each producer handle owns a [`Lane`]: an in-flight count on its own cache line, registered
//!   with the gate. Per-handle lanes keep producers on different threads (each with its own clone)
//!   from sharing a cache line.
//! - A send [`enter`](CloseGate::enter)s the gate around its whole operation, raw attempt and
//!   blocking wait alike: it raises its lane's count, then loads `closed`. If the buffer is
//!   closed it backs out and the send fails, handing its item back. Otherwise it holds a
//!   [`Pass`] until the push has finished or failed; dropping the pass lowers the count
//!   (`Release`).
//! - [`close`](CloseGate::close) swaps `closed` to true, issues a process-wide memory barrier,
//!   *fires* the adapter's wakeup so every blocked producer and consumer returns, takes a
//!   snapshot of the registered lanes, waits until each lane's count reads 0, and finally
//!   stores `sealed = true`.
//! - Consumers ask for the [`Phase`] only when the channel looks empty: `Open` means block as
//!   usual (also waiting on the wakeup), `Closing` means a send may still land (retry after
//!   `yield_now`: the producers only have to finish one step), `Sealed` means one last raw receive
//!   decides between an item and `Disconnected`.
//!
//! # Why it is exact, with no locked instruction on the send path
//!
//! The send and the closer form the store-then-load pattern of Dekker's algorithm: the send
//! stores its count and then loads `closed`; the closer stores `closed` and then loads the
//! count. Exactness needs only that one of the two loads sees the other side's store. With two
//! ordinary fences that would cost the send a full fence (or a locked read-modify-write) on
//! every call. The gate uses *asymmetric* fences instead:
//!
//! - the send issues a *light* fence, which is only a compiler fence where the operating system
//!   offers a process-wide barrier;
//! - the closer, once, issues the *heavy* one (Linux `membarrier`, private expedited, through
//!   `rustix`): it returns only after every thread of the process that is running has executed
//!   a full memory barrier, and a thread that is not running has passed one in its context
//!   switch. [`expedited`] says whether this process has it.
//!
//! Take a send whose load of `closed` saw `false`. The closer's store of `true` was made visible
//! to every thread before the barrier reached the sender's thread, so that load came before the
//! barrier in the sender's program order, and so did the sender's store of its count, which
//! precedes the load. The barrier on the sender's thread drains that store to memory before
//! `heavy()` returns, and the closer's later load of the count sees it. The closer then waits
//! until it reads the `Release` decrement of the pass, which makes the push *happen before* the
//! `sealed` store and therefore before any consumer's last receive. A send whose load saw `true`
//! refuses. Where the system offers no such barrier, both halves are `SeqCst` fences, and the
//! argument is the plain Dekker one.
//!
//! The count needs no read-modify-write either: a lane is *owned* by the first thread that sends
//! through it, and only that thread writes the owner's count, with a plain load and store. Any
//! other thread sending through the same handle (the handle is `Sync`, so threads may share one
//! by reference) uses the lane's second, shared count with an atomic increment and a `SeqCst`
//! load, the first design of this gate, which needs no barrier at all. The closer waits for both
//! counts. A thread is told apart by the address of a thread-local, which a later thread may
//! reuse only once the first has exited and sends through nothing any more; that rule has its
//! home in [`owned_count`].
//!
//! A lane registered after the closer took its snapshot is registered under the same mutex the
//! closer took *after* its swap, so that lane's first `enter` sees `closed` too.
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
//! close exact: the closer waits for the sliced send to give up. The provided methods of
//! [`CloseWait`](crate::channel_adapter::CloseWait) are exactly these sliced waits.
//!
//! # An adapter that owns the wait
//!
//! Over a bare queue (one that neither blocks nor disconnects by itself, such as
//! `crossbeam-queue`'s `ArrayQueue`) the adapter parks its blocked threads itself, say on a
//! mutex and condvars beside the queue, and `fire` is its own wake-up. Three rules keep that
//! from losing a wake-up or deadlocking:
//!
//! - `fire` takes the adapter's lock, lets go of it, and notifies every waiter of both sides.
//!   `closed` is already set when `fire` runs, and a waiter that read it as false did so under
//!   the lock and released the lock only by going to sleep; so once `fire` holds the lock,
//!   every such waiter is asleep and gets the notification, and every later one reads `true`.
//! - Waiters check [`is_closed`](CloseGate::is_closed) (senders, which then give up and drop
//!   their pass) or [`phase`](CloseGate::phase) (receivers) under that lock, before every sleep.
//! - Nothing that waits for a close to finish holds the adapter's lock while it waits: not
//!   `close` itself (its `fire` takes the lock, and the sends it waits for need the lock to
//!   notice the close), not a receive that retries on [`Phase::Closing`], not a sender's retry
//!   loop, not a second `close` waiting for the seal. Each releases the lock, then yields or
//!   closes.
//!
//! Disconnect by dropping is a close here too: each side's handles share a token whose `Drop`
//! (the last handle of that side going) calls `close`, outside the adapter's lock, by the rule
//! above. `docs/adapters.md` of the repository walks through such an adapter.
//!
//! # Cost
//!
//! For the thread that owns the lane: a thread-local address, a few plain loads and stores on a
//! cache line owned by the producer handle, a compiler fence, and a load of `closed` that is
//! shared read-only until the close. No locked instruction. Receives pay nothing on their fast
//! path: the phase is read only when the channel is empty. Closing costs one process-wide
//! barrier (a system call that interrupts every core running a thread of the process), a lock of
//! the lane registry and a wait for in-flight sends; it happens once.
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

mod barrier;

pub use barrier::expedited;

use std::fmt;
use std::hint;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread;

use crate::owned_count;

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

/// The in-flight counts of one lane, alone on a cache line (128 bytes covers adjacent-line
/// prefetching).
#[repr(align(128))]
#[derive(Default)]
struct Slot {
    /// The thread that owns the lane ([`owned_count`]'s rule); 0 until the first send.
    owner: AtomicUsize,
    /// Sends in flight on the owning thread. Written only by that thread (plain load and
    /// store), read by the closer.
    owned: AtomicUsize,
    /// Sends in flight on any other thread, counted with atomic read-modify-writes.
    shared: AtomicUsize,
}

/// A producer handle's registration with a [`CloseGate`]: the counts of its sends in flight.
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
    /// Whether the pass was counted in `owned` (by the owning thread) or in `shared`.
    owned: bool,
    /// Not `Send`: an owned pass must be dropped by the thread that owns the lane, the only one
    /// that writes `owned`.
    not_send: PhantomData<*const ()>,
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
        barrier::init();
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
        let owned = owned_count::claim(&slot.owner);
        if owned {
            // Only this thread writes `owned`: a plain increment, then the light half of the
            // asymmetric fence pair (module docs), then the load it orders.
            let depth = slot.owned.load(Ordering::Relaxed);
            slot.owned.store(depth + 1, Ordering::Relaxed);
            barrier::light();
            if self.closed.load(Ordering::SeqCst) {
                slot.owned.store(depth, Ordering::Release);
                return None;
            }
        } else {
            slot.shared.fetch_add(1, Ordering::SeqCst);
            // Ordered after the increment: either the closer sees the increment, or we see
            // `closed`.
            if self.closed.load(Ordering::SeqCst) {
                slot.shared.fetch_sub(1, Ordering::Release);
                return None;
            }
        }
        Some(Pass {
            slot,
            owned,
            not_send: PhantomData,
        })
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
        // The heavy half of the fence pair: after it, every owning thread's count store that
        // came before its load of `closed` is visible here (module docs).
        barrier::heavy();
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
            while slot.owned.load(Ordering::Acquire) != 0
                || slot.shared.load(Ordering::Acquire) != 0
            {
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
        if self.owned {
            let depth = self.slot.owned.load(Ordering::Relaxed);
            self.slot.owned.store(depth - 1, Ordering::Release);
        } else {
            self.slot.shared.fetch_sub(1, Ordering::Release);
        }
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
        let in_flight =
            self.slot.owned.load(Ordering::Relaxed) + self.slot.shared.load(Ordering::Relaxed);
        f.debug_struct("Lane")
            .field("in_flight", &in_flight)
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
        assert_eq!(
            lane.slot.owned.load(Ordering::SeqCst),
            0,
            "refusal backs out"
        );
        assert_eq!(lane.slot.shared.load(Ordering::SeqCst), 0);
        assert_eq!(gate.phase(), Phase::Sealed);
        assert!(!gate.close(|| panic!("fire runs only once")));
    }

    /// The fast path is taken: the thread that sends first through a lane owns it and counts
    /// in `owned` with plain stores, every time; a thread sharing the handle counts in
    /// `shared`. (A gate that never took the owned path would still be exact, but pay a locked
    /// instruction per send.)
    #[test]
    fn the_owning_thread_counts_in_its_own_slot() {
        let gate = CloseGate::new();
        let lane = gate.lane();
        let counts = |lane: &Lane| {
            (
                lane.slot.owned.load(Ordering::SeqCst),
                lane.slot.shared.load(Ordering::SeqCst),
            )
        };
        let first = gate.enter(&lane).expect("open");
        let second = gate.enter(&lane).expect("open");
        assert_eq!(counts(&lane), (2, 0), "both sends on the owned path");
        thread::scope(|s| {
            s.spawn(|| {
                let pass = gate.enter(&lane).expect("open");
                assert_eq!(counts(&lane), (2, 1), "another thread on the shared path");
                drop(pass);
            });
        });
        drop(first);
        assert_eq!(counts(&lane), (1, 0));
        drop(second);
        assert_eq!(counts(&lane), (0, 0));
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
    /// accepted "sends" never moves again. Each producer owns its lane (the fence-pair path);
    /// 2000 rounds, with the close landing at a different point in each.
    #[test]
    fn no_pass_lands_after_close_returns() {
        const PRODUCERS: usize = 4;
        for round in 0..2000 {
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
                let wait_for = (round % 64) as u64;
                while accepted.load(Ordering::Relaxed) < wait_for {
                    thread::yield_now();
                }
                assert!(gate.close(|| {}));
                accepted.load(Ordering::Relaxed)
            });
            assert_eq!(accepted.load(Ordering::Relaxed), at_close, "round {round}");
            assert_eq!(refused.load(Ordering::Relaxed), PRODUCERS as u64);
        }
    }

    /// The same race with threads sharing one lane by reference, so that all but its owner take
    /// the shared count's path: 1000 rounds.
    #[test]
    fn no_pass_lands_after_close_returns_on_a_shared_lane() {
        const PRODUCERS: usize = 3;
        for round in 0..1000 {
            let gate = CloseGate::new();
            let lane = gate.lane();
            let accepted = AtomicU64::new(0);
            let at_close = thread::scope(|s| {
                for _ in 0..PRODUCERS {
                    s.spawn(|| {
                        while let Some(_pass) = gate.enter(&lane) {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
                while accepted.load(Ordering::Relaxed) < (round % 32) as u64 {
                    thread::yield_now();
                }
                assert!(gate.close(|| {}));
                accepted.load(Ordering::Relaxed)
            });
            assert_eq!(accepted.load(Ordering::Relaxed), at_close, "round {round}");
            assert_eq!(lane.slot.owned.load(Ordering::SeqCst), 0);
            assert_eq!(lane.slot.shared.load(Ordering::SeqCst), 0);
        }
    }
}
