//! Bounded buffers on one `parking_lot::Mutex` and two `parking_lot::Condvar`s, with native
//! close, native batches, native drop-oldest (`force_send`) and true rendezvous at capacity 0.
//! No `unsafe` code.
//!
//! Three backends share every line of the locking, waiting, close, batch and rendezvous code
//! and differ only in the [`container`] that holds the buffered items:
//!
//! | backend | `NAME` | container | order |
//! | --- | --- | --- | --- |
//! | [`CondvarFifo`] | `condvar` | [`Ring`] | FIFO |
//! | [`CondvarLifo`] | `condvar-lifo` | [`Stack`] | LIFO: newest first |
//! | [`CondvarPriority<K>`] | `condvar-priority` | [`PriorityMap`] | highest priority first, FIFO among equals |
//!
//! Each `bounded` returns a [`CondvarProducer`] and a [`CondvarConsumer`], used through the
//! [`buffer_api`] traits.
//!
//! ```
//! use buffer_api::{Backend, Consumer, Handle, Producer, TryRecvError};
//! use buffer_condvar::CondvarFifo;
//!
//! let (tx, rx) = CondvarFifo::bounded::<String>(2).expect("capacity 2 is valid");
//! std::thread::scope(|s| {
//!     s.spawn(move || {
//!         for word in ["one", "two", "three"] {
//!             tx.send(word.to_owned()).expect("the consumer is alive");
//!         }
//!         // `tx` is dropped here: the last producer gone disconnects the buffer.
//!     });
//!     let mut got = Vec::new();
//!     while let Ok(word) = rx.recv() {
//!         got.push(word);
//!     }
//!     assert_eq!(got, ["one", "two", "three"]);
//!     assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
//!     assert!(rx.is_closed());
//! });
//! ```
//!
//! # Design
//!
//! All state lives in one `parking_lot::Mutex`: the container of items (for the ring and the
//! stack a `VecDeque` reserved to the capacity at construction and never grown; for the
//! priority heap a B-tree keyed by priority and arrival), the disconnect flag, the counts of threads
//! parked on each condvar, and, for capacity 0, the rendezvous queues. Two condvars carry the
//! two predicates: *not empty* (receivers wait on it) and *not full* (senders wait on it).
//!
//! Every operation locks, tries, and if it cannot proceed either gives up (disconnected, or its
//! wait has run out) or waits. Waiting is first a short bounded spin and a few yields *without*
//! the lock, watching lock-free hints (a copy of the item count, a disconnected flag), then
//! relocking; only if the predicate still fails does the thread count itself as a waiter and
//! park, always in a loop that rechecks the predicate. A thread that changes a predicate
//! notifies one waiter of it, after unlocking, and only if a waiter is counted (and, at
//! capacity 2 or more, only if no notification to that side is still in flight). Close and
//! disconnect wake everyone on both condvars with `notify_all`.
//!
//! **Drop-oldest.** [`Producer::force_send`] never waits: under the lock it evicts the item
//! the container sheds (the oldest for the ring and the stack, the oldest of the lowest
//! priority for the heap) if the buffer is full, inserts the new item, and returns the evicted
//! one to the caller after unlocking. One lock round trip, so no other thread ever sees the
//! buffer between the eviction and the insertion, and the buffer never holds more than its
//! capacity. At capacity 0 it hands the item to a receiver already waiting, or returns it.
//!
//! **Priority.** [`Backend::bounded`] serves every payload type, so the priority backend cannot
//! require a trait of its payload; it is generic over a [`PriorityKey`] that reads each item's
//! priority through `&dyn Any` when the item is inserted. Payload types the key does not know
//! rank 0, and then the priority buffer keeps FIFO order.
//!
//! Batches collect the caller's iterator into a `Vec` before locking, so no user code runs
//! under the lock, then move as many items as fit (or as are buffered) in one lock round trip.
//!
//! At **capacity 0** an item goes straight from a sender to a receiver. A receiver that finds
//! nothing registers *demand*; a sender that finds unfilled demand hands its item over, to be
//! picked up by one of the registered receivers, and returns `Ok`. A blocking sender that finds
//! no demand makes an *offer* under a ticket and waits; a receiver (also `try_recv`) takes the
//! oldest offer, but only while no handed-over item is waiting to be picked up, and the sender
//! returns `Ok` once it sees its ticket gone. A sender whose
//! deadline passes, or that is woken by a disconnect, withdraws its offer under the lock if it
//! is still there and gets its own item back; if a receiver took it first, the send is `Ok`.
//! A registered receiver leaves empty-handed only when no handed-over item is waiting, so a
//! timed receiver can never strand an item a sender was told was received.
//!
//! # Invariants
//!
//! These hold whenever the lock is free.
//!
//! 1. `items.len() <= capacity`; the ring and the stack never reallocate after construction
//!    (the heap allocates tree nodes as it grows, under the lock). `force_send` evicts before
//!    it inserts, in the same critical section.
//! 2. `disconnected` never returns to false. Once it is set no item enters the buffer, and at
//!    capacity 0 no receiver takes an offer (the offering senders get their items back).
//! 3. No user code runs while the lock is held. No user value is dropped under it: an item
//!    leaves the state only by being moved into a local or a caller's buffer, and the items
//!    dropped on the last consumer's departure are moved out and dropped after unlocking and
//!    after everyone is woken. The priority key reads each item before the lock is taken
//!    (`Container::entry`), so a key that panics, or an item that touches the buffer from its
//!    `Drop` while a panic unwinds, finds the lock free. A key that panics on one item of a
//!    `send_batch` panics the caller before any item of the batch is buffered.
//! 4. `send_waiters` / `recv_waiters` count exactly the threads between "about to park" and
//!    "relocked after parking" on `not_full` / `not_empty`. A thread parks only after checking
//!    its predicate under the lock, so a notification sent when the count is zero is never
//!    needed.
//! 5. Baton passing (capacity 1 and more): a thread that takes an item and leaves items behind
//!    while a receiver is counted notifies one more (likewise for room and senders), and a
//!    batch notifies up to one waiter per item or slot it moved. At capacity 0 receivers pass
//!    no baton; invariant 10 shows that none is needed. At capacity 2 or more, a single-item
//!    operation skips that notification while an earlier one to the same side is still in
//!    flight (`send_signalled` / `recv_signalled`: set when a notification is decided, cleared
//!    by every thread of that side that relocks after parking), because the thread it woke
//!    passes the baton on when it relocks. So a notification absorbed by a thread that then
//!    found nothing (another thread got there first) cannot leave a parked thread asleep
//!    while its predicate holds: a flag is set only by a notification to a side with a
//!    counted waiter, every counted waiter is parked or will relock, and whichever relocks
//!    first clears it.
//! 6. The handle counts equal the live handles of each side, and every operation borrows a
//!    handle; so once a side's count reaches zero, no operation of that side is in progress.
//!    In particular no offer is pending when the last producer goes, and no receiver is
//!    registered when the last consumer goes.
//! 7. Capacity 0: `handoff.len() <= demand`: every handed-over item has a registered receiver
//!    bound to take it, because a registered receiver leaves empty-handed only when `handoff`
//!    is empty. A sender offers only when there is no unfilled demand (`demand ==
//!    handoff.len()`).
//! 8. Capacity 0: offers are taken only while `handoff` is empty, oldest first. With the FIFO
//!    `handoff`, this keeps each producer's items in order for every consumer: a producer's
//!    next item exists only after its previous one was taken or handed over, and a consumer
//!    can reach the next one only after the previous one has left `handoff`.
//! 9. Capacity 0: `offers` is sorted by ticket, and a sender's offer is pending exactly while
//!    its ticket is in `offers`; only a receiver taking it or its own sender removes it.
//! 10. Capacity 0, connected: no receiver is left parked beside something it could take. Call
//!     U the receivers parked and not yet notified, N the other registered receivers (running,
//!     spinning, or notified and not yet relocked), and O the notifications to receivers that
//!     senders have decided under the lock and not yet sent. Then (a) `handoff.len() <= N + O`,
//!     and (b) while an offer is pending, `U <= O`. (a): a hand-off either finds no receiver
//!     counted (then U = 0 and `handoff.len() < demand = N`) or owes a notification; a
//!     notification that lands moves a receiver from U to N, or finds U = 0 (then
//!     `handoff.len() <= demand = N` by invariant 7); a receiver leaves N only by taking an
//!     item from `handoff`, or, while `handoff` is empty, with an offer, empty-handed or back
//!     to parking. (b): an offer is made only when `demand == handoff.len()`, that is
//!     `U + N <= N + O` by (a); afterwards no receiver parks while an offer is pending (it
//!     would take the offer), and every notification that lands lowers U and O together. So
//!     once every decided notification has landed and no registered receiver is running
//!     (O = N = 0), `handoff` is empty and, if a receiver is parked, no offer is pending: a
//!     receiver that takes an item never has to wake another for what it leaves. Loom model
//!     13 checks it at 2 x 2.
//!
//! The lock-free hints are read only to decide whether relocking is worth it; no decision is
//! taken on them.
//!
//! # What the measurements decided
//!
//! Each choice below was kept because interleaved A/B runs (the old and the new build
//! alternating on the same cells, judged by the ratio to crossbeam within each run) favoured
//! it; the figures, with their dates and commands, are in `docs/condvar-tuning.md`.
//!
//! - **At most one wake-up in flight per side, at capacity 2 and more.** With the buffer full
//!   and producers parked, notifying a sender on every `recv` made the consumer pay a futex
//!   wake per item for producers that then moved one item each. With one wake-up in flight the
//!   consumer keeps draining, and the woken producer finds a run of free slots and passes the
//!   baton on.
//! - **No wake-up suppression at capacity 1.** A woken thread there finds one item or slot at
//!   most, so it cannot run ahead, and waking one at a time puts a whole wake-up latency on
//!   every hand-off. This is the cautious choice, not a measured win.
//! - **A spinning sender waits for a quarter of the capacity to be free before it relocks**
//!   (the spin hint only; a sender whose budget runs out takes any slot). Relocking for every
//!   slot a receiver frees kept several producers contending with the one consumer, one item
//!   at a time. Below capacity 4 the hint is unchanged.
//! - **A short spin, a few yields, then park** (64 spin hints, 4 yields). Without the spin
//!   every hand-off at capacity 1 became a futex round trip; longer budgets moved nothing
//!   beyond the noise and cost the 4:1 cells.
//! - **Tried and dropped: one spin/yield budget spent across relocks.** It cut CPU per
//!   message at capacity 1 and bought no throughput.
//!
//! # Differences from crossbeam-channel
//!
//! - **A lock, not lock-free slots.** Every operation takes the one mutex. Under contention
//!   this costs more per item than crossbeam's array flavour, but it makes batches cheap: a
//!   batch of 64 items takes one lock round trip, not 64 atomic slot claims.
//! - **Close.** [`Handle::close`] disconnects from either side without dropping handles;
//!   crossbeam-channel disconnects only by dropping every handle of one side.
//! - **Buffered items are dropped when the last consumer goes**
//!   ([`BufferedDrop::OnLastConsumer`]), not when the channel itself is freed.
//! - **`len()` takes the lock**, so it is exact at the moment it is read.
//! - **Capacity 0 wake-ups.** Senders waiting for their offers to be taken share one condvar,
//!   so taking an offer while more than one sender is parked wakes all of them (parking_lot
//!   requeues them onto the mutex, so they do not stampede); crossbeam wakes exactly the one.
//! - **No `select!`**, no iterators over the receiver, no unbounded flavour.
//! - **Fairness** is not promised: a spinning thread may overtake a parked one, and parked
//!   threads wake in parking_lot's queue order.
//!
//! # How we know it is correct
//!
//! Five layers, from the contract down to every interleaving of small cases. The buffer takes
//! its mutex, condvars, atomics and `Arc` from a private `sync` module: plain parking_lot and
//! std in normal builds (re-exports, no wrapper), the model checkers' instrumented twins under
//! `cfg(loom)` or `cfg(shuttle)`, so the checkers see every lock, wait, notification and
//! atomic access of the real code. Under the checkers the spin phase is off (it only
//! multiplies schedules), and timed waits never time out, so the models use only blocking and
//! `try_` operations.
//!
//! 1. **The conformance suite** (`tests/conformance.rs`, every item of the workspace's
//!    catalogue, run against all three backends) and this crate's own tests of the
//!    containers, the rendezvous, batches and drops. Sizes scale with
//!    `BUFFER_CONFORMANCE_SCALE`.
//!    ```text
//!    cargo test -p buffer-condvar
//!    ```
//! 2. **Loom models** (`tests/loom.rs`): every interleaving up to 3 preemptions of capacity 1-2
//!    (and 0) with at most 4 threads, each asserting exact outcomes; a lost wake-up shows as
//!    loom's deadlock report. Model 1 wakes a parked producer (not-full side), model 2 a parked
//!    consumer (not-empty side, and a consumer whose item was taken first waits again), model 3
//!    closes on a blocked producer (it gets its item back, the buffered item is still
//!    received), model 4 closes on two blocked consumers (both wake), model 5 drops the last
//!    producer after a send (item first, then `Disconnected`), model 6 counts drops (each item
//!    exactly once, buffered ones included), models 7a and 7b check the rendezvous hand-off
//!    (`send` returns after the receiver owns the item; against a close, all or nothing), and
//!    model 8 runs `send_batch`/`recv_batch` against a close, and model 9 runs `force_send`
//!    against a blocked `send` (evicted or received, exactly once; nobody stranded), and
//!    model 10 checks that, with one wake-up in flight at capacity 2, the first woken
//!    producer passes the baton to the second, model 11 that a batch send that leaves room
//!    behind passes it too, model 12 that a receive that leaves an item behind passes it to
//!    the next consumer, and model 13 that two producers and two consumers at capacity 0
//!    all finish with each item delivered once, with no baton between receivers.
//!    ```text
//!    LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg loom" \
//!        cargo test -p buffer-condvar --release --test loom --target-dir target/loom
//!    ```
//! 3. **Shuttle** (`tests/shuttle.rs`): random and PCT schedules (2000 each by default,
//!    `BUFFER_SHUTTLE_ITERATIONS`, `BUFFER_SHUTTLE_SEED`) of 4 producers x 4 consumers x 50
//!    items at capacity 2 (exactly once, per-producer order, `Disconnected` only after every
//!    producer finished, never more than the capacity buffered) and of close storms at
//!    capacities 0, 1 and 2 (two closers at random moments while producers send and
//!    consumers receive, singly and in batches: every item delivered once or handed back to its
//!    producer, never both, never neither), and of drop-oldest storms at capacities 0, 1 and 2
//!    (the same, with one producer shedding through `force_send`: every item delivered,
//!    evicted or handed back, exactly one of the three; never more than the capacity held).
//!    ```text
//!    RUSTFLAGS="--cfg shuttle" \
//!        cargo test -p buffer-condvar --release --test shuttle --target-dir target/shuttle
//!    ```
//! 4. **Mutants**: three deliberately broken variants of the ring, compiled only under their
//!    own cfg, which the models must catch: `mutant_if_wait` (`if` instead of `while` around
//!    a wait: caught by loom model 2 and the shuttle 4x4 tests), `mutant_one_condvar` (one
//!    condvar for both predicates, still `notify_one`: loom model 2 and the random shuttle 4x4
//!    test, both as a deadlock) and `mutant_close_notify_one` (`notify_one` on disconnect:
//!    loom model 4, the shuttle 4x4 tests and the rendezvous close storm). The script builds
//!    each under both checkers, runs every test against it and fails if one survives; it is
//!    not in CI (each mutant rebuilds every dependency, minutes per mutant on 2 cores).
//!    ```text
//!    scripts/mutants.sh
//!    ```
//! 5. **A soak**: 100,000,000 messages through every backend over a grid of 1-8 producers x
//!    1-8 consumers x capacities 0, 1, 16 and 1024, every run verified by the harness's
//!    ledger. Not in CI.
//!    ```text
//!    scripts/soak.sh
//!    ```

