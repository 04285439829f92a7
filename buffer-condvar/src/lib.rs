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
//! All state lives under the one mutex: the container, the disconnect flag, the counts of
//! parked threads and, at capacity 0, the rendezvous queues. The condvars carry the two
//! predicates, *not empty* (receivers wait on it) and *not full* (senders wait on it). An
//! operation locks and tries; if it must wait it spins briefly without the lock, then parks
//! until its predicate holds, rechecked under the lock after every wake-up. Notifications go
//! out after unlocking, only to a side with a counted waiter; disconnecting wakes everyone.
//! The priority backend reads each item's priority through a [`PriorityKey`], as
//! [`Backend::bounded`] cannot require a trait of its payload; items the key does not know
//! rank 0. The module docs of `shared.rs` (capacity 1 and more) and `rendezvous.rs`
//! (capacity 0) give the details and the arguments for the invariants.
//!
//! # Invariants
//!
//! These hold whenever the lock is free; the code cites them by number.
//!
//! 1. `items.len() <= capacity`, and the ring and the stack never reallocate after
//!    construction. `force_send` evicts before it inserts, in the same critical section.
//! 2. `disconnected` never returns to false. Once it is set no item enters the buffer, and at
//!    capacity 0 no receiver takes an offer.
//! 3. No user code runs, and no user value is dropped, while the lock is held.
//! 4. `send_waiters` / `recv_waiters` count exactly the threads between "about to park" and
//!    "relocked after parking" on `not_full` / `not_empty`.
//! 5. Baton passing (capacity 1 and more): an operation that leaves items (room) behind while
//!    a receiver (sender) is counted notifies one more, and a batch up to one per item or slot
//!    it moved; at capacity 2 and more a single-item operation skips that while a notification
//!    to the same side is in flight.
//! 6. The handle counts equal the live handles of each side: once a side's count is zero, no
//!    operation of that side is in progress.
//! 7. Capacity 0: `handoff.len() <= demand`, and a sender offers only when
//!    `demand == handoff.len()`.
//! 8. Capacity 0: offers are taken only while `handoff` is empty, oldest first.
//! 9. Capacity 0: `offers` is sorted by ticket, and an offer is pending exactly while its
//!    ticket is in `offers`.
//! 10. Capacity 0, connected: no receiver is left parked beside an item or an offer it could
//!     take, so receivers pass no baton.
//!
//! # Differences from crossbeam-channel
//!
//! - **A lock, not lock-free slots**: more cost per item under contention, but a batch of 64
//!   takes one lock round trip, not 64 slot claims.
//! - **Close**: [`Handle::close`] disconnects from either side without dropping handles.
//! - **Buffered items are dropped when the last consumer goes**
//!   ([`BufferedDrop::OnLastConsumer`](buffer_api::BufferedDrop::OnLastConsumer)), not when
//!   the channel itself is freed.
//! - **`len()` takes the lock**, so it is exact at the moment it is read.
//! - **Capacity 0**: taking an offer while several senders are parked wakes all of them
//!   (parking_lot requeues them onto the mutex); crossbeam wakes exactly the one.
//! - **No `select!`**, no iterators over the receiver, no unbounded flavour, and no fairness
//!   promise: a spinning thread may overtake a parked one.
//!
//! # Proofs and history
//!
//! - `tests/conformance.rs`: the workspace's conformance catalogue against all three backends;
//!   `src/tests.rs`: this crate's own tests (rendezvous, batches, drops outside the lock).
//! - `tests/loom.rs` (every interleaving of small cases; each model says what it checks) and
//!   `tests/shuttle.rs` (random and PCT schedules of larger ones), each with its command; both
//!   see every lock, wait and atomic of the real code through the `buffer-sync` facade.
//! - `scripts/mutants.sh`: the hand-written mutants, which that facade builds; `docs/mutants.md`:
//!   what they and the cargo-mutants runs found. `scripts/soak.sh`: the soak.
//! - `docs/condvar-tuning.md`: the measurements behind the spin budget and the wake-up rules.

pub mod container;
mod rendezvous;
mod shared;
/// The facade's primitives, under the name the modules use.
use buffer_sync as sync;

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
            self.shared.disconnect();
        }
    }
}

impl<T, C: Container<T>> Drop for CondvarConsumer<T, C> {
    fn drop(&mut self) {
        if self.shared.consumers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.disconnect_dropping_buffered();
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
                self.shared.disconnect()
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
