//! The contract of a bounded, blocking, multi-producer multi-consumer buffer.
//!
//! A backend is a zero-sized marker type implementing [`Backend`]. Its [`Backend::bounded`]
//! builds one buffer and returns a [`Producer`] handle and a [`Consumer`] handle. Both handles
//! are `Clone + Send + Sync`: any number of threads may send and receive through clones of them.
//! Through generic associated types one backend serves every payload type.
//!
//! # The contract
//!
//! **What `Ok` means.** `Ok(())` from a send means the buffer *accepted* the item: it is
//! buffered and will be received by exactly one `recv`, unless every consumer handle is dropped
//! first. It does not mean a consumer has received it, except at capacity 0 (rendezvous), where
//! `send` returns only once a receiver owns the item.
//!
//! **Capacity.** A buffer never holds more than `capacity()` items. A `send` on a full buffer
//! blocks until a slot frees up, the deadline passes, or the buffer disconnects.
//!
//! **Disconnect by dropping.** Shutdown is drop-based and needs no sentinel values:
//! - When every producer handle (clones included) has been dropped, consumers first receive
//!   everything still buffered and then see `Disconnected` on every later call.
//! - When every consumer handle has been dropped, every blocked and every later send fails with
//!   `Disconnected` and hands its item back. Items still buffered are dropped at the moment the
//!   backend declares in [`Capabilities::buffered_drop`].
//!
//! **Explicit close.** [`Handle::close`] may be called from any handle of either side, from any
//! thread, any number of times. After it returns:
//! - every send fails with `Disconnected` and hands its item back, even if there is room;
//! - every item whose send returned `Ok` is still received, in order, before any consumer
//!   sees `Disconnected`;
//! - every thread blocked on either side has been woken; blocked senders get their own item back.
//!
//! A send racing with `close` either succeeds, and its item is received, or fails and hands the
//! item back; never both, never neither.
//!
//! **Errors hand items back.** Every send error owns the refused item ([`TrySendError::Full`],
//! [`SendTimeoutError::Timeout`], ...) and returns it through `into_inner`; the buffer never drops
//! an item it refused.
//!
//! **Timeouts.** The timeout forms are provided once, on top of the deadline forms: a deadline
//! that does not fit in an [`Instant`] (such as `Duration::MAX` from now) means "wait forever".
//! Timed operations try once before looking at the clock, so a zero timeout still succeeds when
//! the operation is possible at once. A timeout never returns early.
//!
//! **Batches.** [`Producer::send_batch`] and [`Consumer::recv_batch`] have provided fallbacks that
//! loop over the single-item operations; a backend may override them natively and then says so in
//! [`Capabilities::batch`].
//!
//! # Vocabulary
//!
//! The names follow crossbeam-channel: `send`/`recv`, the `try_` forms, the `_timeout` and
//! `_deadline` forms. "Disconnected" means closed explicitly, or every handle of the other side
//! dropped; [`Handle::is_closed`] reports it.
//!
//! # Conformance
//!
//! The `buffer-conformance` crate holds one generic test suite over the whole behaviour
//! catalogue (`docs/conformance.md`); a backend's test crate runs it with one line:
//!
//! ```text
//! buffer_conformance::conformance_suite!(my_backend::MyBackend);
//! ```
//!
//! # Example
//!
//! A backend is used only through these traits, so code like this works with every backend:
//!
//! ```
//! use buffer_api::{Backend, Consumer, Producer, RecvError};
//!
//! fn sum_through<B: Backend>() -> u64 {
//!     let (tx, rx) = B::bounded::<u64>(4).expect("capacity 4 is valid");
//!     std::thread::scope(|s| {
//!         s.spawn(move || {
//!             for i in 1..=10 {
//!                 tx.send(i).expect("the consumer is alive");
//!             }
//!             // Dropping the last producer disconnects; the consumer drains, then stops.
//!         });
//!         let mut total = 0;
//!         loop {
//!             match rx.recv() {
//!                 Ok(i) => total += i,
//!                 Err(RecvError) => break total,
//!             }
//!         }
//!     })
//! }
//! # let _ = sum_through::<NoBackend>;
//! # enum NoBackend {}
//! # impl Backend for NoBackend {
//! #     const NAME: &'static str = "none";
//! #     const CAPABILITIES: buffer_api::Capabilities =
//! #         buffer_api::Capabilities::new(buffer_api::Discipline::Fifo);
//! #     type Producer<T: Send + 'static> = Never;
//! #     type Consumer<T: Send + 'static> = Never;
//! #     fn bounded<T: Send + 'static>(_: usize) -> Result<(Never, Never), buffer_api::CapacityError> { unreachable!() }
//! # }
//! # #[derive(Clone)] enum Never {}
//! # impl buffer_api::Handle for Never {
//! #     fn close(&self) -> bool { match *self {} } fn is_closed(&self) -> bool { match *self {} }
//! #     fn len(&self) -> usize { match *self {} } fn capacity(&self) -> usize { match *self {} }
//! # }
//! # impl<T: Send + 'static> Producer<T> for Never {
//! #     fn send(&self, _: T) -> Result<(), buffer_api::SendError<T>> { match *self {} }
//! #     fn try_send(&self, _: T) -> Result<(), buffer_api::TrySendError<T>> { match *self {} }
//! #     fn send_deadline(&self, _: T, _: std::time::Instant) -> Result<(), buffer_api::SendTimeoutError<T>> { match *self {} }
//! # }
//! # impl<T: Send + 'static> Consumer<T> for Never {
//! #     fn recv(&self) -> Result<T, RecvError> { match *self {} }
//! #     fn try_recv(&self) -> Result<T, buffer_api::TryRecvError> { match *self {} }
//! #     fn recv_deadline(&self, _: std::time::Instant) -> Result<T, buffer_api::RecvTimeoutError> { match *self {} }
//! # }
//! ```