pub mod container;
mod rendezvous;
mod shared;
mod sync;

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests;

use std::fmt;
use std::marker::PhantomData;
use std::time::Instant;

use buffer_api::{
    Backend, Capabilities, CapacityError, Consumer, ForceSendError, Handle, PriorityKey, Producer,
    RecvError, RecvTimeoutError, SendBatchError, SendError, SendTimeoutError, Support,
    TryRecvError, TrySendError,
};

use crate::container::{Container, PriorityMap, Ring, Stack};
use crate::shared::{Shared, Wait};
use crate::sync::{Arc, Ordering};

/// The backend marker: a bounded FIFO buffer on one mutex and two condvars.
///
/// Capacity 0 builds a rendezvous buffer. Capacities whose storage cannot be allocated are
/// refused with [`CapacityError::TooLarge`].
///
/// # Examples
///
/// ```
/// use buffer_api::{Backend, CapacityError, Handle};
/// use buffer_condvar::CondvarFifo;
///
/// let (tx, rx) = CondvarFifo::bounded::<u64>(16).unwrap();
/// assert_eq!(tx.capacity(), 16);
/// assert_eq!(rx.len(), 0);
///
/// let (tx0, _rx0) = CondvarFifo::bounded::<u64>(0).unwrap();
/// assert!(tx0.is_full() && tx0.is_empty());
///
/// assert_eq!(
///     CondvarFifo::bounded::<u64>(usize::MAX).err(),
///     Some(CapacityError::TooLarge { capacity: usize::MAX })
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CondvarFifo;

