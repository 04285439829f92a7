//! The state every handle of one buffer shares, and the operations of a buffer with room
//! (capacity 1 or more). The rendezvous operations (capacity 0) live in `rendezvous.rs`.
//!
//! Every operation follows one shape: lock; try the operation on the state; if it cannot
//! proceed, give up (disconnected, or the wait has run out), or spin once without the lock and
//! try again, or park on the condvar of the predicate it waits for until the predicate holds,
//! rechecked under the lock after every wake-up. Notifications are sent after unlocking, and
//! only when a thread is counted as parked on that condvar. The lock-free hints the spin reads
//! decide only whether relocking is worth it, never what a thread does under the lock.
//!
//! # Why the invariants hold
//!
//! The invariants are numbered in the crate docs; these are the arguments for 3 to 6.
//!
//! 3. An item leaves the state only by being moved into a local or a caller's buffer; the items
//!    a departing last consumer drops are moved out under the lock and dropped after unlocking
//!    and after everyone is woken. The priority key reads each item before the lock is taken
//!    (`Container::entry`), so a key that panics, or an item that touches the buffer from its
//!    `Drop` while a panic unwinds, finds the lock free.
//! 4. A thread parks only after checking its predicate under the lock, so a notification sent
//!    while the count is zero is never needed.
//! 5. The in-flight marks (`send_signalled` / `recv_signalled`) are set when a notification to
//!    a side with a counted waiter is decided, and cleared by every thread of that side that
//!    relocks after parking, which then passes the baton on. So a notification absorbed by a
//!    thread that found nothing (another got there first) cannot leave a parked thread asleep
//!    while its predicate holds: every counted waiter is parked or will relock, and whichever
//!    relocks first clears the mark. At capacity 0 receivers pass no baton (invariant 10).
//! 6. Every operation borrows a handle. In particular no offer is pending when the last
//!    producer goes, and no receiver is registered when the last consumer goes.

use std::collections::VecDeque;
use std::hint;
use std::mem;
use std::time::Instant;

use buffer_api::{
    CapacityError, ForceSendError, RecvError, RecvTimeoutError, SendBatchError, SendTimeoutError,
};

use crate::container::Container;
use crate::sync::{AtomicBool, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering, yield_now};

/// How many `spin_loop` hints a blocked operation spends before it starts yielding. None under
/// the model checkers: every spin would be a scheduling point, multiplying the interleavings
/// to explore without adding behaviour (the hints decide nothing).
const SPINS: usize = if cfg!(any(loom, shuttle)) { 0 } else { 64 };
/// How many times a blocked operation yields its time slice before it parks. None under loom,
/// whose exhaustive search each yield would multiply; one under shuttle, whose random
/// schedules are cheap to extend, so that the hint reads still run there.
const YIELDS: usize = if cfg!(loom) {
    0
} else if cfg!(shuttle) {
    1
} else {
    4
};

/// How long an operation may wait for its predicate.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    /// Not at all: the `try_` forms.
    Never,
    /// Until this instant: the `_deadline` forms.
    Until(Instant),
    /// For as long as it takes: the blocking forms.
    Forever,
}

impl Wait {
    /// Whether the wait has run out. Reads the clock only for [`Wait::Until`], and only when
    /// asked, so every operation tries once before it looks at the clock.
    pub(crate) fn expired(self) -> bool {
        match self {
            Self::Never => true,
            Self::Until(deadline) => Instant::now() >= deadline,
            Self::Forever => false,
        }
    }
}

/// Whether a blocked operation spins before it parks: yes the first time it finds that it
/// must wait (and marks `spun`), no after that, until the operation makes progress and clears
/// `spun`. It decides only whether a thread spins or parks, never what it does under the lock.
pub(crate) fn spin_first(spun: &mut bool) -> bool {
    !mem::replace(spun, true)
}

/// A blocked sender's item at capacity 0, waiting for a receiver to take it.
pub(crate) struct Offer<T> {
    /// Unique per buffer, increasing in the order offers are made; `offers` is sorted by it.
    pub(crate) ticket: u64,
    pub(crate) item: T,
}

