//! The state every handle of one buffer shares, and the rules that keep it exact: the slot
//! count that bounds the buffer, the handle counts that disconnect it, and the parking of both
//! sides. The crate docs give the design; each method says which part of it it is.

use std::sync::atomic::fence;
use std::time::Instant;

use buffer_sync::{AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
use crossbeam_deque::{Injector, Steal, Stealer};
use crossbeam_utils::CachePadded;

/// Why a send could not take a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Every slot is taken.
    Full,
    /// Closed, or every consumer handle is gone.
    Disconnected,
}

/// One buffer's shared state.
pub(crate) struct Shared<T> {
    /// Where producers put items, and where the items of a departing consumer go back.
    pub(crate) injector: Injector<T>,
    /// The stealer of every live consumer's local deque, keyed by the consumer's id.
    peers: Mutex<Vec<(usize, Stealer<T>)>>,
    /// Raised, under the `peers` lock, whenever `peers` changes: a consumer copies the list
    /// only when this moved.
    peers_version: AtomicUsize,
    /// The id the next consumer handle gets.
    next_id: AtomicUsize,
    capacity: usize,
    /// Slots taken: items accepted and not yet received, wherever they are (the injector or a
    /// local deque), plus sends between taking a slot and pushing. Never above `capacity`.
    len: CachePadded<AtomicUsize>,
    closed: AtomicBool,
    producers: AtomicUsize,
    consumers: AtomicUsize,
    /// What the waits park under. It guards no data: every condition lives in the atomics and
    /// deques, and a waiter re-reads it under this lock after saying it waits.
    lock: Mutex<()>,
    not_empty: Condvar,
    not_full: Condvar,
    /// Consumers between saying they wait and leaving the wait.
    waiting_consumers: CachePadded<AtomicUsize>,
    /// Producers between saying they wait and leaving the wait.
    waiting_producers: CachePadded<AtomicUsize>,
}

impl<T> Shared<T> {
    /// A buffer of `capacity` slots with one producer and no consumer yet (the first consumer
    /// joins through [`join_consumer`](Self::join_consumer)).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            injector: Injector::new(),
            peers: Mutex::new(Vec::new()),
            peers_version: AtomicUsize::new(0),
            next_id: AtomicUsize::new(0),
            capacity,
            len: CachePadded::new(AtomicUsize::new(0)),
            closed: AtomicBool::new(false),
            producers: AtomicUsize::new(1),
            consumers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            waiting_consumers: CachePadded::new(AtomicUsize::new(0)),
            waiting_producers: CachePadded::new(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Slots taken: at most `capacity`, by construction of [`reserve`](Self::reserve).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    /// Whether sends are refused: closed, or no consumer left.
    pub(crate) fn refuses_sends(&self) -> bool {
        self.closed.load(Ordering::SeqCst) || self.consumers.load(Ordering::SeqCst) == 0
    }

    /// Whether no item can arrive any more: closed, or no producer left.
    fn sending_ended(&self) -> bool {
        self.closed.load(Ordering::SeqCst) || self.producers.load(Ordering::SeqCst) == 0
    }

    /// Whether a consumer that found nothing is done: no item can arrive and no slot is taken,
    /// so nothing is buffered anywhere nor on its way.
    pub(crate) fn drained(&self) -> bool {
        self.sending_ended() && self.len() == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.sending_ended() || self.consumers.load(Ordering::SeqCst) == 0
    }

    /// Takes between 1 and `wanted` slots for a send, as many as are free, and returns how
    /// many. The slots are taken *before* the refusal is read a second time: a consumer that
    /// sees the buffer closed then sees these slots in `len`, so it waits for the items
    /// instead of reporting `Disconnected` ahead of them. A send that finds the buffer
    /// refusing after taking its slots gives them back.
    pub(crate) fn reserve(&self, wanted: usize) -> Result<usize, Refusal> {
        if self.refuses_sends() {
            return Err(Refusal::Disconnected);
        }
        let mut taken = self.len.load(Ordering::SeqCst);
        let granted = loop {
            let granted = wanted.min(self.capacity.saturating_sub(taken));
            if granted == 0 {
                return Err(Refusal::Full);
            }
            match self.len.compare_exchange_weak(
                taken,
                taken + granted,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => break granted,
                Err(now) => taken = now,
            }
        };
        if self.refuses_sends() {
            self.release(granted);
            return Err(Refusal::Disconnected);
        }
        Ok(granted)
    }

    /// Puts items whose slots are taken into the injector and wakes a waiting consumer for
    /// each. If the last consumer left meanwhile, the items are dropped here, with whatever
    /// else is buffered, as the last consumer's departure drops the rest.
    pub(crate) fn push(&self, items: impl IntoIterator<Item = T>) {
        let mut pushed = 0;
        for item in items {
            self.injector.push(item);
            pushed += 1;
        }
        // Pairs with the fence in `wait_for_item`: either this load sees the waiter, or the
        // waiter's look at the deques sees these items.
        fence(Ordering::SeqCst);
        if self.waiting_consumers.load(Ordering::SeqCst) > 0 {
            let _lock = self.lock.lock();
            for _ in 0..pushed {
                self.not_empty.notify_one();
            }
        }
        if self.consumers.load(Ordering::SeqCst) == 0 {
            self.drop_injected();
        }
    }

    /// Frees `count` slots: items received, dropped, or slots given back. Wakes a waiting
    /// producer for the room, and, when this emptied a buffer that takes no more items, every
    /// waiting consumer, since they now see `Disconnected`.
    pub(crate) fn release(&self, count: usize) {
        let before = self.len.fetch_sub(count, Ordering::SeqCst);
        if self.waiting_producers.load(Ordering::SeqCst) > 0 {
            let _lock = self.lock.lock();
            for _ in 0..count {
                self.not_full.notify_one();
            }
        }
        if before == count && self.sending_ended() {
            self.wake_consumers();
        }
    }

    /// Parks a producer while the buffer is full and still takes sends, until woken or until
    /// `deadline`. Returns `false` when the deadline passed. The caller tries again either way.
    pub(crate) fn wait_for_room(&self, deadline: Option<Instant>) -> bool {
        let full = || self.len() >= self.capacity && !self.refuses_sends();
        self.park(&self.not_full, &self.waiting_producers, full, deadline)
    }

    /// Parks a consumer while `nothing_visible` says no deque holds an item and the buffer is
    /// not drained, until woken or until `deadline`. Returns `false` when the deadline passed.
    /// The caller looks again either way.
    pub(crate) fn wait_for_item(
        &self,
        mut nothing_visible: impl FnMut() -> bool,
        deadline: Option<Instant>,
    ) -> bool {
        let empty = || nothing_visible() && !self.drained();
        self.park(&self.not_empty, &self.waiting_consumers, empty, deadline)
    }

    /// The one way either side parks: says it waits in `waiting`, then, under the lock, waits
    /// on `condvar` while `blocked` holds, until woken or until `deadline`; `false` when the
    /// deadline passed. Saying it waits before `blocked` is first read (SeqCst, and a SeqCst
    /// fence that pairs with the one in `push`, whose deque writes are weaker) means either the
    /// waker sees this waiter or this read sees the change it waits for.
    fn park(
        &self,
        condvar: &Condvar,
        waiting: &AtomicUsize,
        mut blocked: impl FnMut() -> bool,
        deadline: Option<Instant>,
    ) -> bool {
        let mut lock = self.lock.lock();
        waiting.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let on_time = match deadline {
            None => {
                condvar.wait_while(&mut lock, |_| blocked());
                true
            }
            Some(deadline) => {
                condvar.wait_while_until(&mut lock, |_| blocked(), deadline);
                Instant::now() < deadline
            }
        };
        waiting.fetch_sub(1, Ordering::SeqCst);
        on_time
    }

    /// Closes the buffer and wakes everyone; `false` if it was closed or disconnected already.
    pub(crate) fn close(&self) -> bool {
        if self.is_closed() || self.closed.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.wake_all();
        true
    }

    fn wake_consumers(&self) {
        let _lock = self.lock.lock();
        self.not_empty.notify_all();
    }

    fn wake_all(&self) {
        let _lock = self.lock.lock();
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }

    pub(crate) fn join_producer(&self) {
        self.producers.fetch_add(1, Ordering::SeqCst);
    }

    /// The last producer's departure wakes the consumers, which then drain and disconnect.
    pub(crate) fn leave_producer(&self) {
        if self.producers.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.wake_consumers();
        }
    }