/// The backend marker of the LIFO discipline: the same buffer as [`CondvarFifo`] with a
/// [`Stack`] for a container, so the newest buffered item is received first.
///
/// ```
/// use buffer_api::{Backend, Consumer, Producer};
/// use buffer_condvar::CondvarLifo;
///
/// let (tx, rx) = CondvarLifo::bounded::<u32>(4).unwrap();
/// for i in 1..=3 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!([rx.recv(), rx.recv(), rx.recv()], [Ok(3), Ok(2), Ok(1)]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CondvarLifo;

/// The backend marker of the priority discipline: the same buffer as [`CondvarFifo`] with a
/// [`PriorityMap`] for a container, ordered by the priority that `K` reads from each item.
///
/// The highest priority is received first; items of equal priority are received in the
/// order they were accepted (FIFO). Payload types that `K` does not know all rank 0, so they
/// keep FIFO order. See [`PriorityKey`] for why the order comes from a key type rather than
/// a trait on the payload.
///
/// ```
/// use std::any::Any;
/// use buffer_api::{Backend, Consumer, PriorityKey, Producer};
/// use buffer_condvar::CondvarPriority;
///
/// struct Job {
///     urgency: u8,
///     name: &'static str,
/// }
///
/// struct ByUrgency;
/// impl PriorityKey for ByUrgency {
///     fn priority(item: &dyn Any) -> u64 {
///         item.downcast_ref::<Job>().map_or(0, |job| u64::from(job.urgency))
///     }
/// }
///
/// let (tx, rx) = CondvarPriority::<ByUrgency>::bounded(8).unwrap();
/// for (urgency, name) in [(1, "tidy"), (9, "page"), (1, "log"), (5, "mail")] {
///     tx.send(Job { urgency, name }).unwrap();
/// }
/// let order: Vec<_> = (0..4).map(|_| rx.recv().unwrap().name).collect();
/// assert_eq!(order, ["page", "mail", "tidy", "log"]);
/// ```
pub struct CondvarPriority<K>(PhantomData<fn() -> K>);