/// Everything the mutex protects.
pub(crate) struct State<T, C> {
    /// The buffered items (capacity >= 1), in the container that gives the discipline.
    pub(crate) items: C,
    /// Capacity 0: items of blocked senders that no receiver has taken yet, by ticket.
    pub(crate) offers: VecDeque<Offer<T>>,
    /// Capacity 0: items that senders handed to registered receivers, not yet picked up.
    pub(crate) handoff: VecDeque<T>,
    /// Capacity 0: receivers registered as waiting for an item (demand).
    pub(crate) demand: usize,
    /// Capacity 0: the ticket of the next offer.
    pub(crate) next_ticket: u64,
    /// Closed, or every handle of one side dropped. Never goes back to false.
    pub(crate) disconnected: bool,
    /// Threads parked (or notified and not yet relocked) on `not_full`.
    pub(crate) send_waiters: usize,
    /// Threads parked (or notified and not yet relocked) on `not_empty`.
    pub(crate) recv_waiters: usize,
    /// Capacity >= 1: a sender was notified on `not_full` and no sender has relocked after
    /// parking since. While set, single-item operations do not notify senders again: the
    /// woken one passes the baton on when it relocks (invariant 5).
    pub(crate) send_signalled: bool,
    /// Capacity >= 1: the same for receivers on `not_empty`.
    pub(crate) recv_signalled: bool,
}

/// The buffer: one mutex, one condvar per predicate, handle counts and lock-free hints.
pub(crate) struct Shared<T, C> {
    pub(crate) state: Mutex<State<T, C>>,
    /// Receivers wait here for an item (capacity 0: for a hand-off).
    pub(crate) not_empty: Condvar,
    /// Senders wait here for room (capacity 0: for their offer to be taken).
    pub(crate) not_full: Condvar,
    pub(crate) capacity: usize,
    /// Live producer handles; the one that takes it to 0 disconnects.
    pub(crate) producers: AtomicUsize,
    /// Live consumer handles; the one that takes it to 0 disconnects and drops the buffered items.
    pub(crate) consumers: AtomicUsize,
    /// A copy of `items.len() + offers.len() + handoff.len()`, stored under the lock, read
    /// without it only by spinning threads deciding whether relocking is worth it.
    pub(crate) ready: AtomicUsize,
    /// Capacity 0: how many offers have been taken, for spinning senders (wraps).
    pub(crate) takes: AtomicUsize,
    /// A copy of `disconnected`, for `is_closed` and for spinning threads.
    pub(crate) closed: AtomicBool,
}

impl<T, C: Container<T>> State<T, C> {
    /// Whether a sender must wait for room: the buffer is connected and full.
    fn sender_must_wait(&self, capacity: usize) -> bool {
        !self.disconnected && self.items.len() >= capacity
    }

    /// Whether a receiver must wait for an item: the buffer is connected and empty.
    fn receiver_must_wait(&self) -> bool {
        !self.disconnected && self.items.is_empty()
    }

    /// The number of items this state makes available to `ready`'s readers.
    fn ready(&self) -> usize {
        self.items.len() + self.offers.len() + self.handoff.len()
    }

    /// Whether a sender must be notified now: one is counted and, with `one_in_flight`, no
    /// notification to senders is still in flight. Marks one in flight when it answers `true`.
    fn signal_sender(&mut self, one_in_flight: bool) -> bool {
        if self.send_waiters == 0 {
            return false;
        }
        let signal = !(one_in_flight && self.send_signalled);
        self.send_signalled |= signal;
        signal
    }

    /// Whether a receiver must be notified now; see [`signal_sender`](Self::signal_sender).
    fn signal_receiver(&mut self, one_in_flight: bool) -> bool {
        if self.recv_waiters == 0 {
            return false;
        }
        let signal = !(one_in_flight && self.recv_signalled);
        self.recv_signalled |= signal;
        signal
    }