//! # Fairness
//!
//! The contract promises no fairness. When several producers wait for room, or several
//! consumers for an item, which one proceeds is up to the backend, and one thread may be served
//! many times in a row; every accepted item is still received exactly once. The conformance
//! suite reports the spread of shares and does not fail on it, so a test of a system
//! built on a backend must not assume that every consumer gets a share.

mod capabilities;
pub mod channel_adapter;
pub mod close_gate;
mod error;
pub mod handle_count;
pub mod owned_count;

use std::any::Any;
use std::time::{Duration, Instant};

pub use capabilities::{BufferedDrop, Capabilities, Discipline, Support};
pub use error::{
    CapacityError, ForceSendError, RecvError, RecvTimeoutError, SendBatchError, SendError,
    SendTimeoutError, TryRecvError, TrySendError,
};

/// A bounded buffer implementation: a zero-sized marker type that builds buffers of any payload.
pub trait Backend: 'static {
    /// The backend's name, as the registry, the CLI and reports show it.
    const NAME: &'static str;
    /// What the backend supports; checked by the conformance suite.
    const CAPABILITIES: Capabilities;
    /// For an adapter that adds an emulated `close()` to a crate that another backend offers
    /// as it is: that backend's [`NAME`](Self::NAME). `None` (the default) for every other
    /// backend. The adapter-overhead benchmarks pair the two by it, so that what the emulation
    /// costs is measured on the same channel.
    const ADDS_CLOSE_TO: Option<&'static str> = None;

    /// The sending handle for payload `T`.
    type Producer<T: Send + 'static>: Producer<T>;
    /// The receiving handle for payload `T`.
    type Consumer<T: Send + 'static>: Consumer<T>;

    /// Builds a buffer that holds at most `capacity` items.
    ///
    /// # Errors
    ///
    /// [`CapacityError::RendezvousUnsupported`] for capacity 0 when
    /// [`Capabilities::rendezvous`] is false, and [`CapacityError::TooLarge`] when the storage
    /// cannot be allocated (see [`check_capacity`]).
    #[allow(clippy::type_complexity)]
    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError>;
}