/// Both handles of a new buffer with container `C`.
type Handles<T, C> = (CondvarProducer<T, C>, CondvarConsumer<T, C>);

/// Builds a buffer of this crate with the container `C`.
fn bounded_with<T, C>(
    name: &'static str,
    caps: &Capabilities,
    capacity: usize,
) -> Result<Handles<T, C>, CapacityError>
where
    T: Send + 'static,
    C: Container<T>,
{
    buffer_api::check_capacity::<T>(name, caps, capacity)?;
    let shared = Arc::new(Shared::new(capacity)?);
    Ok((
        CondvarProducer {
            shared: Arc::clone(&shared),
        },
        CondvarConsumer { shared },
    ))
}

/// The capabilities every backend of this crate shares, with the discipline its container
/// declares (`Container::DISCIPLINE`), so the declaration cannot drift from the container.
const fn capabilities(discipline: buffer_api::Discipline) -> Capabilities {
    Capabilities::new(discipline)
        .with_rendezvous(true)
        .with_batch(Support::Native)
        .with_drop_oldest(true)
}

impl Backend for CondvarFifo {
    const NAME: &'static str = "condvar";
    const CAPABILITIES: Capabilities = capabilities(<Ring<()> as Container<()>>::DISCIPLINE);

    type Producer<T: Send + 'static> = CondvarProducer<T>;
    type Consumer<T: Send + 'static> = CondvarConsumer<T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(CondvarProducer<T>, CondvarConsumer<T>), CapacityError> {
        bounded_with(Self::NAME, &Self::CAPABILITIES, capacity)
    }
}