    /// How many parked senders to notify after a batch receive freed `n` slots: one per slot,
    /// as far as senders are counted. Marks one in flight when it answers more than 0, and
    /// only then: a mark with nothing in flight would silence the next single receive's
    /// notification to a sender that parks later.
    fn signal_senders(&mut self, n: usize) -> usize {
        let wake = self.send_waiters.min(n);
        self.send_signalled |= wake > 0;
        wake
    }

    /// How many parked receivers to notify after a batch send stored `n` items; see
    /// [`signal_senders`](Self::signal_senders).
    fn signal_receivers(&mut self, n: usize) -> usize {
        let wake = self.recv_waiters.min(n);
        self.recv_signalled |= wake > 0;
        wake
    }
}

impl<T, C: Container<T>> Shared<T, C> {
    /// A buffer with one producer and one consumer handle counted.
    ///
    /// The container's storage is reserved here, fallibly, so an impossible capacity is an
    /// error instead of an abort; a ring never grows afterwards.
    pub(crate) fn new(capacity: usize) -> Result<Self, CapacityError> {
        let mut items = C::default();
        items
            .reserve(capacity)
            .map_err(|_| CapacityError::TooLarge { capacity })?;
        Ok(Self {
            state: Mutex::new(State {
                items,
                offers: VecDeque::new(),
                handoff: VecDeque::new(),
                demand: 0,
                next_ticket: 0,
                disconnected: false,
                send_waiters: 0,
                recv_waiters: 0,
                send_signalled: false,
                recv_signalled: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
            producers: AtomicUsize::new(1),
            consumers: AtomicUsize::new(1),
            ready: AtomicUsize::new(0),
            takes: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        })
    }

    /// Whether a notification still in flight stands in for the next ones (see
    /// `send_signalled`). Not at capacity 1: there a woken thread finds at most one item or
    /// slot, so it cannot run ahead while the others stay parked, and waking one at a time
    /// puts the whole wake-up latency on every hand-off.
    fn one_in_flight(&self) -> bool {
        self.capacity > 1
    }

    /// The baton to senders (invariant 5), decided under the lock after a send: whether to
    /// notify one more parked sender because room is left.
    fn baton_to_senders(&self, st: &mut State<T, C>) -> bool {
        st.items.len() < self.capacity && st.signal_sender(self.one_in_flight())
    }

    /// The baton to receivers, decided under the lock after a receive: whether to notify one
    /// more parked receiver because items are left.
    fn baton_to_receivers(&self, st: &mut State<T, C>) -> bool {
        !st.items.is_empty() && st.signal_receiver(self.one_in_flight())
    }

    /// Refreshes the lock-free hint; called under the lock after every change of the contents.
    pub(crate) fn publish(&self, st: &State<T, C>) {
        self.ready.store(st.ready(), Ordering::Relaxed);
    }

    /// Whether the buffer is disconnected, without the lock.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The number of buffered items, read under the lock.
    pub(crate) fn len(&self) -> usize {
        if self.capacity == 0 {
            return 0;
        }
        self.state.lock().items.len()
    }

    /// Marks the buffer disconnected and wakes every parked thread on both condvars; the
    /// buffered items stay receivable. For `close` and the last producer's departure.
    ///
    /// Returns whether this call disconnected the buffer.
    pub(crate) fn disconnect(&self) -> bool {
        self.disconnect_taking(|_| ())
    }

    /// Disconnects as [`disconnect`](Self::disconnect) does, and drops the buffered items: for
    /// the last consumer's departure, after which nobody can receive them.
    pub(crate) fn disconnect_dropping_buffered(&self) {
        self.disconnect_taking(|st| {
            (
                mem::take(&mut st.items),
                // Empty by invariant 6 (no registered receiver outlives the consumer handles);
                // moved out anyway so that nothing could be dropped under the lock.
                mem::take(&mut st.handoff),
            )
        });
    }

    /// The body of both disconnects: under the lock, marks the buffer disconnected and moves
    /// out what `take` takes from the state; then unlocks, wakes everyone, and only then drops
    /// what was taken, so a panicking `Drop` cannot leave the lock held or a waiter asleep
    /// (invariant 3). Returns whether this call disconnected the buffer.
    fn disconnect_taking<Taken>(&self, take: impl FnOnce(&mut State<T, C>) -> Taken) -> bool {
        let mut st = self.state.lock();
        let newly = !st.disconnected;
        st.disconnected = true;
        self.closed.store(true, Ordering::Release);
        let taken = take(&mut st);
        self.publish(&st);
        drop(st);
        self.not_empty.notify_all();
        self.not_full.notify_all();
        drop(taken);
        newly
    }

    /// Spins, then yields, until `ready()` says the predicate may hold, the wait runs out or
    /// the budget is spent. Holds no lock; the caller relocks and checks for real.
    // Under the checkers the spin (and, for loom, the yield) budget is 0: its loop is empty.
    #[cfg_attr(any(loom, shuttle), allow(clippy::reversed_empty_ranges))]
    pub(crate) fn backoff(&self, wait: Wait, ready: impl Fn() -> bool) {
        for _ in 0..SPINS {
            if ready() {
                return;
            }
            hint::spin_loop();
        }
        for _ in 0..YIELDS {
            if ready() || wait.expired() {
                return;
            }
            yield_now();
        }
    }

    // The spin-phase hints: what a spinning thread waits for before it relocks. Each reads
    // lock-free copies and may be stale or wrong; the thread checks its predicate for real
    // under the lock, and parks if it is false, so a hint decides only *when* it relocks.

    /// A spinning sender's hint: a quarter of the capacity free (one slot below capacity 4),
    /// or closed. Relocking for every slot a receiver frees makes the senders that are ahead
    /// contend for the lock with the receiver that is behind, one item at a time; waiting for
    /// a run of free slots lets the receiver drain uncontended. A sender whose spin budget
    /// runs out relocks and takes any slot.
    fn hint_room(&self) -> bool {
        self.ready.load(Ordering::Relaxed) + self.capacity / 4 < self.capacity
            || self.closed.load(Ordering::Relaxed)
    }

    /// A spinning receiver's hint: something to take, or closed.
    pub(crate) fn hint_item(&self) -> bool {
        self.ready.load(Ordering::Relaxed) > 0 || self.closed.load(Ordering::Relaxed)
    }

    /// Parks on `condvar` until notified or, for [`Wait::Until`], until the deadline.
    pub(crate) fn park(condvar: &Condvar, st: &mut MutexGuard<'_, State<T, C>>, wait: Wait) {
        match wait {
            Wait::Until(deadline) => {
                condvar.wait_until(st, deadline);
            }
            Wait::Forever => condvar.wait(st),
            // Never reached: a `Never` wait has always expired before it would park.
            Wait::Never => {}
        }
    }

    /// Parks on `condvar` while `blocked` answers `true`, or, for [`Wait::Until`], until the
    /// deadline. The condvar's `wait_while` asks `blocked` under the lock before it first parks
    /// and again after every wake-up, so a wake-up is never taken for the predicate.
    fn park_while(
        condvar: &Condvar,
        st: &mut MutexGuard<'_, State<T, C>>,
        wait: Wait,
        blocked: impl FnMut(&mut State<T, C>) -> bool,
    ) {
        match wait {
            Wait::Until(deadline) => {
                condvar.wait_while_until(st, blocked, deadline);
            }
            Wait::Forever => condvar.wait_while(st, blocked),
            // Never reached: a `Never` wait has always expired before it would park.
            Wait::Never => {}
        }
    }

    /// Parks a sender on `not_full` while the buffer is connected and full, as `wait` allows,
    /// counted in `send_waiters` (invariant 4). Each relock after parking clears the senders'
    /// in-flight mark, whether or not the sender then parks again (invariant 5).
    fn park_sender(&self, st: &mut MutexGuard<'_, State<T, C>>, wait: Wait) {
        let capacity = self.capacity;
        // `wait_while` asks once before parking: that call finds nothing in flight to clear.
        let mut parked = false;
        st.send_waiters += 1;
        Self::park_while(&self.not_full, st, wait, |st| {
            if mem::replace(&mut parked, true) {
                st.send_signalled = false;
            }
            st.sender_must_wait(capacity)
        });
        st.send_waiters -= 1;
    }

    /// Parks a receiver on `not_empty` while the buffer is connected and empty; see
    /// [`park_sender`](Self::park_sender).
    fn park_receiver(&self, st: &mut MutexGuard<'_, State<T, C>>, wait: Wait) {
        let mut parked = false;
        st.recv_waiters += 1;
        Self::park_while(&self.not_empty, st, wait, |st| {
            if mem::replace(&mut parked, true) {
                st.recv_signalled = false;
            }
            st.receiver_must_wait()
        });
        st.recv_waiters -= 1;
    }

    /// Wakes up to `n` threads parked on `condvar`, one at a time.
    pub(crate) fn notify(condvar: &Condvar, n: usize) {
        for _ in 0..n {
            if !condvar.notify_one() {
                break;
            }
        }
    }

    /// Sends one item into the container (ring, stack or priority map), waiting for room as
    /// `wait` allows: a spin first, then parked until there is room, the buffer disconnects or
    /// the deadline passes.
    pub(crate) fn send_buffered(&self, item: T, wait: Wait) -> Result<(), SendTimeoutError<T>> {
        // Before the lock: it may run user code (invariant 3).
        let entry = C::entry(item);
        let mut st = self.state.lock();
        if st.sender_must_wait(self.capacity) && !wait.expired() {
            drop(st);
            self.backoff(wait, || self.hint_room());
            st = self.state.lock();
            if st.sender_must_wait(self.capacity) && !wait.expired() {
                self.park_sender(&mut st, wait);
            }
        }
        // Room, disconnected, or out of time: nothing else ends the wait above.
        if st.disconnected {
            drop(st);
            return Err(SendTimeoutError::Disconnected(C::into_item(entry)));
        }
        if st.items.len() < self.capacity {
            self.push_and_wake(st, entry);
            return Ok(());
        }
        drop(st);
        Err(SendTimeoutError::Timeout(C::into_item(entry)))
    }

    /// Sends one item into the container without waiting; when it is full, evicts the item the
    /// container sheds and inserts `item` in the same critical section, and returns the
    /// evicted item (moved out, dropped by the caller if at all, never under the lock).
    pub(crate) fn force_send_buffered(&self, item: T) -> Result<Option<T>, ForceSendError<T>> {
        // Before the lock: it may run user code (invariant 3).
        let entry = C::entry(item);
        let mut st = self.state.lock();
        if st.disconnected {
            drop(st);
            return Err(ForceSendError::Disconnected(C::into_item(entry)));
        }
        let evicted = if st.items.len() < self.capacity {
            None
        } else {
            st.items.evict()
        };
        self.push_and_wake(st, entry);
        Ok(evicted)
    }

    /// Inserts `entry` into a container with room, unlocks, and sends the notifications owed:
    /// one receiver, and one more sender if room is left (passing the baton, invariant 5).
    fn push_and_wake(&self, mut st: MutexGuard<'_, State<T, C>>, entry: C::Entry) {
        st.items.push(entry);
        self.publish(&st);
        let wake_receiver = st.signal_receiver(self.one_in_flight());
        let wake_sender = self.baton_to_senders(&mut st);
        drop(st);
        if wake_receiver {
            self.not_empty.notify_one();
        }
        if wake_sender {
            self.not_full.notify_one();
        }
    }

    /// Receives one item from the container, waiting for one as `wait` allows: a spin first,
    /// then parked until an item is buffered, the buffer disconnects or the deadline passes.
    pub(crate) fn recv_buffered(&self, wait: Wait) -> Result<T, RecvTimeoutError> {
        let mut st = self.state.lock();
        if st.receiver_must_wait() && !wait.expired() {
            drop(st);
            self.backoff(wait, || self.hint_item());
            st = self.state.lock();
            if st.receiver_must_wait() && !wait.expired() {
                self.park_receiver(&mut st, wait);
            }
        }
        // An item, disconnected, or out of time: nothing else ends the wait above.
        let Some(item) = st.items.pop() else {
            return Err(if st.disconnected {
                RecvTimeoutError::Disconnected
            } else {
                RecvTimeoutError::Timeout
            });
        };
        self.publish(&st);
        let wake_sender = st.signal_sender(self.one_in_flight());
        let wake_receiver = self.baton_to_receivers(&mut st);
        drop(st);
        if wake_sender {
            self.not_full.notify_one();
        }
        if wake_receiver {
            self.not_empty.notify_one();
        }
        Ok(item)
    }

    /// Sends a collected batch into the container: as many items as fit per lock round trip,
    /// waiting for room in between.
    ///
    /// Every entry is prepared before the lock is first taken, so a key that panics on one
    /// item of the batch panics the caller before anything is buffered: none of the batch is
    /// sent, and every item of it is dropped once, while unwinding, outside the lock.
    pub(crate) fn send_batch_buffered(&self, items: Vec<T>) -> Result<(), SendBatchError<T>> {
        // Before the lock: it may run user code (invariant 3). Reuses the allocation where
        // an entry is the bare item.
        let entries: Vec<C::Entry> = items.into_iter().map(C::entry).collect();
        let mut rest = entries.into_iter();
        if rest.len() == 0 {
            return Ok(());
        }
        let mut sent = 0;
        let mut st = self.state.lock();
        let mut spun = false;
        loop {
            if st.disconnected {
                drop(st);
                return Err(SendBatchError {
                    sent,
                    unsent: rest.map(C::into_item).collect(),
                });
            }
            let n = (self.capacity - st.items.len()).min(rest.len());
            if n > 0 {
                st.items.extend(rest.by_ref().take(n));
                sent += n;
                self.publish(&st);
                let done = rest.len() == 0;
                let wake_receivers = st.signal_receivers(n);
                let wake_sender = done && self.baton_to_senders(&mut st);
                drop(st);
                Self::notify(&self.not_empty, wake_receivers);
                if wake_sender {
                    self.not_full.notify_one();
                }
                if done {
                    return Ok(());
                }
                spun = false;
                st = self.state.lock();
                continue;
            }
            if spin_first(&mut spun) {
                drop(st);
                self.backoff(Wait::Forever, || self.hint_room());
                st = self.state.lock();
                continue;
            }
            st.send_waiters += 1;
            Self::park(&self.not_full, &mut st, Wait::Forever);
            st.send_waiters -= 1;
            st.send_signalled = false;
        }
    }

    /// Waits for at least one item, then moves up to `max` (>= 1) items into `buf` in one
    /// lock round trip.
    pub(crate) fn recv_batch_buffered(
        &self,
        buf: &mut Vec<T>,
        max: usize,
    ) -> Result<usize, RecvError> {
        // Reserve before locking what is there now (not what is asked: `max` may be huge), so
        // the move under the lock rarely allocates.
        buf.reserve(max.min(self.ready.load(Ordering::Relaxed)));
        let mut st = self.state.lock();
        let mut spun = false;
        loop {
            let n = st.items.len().min(max);
            if n > 0 {
                st.items.pop_into(buf, n);
                self.publish(&st);
                let wake_senders = st.signal_senders(n);
                let wake_receiver = self.baton_to_receivers(&mut st);
                drop(st);
                Self::notify(&self.not_full, wake_senders);
                if wake_receiver {
                    self.not_empty.notify_one();
                }
                return Ok(n);
            }
            if st.disconnected {
                return Err(RecvError);
            }
            if spin_first(&mut spun) {
                drop(st);
                self.backoff(Wait::Forever, || self.hint_item());
                st = self.state.lock();
                continue;
            }
            st.recv_waiters += 1;
            Self::park(&self.not_empty, &mut st, Wait::Forever);
            st.recv_waiters -= 1;
            st.recv_signalled = false;
        }
    }
}
