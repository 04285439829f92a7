//! A sharded bounded buffer on `crossbeam-deque`: every consumer handle has a local deque of
//! its own, and a consumer whose deque is empty steals, in batches, from the shared injector
//! and then from the other consumers' deques. It trades global order for less contention
//! between consumers: most receives pop the consumer's own deque, and a slow consumer's
//! backlog is taken over by idle ones. No compared crate offers the design; the harness and
//! benches put it beside the single-queue buffers.
//!
//! # Design
//!
//! | question | answer |
//! | --- | --- |
//! | where producers place items | all in one `Injector` (crossbeam-deque's lock-free MPMC queue). A `Worker` deque can only be pushed by its owner, so producers cannot place items in a consumer's deque, and one injector keeps sends as cheap as one push. |
//! | how consumers take them | own deque first (`Worker::pop`, FIFO); when empty, `steal_batch_with_limit_and_pop` from the injector, then from each other consumer's `Stealer`, up to [`STEAL_BATCH`] items at a time, one of them returned and the rest kept locally. A `Steal::Retry` (a lost race) searches again. |
//! | the exact bound | one count of taken slots, `len`, covers the injector *and* every local deque: a send takes a slot (a compare-and-swap that fails at `capacity`) before it pushes, and a receive frees it only when it returns the item. Moving items between deques moves no slot, so at no moment are more than `capacity` items buffered anywhere. |
//! | blocking | one `Mutex<()>` and two `Condvar`s (`not_empty`, `not_full`), from the `buffer-sync` facade (parking_lot in normal builds). A waiter says it waits (a counter), then re-reads its condition under the lock; a waker changes the state, then reads the counter and, only if someone waits, takes the lock and notifies. The two sides' SeqCst operations (and a SeqCst fence between a push and the read of the consumers' counter, since crossbeam's own orderings are weaker) mean either the waker sees the waiter or the waiter sees the change: no lost wake-up, and no lock on the fast path. A blocked call first backs off briefly (crossbeam-utils' `Backoff`: spins, then yields) and only then parks; every wait loops: a wake-up only means "look again". |
//! | `close()` | native: a flag, then every waiter woken. A send takes its slot before it reads the flag a second time, and a consumer reports `Disconnected` only when the flag is set *and* no slot is taken, so every send that returned `Ok` is received first, and every refused send hands its item back. |
//! | a consumer dropped, or its thread panicking | the handle's `Drop` (which runs during unwinding) moves every item of its local deque back to the injector and wakes the waiting consumers; the last consumer's `Drop` instead drops everything buffered, once ([`BufferedDrop::OnLastConsumer`](buffer_api::BufferedDrop)). A send that pushes while the last consumer leaves drops what it finds itself. |
//! | batches | native: `send_batch` takes up to a capacity's worth of items from its iterator, then as many free slots as they need in one compare-and-swap, and pushes that many; `recv_batch` waits for one item as `recv` does, then keeps taking from its own deque and stealing (as `try_recv` would) up to `max`, freeing their slots in one step. |
//! | capacity 0 | refused with `RendezvousUnsupported`: a rendezvous would need a hand-off no deque offers. |
//! | `len()` | the slot count: exact on one thread, a snapshot under concurrency, never above `capacity` (it counts sends that have taken a slot and not yet pushed). |
//! | order | none promised ([`Discipline::Unordered`]): a consumer may steal older items from a peer after taking newer ones from the injector. Every accepted item is received exactly once. |
//!
//! Stealing is meant for many consumers, or consumers of uneven speed; its price is the slot
//! count, one contended atomic that every send and receive touches besides the injector's own
//! indices, and a lock per receive that only several threads sharing one handle ever contend.
//!
//! # Where the time goes
//!
//! A profile of one thread filling and draining capacity 1024 (`perf record -g harness run
//! --backend steal --sequential --capacity 1024 --messages 2000000`) splits the cycles over
//! `Injector::push` (17%), the receive's handle lock and search (17%), `Worker::pop` (12%), the
//! send's slot reservation (11%), freeing the slot (10%), the push's SeqCst fence and waiter
//! check (9%) and the batch steals from the injector (9%). Against crossbeam-channel's array,
//! where a send and a receive are one compare-and-swap each on their index, that is about
//! twice the work per item: the bound is a second shared counter, the deque (not `Sync`)
//! needs the handle's lock, and the injector is a linked list of blocks rather than one
//! array. On 2 vCPUs that puts `steal` at about half of raw crossbeam at capacity 1024 on one
//! thread (0.51x at seq) and a quarter to a half between threads (0.26x-0.47x); the README's
//! results give every cell.
//!
//! # Proof
//!
//! - `tests/conformance.rs`: every behaviour of the catalogue that does not assume an order.
//! - `tests/consumer_loss.rs`: a consumer dropped, or panicking, with items in its deque.
//! - `tests/shuttle.rs`: the park and wake-up paths and the steal path under shuttle's
//!   schedules; the hand-written mutants of the `buffer-sync` facade are run against it by
//!   `scripts/mutants.sh`.
//!
//! ```
//! use buffer_api::{Backend, Consumer, Producer, RecvError};
//! use buffer_steal::Steal;
//!
//! let (tx, rx) = Steal::bounded::<u32>(4)?;
//! let other = rx.clone();
//! for i in 0..4 {
//!     tx.send(i).expect("open");
//! }
//! drop(tx);
//! let mut got: Vec<u32> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
//! got.extend(std::iter::from_fn(|| other.try_recv().ok()));
//! got.sort_unstable();
//! assert_eq!(got, [0, 1, 2, 3]);
//! assert_eq!(other.recv(), Err(RecvError));
//! # Ok::<(), buffer_api::CapacityError>(())
//! ```