impl Backend for CondvarLifo {
    const NAME: &'static str = "condvar-lifo";
    const CAPABILITIES: Capabilities = capabilities(<Stack<()> as Container<()>>::DISCIPLINE);

    type Producer<T: Send + 'static> = CondvarProducer<T, Stack<T>>;
    type Consumer<T: Send + 'static> = CondvarConsumer<T, Stack<T>>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
        bounded_with(Self::NAME, &Self::CAPABILITIES, capacity)
    }
}

impl<K: PriorityKey> Backend for CondvarPriority<K> {
    const NAME: &'static str = "condvar-priority";
    const CAPABILITIES: Capabilities =
        capabilities(<PriorityMap<(), K> as Container<()>>::DISCIPLINE);

    type Producer<T: Send + 'static> = CondvarProducer<T, PriorityMap<T, K>>;
    type Consumer<T: Send + 'static> = CondvarConsumer<T, PriorityMap<T, K>>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
        bounded_with(Self::NAME, &Self::CAPABILITIES, capacity)
    }
}

impl<K> fmt::Debug for CondvarPriority<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CondvarPriority")
    }
}

/// The sending handle of a buffer of this crate; `C` is the container of its discipline.
///
/// Cloning adds a producer; when the last clone is dropped the buffer disconnects, and
/// consumers receive what is buffered and then `Disconnected`.
pub struct CondvarProducer<T, C: Container<T> = Ring<T>> {
    shared: Arc<Shared<T, C>>,
}