/// What both handles of a buffer can do: close it and look at it.
pub trait Handle: Clone + Send + Sync + 'static {
    /// Closes the buffer for both sides and wakes every blocked thread.
    ///
    /// Returns `true` if this call closed the buffer, `false` if it was already closed: by an
    /// earlier `close()`, or because every handle of one side had been dropped. After
    /// it returns, sends fail with `Disconnected` and hand their item back; consumers receive
    /// what is still buffered and then see `Disconnected`.
    ///
    /// A backend that declares [`Capabilities::close`] as [`Support::Unsupported`] returns
    /// `false` and changes nothing: only dropping every handle of one side ends it.
    fn close(&self) -> bool;

    /// Whether the buffer accepts no more items: it was closed, or every handle of one side has
    /// been dropped.
    fn is_closed(&self) -> bool;

    /// The number of buffered items. Under concurrency this is a snapshot that may be stale by
    /// the time it is read, but it is always in `0..=capacity()`.
    fn len(&self) -> usize;

    /// The most items the buffer holds; 0 for a rendezvous buffer.
    fn capacity(&self) -> usize;

    /// Whether no item is buffered.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every slot is taken: `len() == capacity()`. Always true at capacity 0.
    fn is_full(&self) -> bool {
        self.len() >= self.capacity()
    }
}

/// The sending handle of a buffer.
pub trait Producer<T>: Handle {
    /// Sends `item`, blocking while the buffer is full.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the item when the buffer is, or becomes while waiting, disconnected.
    fn send(&self, item: T) -> Result<(), SendError<T>>;

    /// Sends `item` if that is possible without blocking.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] when the buffer is full (at capacity 0: when no receiver is
    /// waiting), [`TrySendError::Disconnected`] when it is disconnected. Both carry the item.
    fn try_send(&self, item: T) -> Result<(), TrySendError<T>>;

    /// Sends `item`, blocking while the buffer is full, until `deadline`.
    ///
    /// The send is tried once before the clock is read, so a past deadline still succeeds when
    /// there is room.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] when the deadline passed first,
    /// [`SendTimeoutError::Disconnected`] when the buffer disconnected. Both carry the item.
    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>>;

    /// Sends `item`, blocking while the buffer is full, for at most `timeout`.
    ///
    /// A timeout too large to add to the current time (such as `Duration::MAX`) waits forever,
    /// like [`send`](Self::send).
    ///
    /// # Errors
    ///
    /// As [`send_deadline`](Self::send_deadline).
    fn send_timeout(&self, item: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.send_deadline(item, deadline),
            None => self.send(item).map_err(SendTimeoutError::from),
        }
    }

    /// Sends every item in order, blocking while the buffer is full.
    ///
    /// The provided version sends one item at a time; a backend with
    /// [`Support::Native`] batches overrides it with fewer synchronisation round trips.
    /// Items of one batch may interleave with other producers' items.
    ///
    /// # Errors
    ///
    /// [`SendBatchError`] when the buffer disconnects part-way: it reports how many items were
    /// accepted and hands back the rest, in order.
    fn send_batch<I>(&self, items: I) -> Result<(), SendBatchError<T>>
    where
        I: IntoIterator<Item = T>,
    {
        let mut items = items.into_iter();
        let mut sent = 0;
        while let Some(item) = items.next() {
            if let Err(SendError(item)) = self.send(item) {
                let mut unsent = vec![item];
                unsent.extend(items);
                return Err(SendBatchError { sent, unsent });
            }
            sent += 1;
        }
        Ok(())
    }

    /// Sends `item` without blocking; when the buffer is full, evicts one buffered item and
    /// inserts `item` in the same atomic step, and returns the evicted item. This is the
    /// drop-oldest backpressure policy: the buffer keeps the newest items.
    ///
    /// Which item is evicted follows the discipline: the oldest for FIFO and LIFO; for a
    /// priority buffer, the oldest among the lowest priority buffered, so that shedding never
    /// throws away an item to admit a less urgent one; for an unordered buffer, any one
    /// buffered item. An evicted item is handed back exactly
    /// once and is never received. The buffer never holds more than `capacity()` items.
    ///
    /// At capacity 0 nothing is buffered to evict: the item goes to a receiver already
    /// waiting, and otherwise comes straight back as the evicted item.
    ///
    /// Only backends declaring [`Capabilities::drop_oldest`] offer it; the provided method
    /// refuses, because evicting with `try_recv` and then sending is not atomic (another
    /// producer can take the freed slot, and a consumer can see the buffer shrink).
    ///
    /// # Errors
    ///
    /// [`ForceSendError::Disconnected`] when the buffer is disconnected, and
    /// [`ForceSendError::Unsupported`] from backends that do not declare it. Both carry the
    /// item.
    fn force_send(&self, item: T) -> Result<Option<T>, ForceSendError<T>> {
        Err(ForceSendError::Unsupported(item))
    }
}