/// Both handles are views of one [`Shared`]: closing and looking at the buffer read the same
/// state from either side.
macro_rules! shared_handle {
    ($handle:ident) => {
        impl<T: Send + 'static> buffer_api::Handle for $handle<T> {
            fn close(&self) -> bool {
                self.shared.close()
            }

            fn is_closed(&self) -> bool {
                self.shared.is_closed()
            }

            fn len(&self) -> usize {
                self.shared.len()
            }

            fn capacity(&self) -> usize {
                self.shared.capacity()
            }
        }
    };
}

mod consumer;
mod shared;

use std::time::Instant;

use buffer_api::{
    Backend, Capabilities, CapacityError, Discipline, Producer, SendBatchError, SendError,
    SendTimeoutError, Support, TrySendError,
};
use buffer_sync::Arc;
use crossbeam_utils::Backoff;

pub use consumer::StealConsumer;
use shared::{Refusal, Shared};

/// The most items one steal moves into a consumer's deque. Larger batches mean fewer trips
/// to the shared injector; smaller ones leave less for a slow consumer to sit on. Measured
/// side by side on 2 vCPUs (4, 16 and 32 as three backends in one `harness compare`, 7
/// paired rounds, seq, 4:4 and 16:16 at capacity 1024, and the uneven preset), no size was
/// measurably faster than another: the cost is elsewhere (see the crate docs' profile).
pub const STEAL_BATCH: usize = 16;

/// The work-stealing backend: see the crate docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Steal;

impl Backend for Steal {
    const NAME: &'static str = "steal";
    const CAPABILITIES: Capabilities =
        Capabilities::new(Discipline::Unordered).with_batch(Support::Native);

    type Producer<T: Send + 'static> = StealProducer<T>;
    type Consumer<T: Send + 'static> = StealConsumer<T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
        // The deques grow as items arrive; nothing is allocated per slot up front.
        buffer_api::check_capacity::<T>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        let shared = Arc::new(Shared::new(capacity));
        let consumer = StealConsumer::join(Arc::clone(&shared));
        Ok((StealProducer { shared }, consumer))
    }
}

/// The sending handle of a [`Steal`] buffer.
pub struct StealProducer<T> {
    shared: Arc<Shared<T>>,
}

impl<T> StealProducer<T> {
    /// Sends until `deadline` (`None`: forever): takes a slot, or backs off a few rounds
    /// (spins, then yields) and then parks while the buffer is full; one last try after the
    /// deadline.
    fn send_until(&self, item: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let mut timed_out = false;
        let backoff = Backoff::new();
        loop {
            match self.shared.reserve(1) {
                Ok(_) => {
                    self.shared.push([item]);
                    return Ok(());
                }
                Err(Refusal::Disconnected) => return Err(SendTimeoutError::Disconnected(item)),
                Err(Refusal::Full) if timed_out => return Err(SendTimeoutError::Timeout(item)),
                Err(Refusal::Full) if !backoff.is_completed() => backoff.snooze(),
                Err(Refusal::Full) => timed_out = !self.shared.wait_for_room(deadline),
            }
        }
    }
}

impl<T> Clone for StealProducer<T> {
    fn clone(&self) -> Self {
        self.shared.join_producer();
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for StealProducer<T> {
    fn drop(&mut self) {
        self.shared.leave_producer();
    }
}

shared_handle!(StealProducer);

impl<T: Send + 'static> Producer<T> for StealProducer<T> {
    fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.send_until(item, None)
            .map_err(|e| SendError(e.into_inner()))
    }

    fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        match self.shared.reserve(1) {
            Ok(_) => {
                self.shared.push([item]);
                Ok(())
            }
            Err(Refusal::Full) => Err(TrySendError::Full(item)),
            Err(Refusal::Disconnected) => Err(TrySendError::Disconnected(item)),
        }
    }

    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.send_until(item, Some(deadline))
    }

    /// Takes up to a capacity's worth of items from the iterator, then as many slots as are
    /// free for them in one step, and pushes that many; waits as `send` does when none is
    /// free. The items are taken before their slots, so an iterator that panics leaves no slot
    /// taken without an item.
    fn send_batch<I>(&self, items: I) -> Result<(), SendBatchError<T>>
    where
        I: IntoIterator<Item = T>,
    {
        let mut items = items.into_iter();
        // Taken from the iterator, not yet accepted, in order.
        let mut pending = Vec::new();
        let mut sent = 0;
        let backoff = Backoff::new();
        loop {
            if pending.is_empty() {
                pending.extend(items.by_ref().take(self.shared.capacity()));
                if pending.is_empty() {
                    return Ok(());
                }
            }
            match self.shared.reserve(pending.len()) {
                Ok(granted) => {
                    self.shared.push(pending.drain(..granted));
                    sent += granted;
                    backoff.reset();
                }
                Err(Refusal::Disconnected) => {
                    pending.extend(items);
                    return Err(SendBatchError {
                        sent,
                        unsent: pending,
                    });
                }
                Err(Refusal::Full) if !backoff.is_completed() => backoff.snooze(),
                Err(Refusal::Full) => {
                    self.shared.wait_for_room(None);
                }
            }
        }
    }
}