/// The receiving handle of a buffer of this crate; `C` is the container of its discipline.
///
/// Cloning adds a consumer; when the last clone is dropped the buffer disconnects, the items
/// still buffered are dropped (after the lock is released), and every blocked or later send
/// fails with its item handed back.
pub struct CondvarConsumer<T, C: Container<T> = Ring<T>> {
    shared: Arc<Shared<T, C>>,
}

impl<T, C: Container<T>> Clone for CondvarProducer<T, C> {
    fn clone(&self) -> Self {
        self.shared.producers.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T, C: Container<T>> Clone for CondvarConsumer<T, C> {
    fn clone(&self) -> Self {
        self.shared.consumers.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T, C: Container<T>> Drop for CondvarProducer<T, C> {
    fn drop(&mut self) {
        if self.shared.producers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.disconnect(false);
        }
    }
}

impl<T, C: Container<T>> Drop for CondvarConsumer<T, C> {
    fn drop(&mut self) {
        if self.shared.consumers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.disconnect(true);
        }
    }
}

impl<T, C: Container<T>> fmt::Debug for CondvarProducer<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_handle("CondvarProducer", &self.shared, f)
    }
}

impl<T, C: Container<T>> fmt::Debug for CondvarConsumer<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_handle("CondvarConsumer", &self.shared, f)
    }
}

/// Shows a handle without its items, so that no `T: Debug` is needed.
fn debug_handle<T, C: Container<T>>(
    name: &str,
    shared: &Shared<T, C>,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    f.debug_struct(name)
        .field("len", &shared.len())
        .field("capacity", &shared.capacity)
        .field("closed", &shared.is_closed())
        .finish()
}

/// The handle operations, the same for both sides.
macro_rules! impl_handle {
    ($handle:ident) => {
        impl<T: Send + 'static, C: Container<T>> Handle for $handle<T, C> {
            /// Disconnects the buffer for both sides and wakes every blocked thread.
            ///
            /// Returns `true` if this call disconnected it; `false` if it already was, by an
            /// earlier `close` or because every handle of one side was dropped (the same
            /// condition [`is_closed`](Handle::is_closed) reports). Buffered items stay
            /// receivable; at capacity 0, senders blocked on an untaken item get it back.
            fn close(&self) -> bool {
                self.shared.disconnect(false)
            }

            /// Whether the buffer was closed or one side's handles are all gone. Reads an
            /// atomic flag; takes no lock.
            fn is_closed(&self) -> bool {
                self.shared.is_closed()
            }

            /// The number of buffered items, read under the lock (always 0 at capacity 0,
            /// without locking).
            fn len(&self) -> usize {
                self.shared.len()
            }

            /// The capacity the buffer was built with.
            fn capacity(&self) -> usize {
                self.shared.capacity
            }
        }
    };
}

impl_handle!(CondvarProducer);
impl_handle!(CondvarConsumer);

impl<T, C: Container<T>> Shared<T, C> {
    /// Dispatches a send by capacity.
    fn send(&self, item: T, wait: Wait) -> Result<(), SendTimeoutError<T>> {
        if self.capacity == 0 {
            self.send_zero(item, wait)
        } else {
            self.send_buffered(item, wait)
        }
    }