/// The receiving handle of a buffer.
pub trait Consumer<T>: Handle {
    /// Receives an item, blocking while the buffer is empty and still connected.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the buffer is empty and disconnected.
    fn recv(&self) -> Result<T, RecvError>;

    /// Receives an item if one is buffered (at capacity 0: if a sender is waiting).
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when nothing is available yet, [`TryRecvError::Disconnected`]
    /// when nothing ever will be.
    fn try_recv(&self) -> Result<T, TryRecvError>;

    /// Receives an item, blocking while the buffer is empty, until `deadline`.
    ///
    /// A receive is tried once before the clock is read.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] when the deadline passed first,
    /// [`RecvTimeoutError::Disconnected`] when the buffer is empty and disconnected.
    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError>;

    /// Receives an item, blocking while the buffer is empty, for at most `timeout`.
    ///
    /// A timeout too large to add to the current time waits forever, like
    /// [`recv`](Self::recv).
    ///
    /// # Errors
    ///
    /// As [`recv_deadline`](Self::recv_deadline).
    fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.recv_deadline(deadline),
            None => self.recv().map_err(RecvTimeoutError::from),
        }
    }

    /// Blocks until at least one item is available, then appends up to `max` items to `buf`, in
    /// the order they leave the buffer. Returns how many were appended.
    ///
    /// With `max == 0` it returns `Ok(0)` at once. The provided version takes one item with
    /// [`recv`](Self::recv) and the rest with [`try_recv`](Self::try_recv).
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the buffer is empty and disconnected; `buf` is then unchanged.
    fn recv_batch(&self, buf: &mut Vec<T>, max: usize) -> Result<usize, RecvError> {
        if max == 0 {
            return Ok(0);
        }
        buf.push(self.recv()?);
        let mut taken = 1;
        while taken < max {
            match self.try_recv() {
                Ok(item) => buf.push(item),
                Err(_) => break,
            }
            taken += 1;
        }
        Ok(taken)
    }
}

/// How a priority buffer reads the priority of an item: larger values leave first.
///
/// [`Backend::bounded`] serves every `T: Send + 'static`, so a backend cannot demand a trait
/// of its payload without breaking the factory for every other payload. A priority backend is
/// therefore generic over a key type instead, and the key reads the priority through
/// `&dyn Any`, downcasting to the payload types it knows. Items of any other type all get
/// priority 0, so with them a priority buffer keeps plain FIFO order (equal priorities leave
/// in the order they arrived). The downcast matches exact types: a key written for
/// `(u64, &str)` does not recognise the tuple literal `(1, "x")`, which is `(i32, &str)`, so a
/// small named payload type is the safer choice.
///
/// ```
/// use std::any::Any;
/// use buffer_api::PriorityKey;
///
/// /// A job queue payload: the priority is its first field.
/// struct Job(u8, String);
///
/// struct JobKey;
///
/// impl PriorityKey for JobKey {
///     fn priority(item: &dyn Any) -> u64 {
///         item.downcast_ref::<Job>().map_or(0, |job| u64::from(job.0))
///     }
/// }
///
/// assert_eq!(JobKey::priority(&Job(7, "urgent".into())), 7);
/// assert_eq!(JobKey::priority(&"not a job"), 0);
/// ```
pub trait PriorityKey: 'static {
    /// The priority of `item`; 0 for payload types this key does not know.
    fn priority(item: &dyn Any) -> u64;
}