    /// Registers a new consumer's local deque and returns its id.
    pub(crate) fn join_consumer(&self, stealer: Stealer<T>) -> usize {
        self.consumers.fetch_add(1, Ordering::SeqCst);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut peers = self.peers.lock();
        peers.push((id, stealer));
        self.peers_version.fetch_add(1, Ordering::SeqCst);
        id
    }

    /// A consumer leaves with the items still in its local deque: they go back to the
    /// injector, where the others take them. The last consumer's departure instead drops
    /// every buffered item and wakes the producers, which then fail.
    pub(crate) fn leave_consumer(&self, id: usize, left: Vec<T>) {
        {
            let mut peers = self.peers.lock();
            peers.retain(|(peer, _)| *peer != id);
            self.peers_version.fetch_add(1, Ordering::SeqCst);
        }
        let handed_back = !left.is_empty();
        for item in left {
            self.injector.push(item);
        }
        if self.consumers.fetch_sub(1, Ordering::SeqCst) == 1 {
            // Wake first: a payload's `Drop` may panic, and the parked producers must still
            // learn that the buffer is gone.
            self.wake_all();
            self.drop_injected();
        } else if handed_back {
            self.wake_consumers();
        }
    }

    /// Drops every item in the injector and frees its slot.
    fn drop_injected(&self) {
        let mut dropped = 0;
        loop {
            match self.injector.steal() {
                Steal::Success(item) => {
                    drop(item);
                    dropped += 1;
                }
                Steal::Retry => {}
                Steal::Empty => break,
            }
        }
        if dropped > 0 {
            self.release(dropped);
        }
    }

    /// The stealers of every consumer but `id`, if the list moved since `version`, with the
    /// version they are from.
    pub(crate) fn peers_since(
        &self,
        id: usize,
        version: usize,
    ) -> Option<(Vec<Stealer<T>>, usize)> {
        if self.peers_version.load(Ordering::SeqCst) == version {
            return None;
        }
        let peers = self.peers.lock();
        let others = peers
            .iter()
            .filter(|(peer, _)| *peer != id)
            .map(|(_, stealer)| stealer.clone())
            .collect();
        Some((others, self.peers_version.load(Ordering::SeqCst)))
    }
}