    /// Dispatches a receive by capacity.
    fn recv(&self, wait: Wait) -> Result<T, RecvTimeoutError> {
        if self.capacity == 0 {
            self.recv_zero(wait)
        } else {
            self.recv_buffered(wait)
        }
    }
}

impl<T: Send + 'static, C: Container<T>> Producer<T> for CondvarProducer<T, C> {
    /// Sends `item`, parking while the buffer is full. At capacity 0 it returns only once a
    /// receiver has taken the item.
    fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.shared
            .send(item, Wait::Forever)
            .map_err(|e| SendError(e.into_inner()))
    }

    /// Sends `item` if there is room now; at capacity 0, only if a receiver is already
    /// waiting in `recv`.
    fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.shared.send(item, Wait::Never).map_err(|e| match e {
            SendTimeoutError::Timeout(item) => TrySendError::Full(item),
            SendTimeoutError::Disconnected(item) => TrySendError::Disconnected(item),
        })
    }

    /// Sends `item`, parking while the buffer is full, until `deadline`. Tries once before
    /// reading the clock; never returns `Timeout` before `deadline`. At capacity 0 the
    /// item comes back with `Timeout` unless a receiver took it by then.
    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.shared.send(item, Wait::Until(deadline))
    }

    /// Sends every item in order. The iterator is collected before locking; then as many
    /// items as fit move in per lock round trip, parking for room in between. At capacity 0
    /// each item is a separate hand-off.
    fn send_batch<I>(&self, items: I) -> Result<(), SendBatchError<T>>
    where
        I: IntoIterator<Item = T>,
    {
        let items: Vec<T> = items.into_iter().collect();
        if self.shared.capacity > 0 {
            return self.shared.send_batch_buffered(items);
        }
        let mut rest = items.into_iter();
        let mut sent = 0;
        while let Some(item) = rest.next() {
            if let Err(e) = self.shared.send_zero(item, Wait::Forever) {
                let mut unsent = vec![e.into_inner()];
                unsent.extend(rest);
                return Err(SendBatchError { sent, unsent });
            }
            sent += 1;
        }
        Ok(())
    }

    /// Sends `item` without waiting, evicting one buffered item if the buffer is full, in one
    /// lock round trip: the oldest for FIFO and LIFO, the oldest of the lowest priority for
    /// the priority discipline. At capacity 0, `item` goes to a receiver already waiting in
    /// `recv`, or else comes straight back as the evicted item.
    fn force_send(&self, item: T) -> Result<Option<T>, ForceSendError<T>> {
        if self.shared.capacity > 0 {
            return self.shared.force_send_buffered(item);
        }
        match self.shared.send_zero(item, Wait::Never) {
            Ok(()) => Ok(None),
            Err(SendTimeoutError::Timeout(item)) => Ok(Some(item)),
            Err(SendTimeoutError::Disconnected(item)) => Err(ForceSendError::Disconnected(item)),
        }
    }
}

impl<T: Send + 'static, C: Container<T>> Consumer<T> for CondvarConsumer<T, C> {
    /// Receives the next item (the container's order), parking while the buffer is empty
    /// and connected.
    fn recv(&self) -> Result<T, RecvError> {
        self.shared.recv(Wait::Forever).map_err(|_| RecvError)
    }

    /// Receives the next item if one is buffered; at capacity 0, if a sender is blocked
    /// offering one.
    fn try_recv(&self) -> Result<T, TryRecvError> {
        self.shared.recv(Wait::Never).map_err(|e| match e {
            RecvTimeoutError::Timeout => TryRecvError::Empty,
            RecvTimeoutError::Disconnected => TryRecvError::Disconnected,
        })
    }

    /// Receives the next item, parking while the buffer is empty, until `deadline`.
    /// Tries once before reading the clock; never returns `Timeout` before `deadline`.
    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.shared.recv(Wait::Until(deadline))
    }

    /// Parks until at least one item is available, then moves up to `max` items into `buf`
    /// in one lock round trip. At capacity 0 it waits for one hand-off, then takes the
    /// items of senders already blocked offering, up to `max`.
    fn recv_batch(&self, buf: &mut Vec<T>, max: usize) -> Result<usize, RecvError> {
        if max == 0 {
            return Ok(0);
        }
        if self.shared.capacity == 0 {
            self.shared.recv_batch_zero(buf, max)
        } else {
            self.shared.recv_batch_buffered(buf, max)
        }
    }
}