/// The largest capacity any backend accepts, whatever the payload: 2^56 slots.
///
/// Above it [`check_capacity`] refuses every request with [`CapacityError::TooLarge`], so a
/// zero-sized payload, whose items take no memory, meets the same limit on every backend. The
/// bound is chosen so that a slot array of up to 127 bytes per slot (an item plus whatever a
/// backend stores beside it) still fits the address space below it: there, whether a capacity
/// is accepted depends only on the memory the backend really reserves up front.
pub const MAX_CAPACITY: usize = 1 << 56;

/// Checks a requested capacity against a backend's capabilities and the address space, the
/// same way for every backend.
///
/// Capacity 0 needs [`Capabilities::rendezvous`]. Any other capacity must be at most
/// [`MAX_CAPACITY`] and allocatable as `capacity` slots of `T`: a request whose size overflows
/// `isize::MAX` bytes is refused without allocating, and a large request is probed with a
/// fallible reservation that is released at once, so an impossible capacity becomes
/// [`CapacityError::TooLarge`] instead of an abort.
///
/// `T` is the slot type the backend really allocates up front, one per unit of capacity. Sizing
/// the check with a slot smaller than the real one lets an impossible capacity through to an
/// allocation that aborts (a zero-sized payload is the sharp case: its bare slot counts as one
/// byte and its probe allocates nothing, while the real array may take a word per slot). Which
/// `T` is honest:
///
/// - the payload itself, when the backend allocates nothing per unit of capacity up front (its
///   storage grows as items arrive: a `VecDeque`, flume's queue) or its up-front array holds
///   bare items;
/// - otherwise the wrapped crate's real slot. That layout is private to the crate, so no
///   public API can supply it: the adapter reads it from the crate's source for the version it
///   pins, names it in a private alias that says where it comes from, and checks it again when
///   it updates the crate (crossbeam's array flavour keeps a stamp in each slot, so its adapter
///   passes `(AtomicUsize, T)`);
/// - where the layout cannot be read, an overestimate, such as `(T, [usize; 2])`: it refuses
///   only capacities within a few words per slot of what the machine could allocate, where an
///   underestimate aborts.
///
/// # Errors
///
/// As [`Backend::bounded`].
pub fn check_capacity<T>(
    backend: &'static str,
    capabilities: &Capabilities,
    capacity: usize,
) -> Result<(), CapacityError> {
    /// Below this many slots a reservation is not worth probing.
    const PROBE_FROM: usize = 1 << 16;

    if capacity == 0 {
        return if capabilities.rendezvous {
            Ok(())
        } else {
            Err(CapacityError::RendezvousUnsupported { backend })
        };
    }
    let slot = std::mem::size_of::<T>().max(1);
    let fits = capacity <= MAX_CAPACITY
        && capacity
            .checked_mul(slot)
            .is_some_and(|bytes| bytes <= isize::MAX as usize);
    if !fits {
        return Err(CapacityError::TooLarge { capacity });
    }
    if capacity >= PROBE_FROM {
        let mut probe: Vec<T> = Vec::new();
        probe
            .try_reserve_exact(capacity)
            .map_err(|_| CapacityError::TooLarge { capacity })?;
    }
    Ok(())
}
