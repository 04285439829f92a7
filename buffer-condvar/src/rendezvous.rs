//! The operations of a rendezvous buffer (capacity 0), where an item passes directly from a
//! sender to a receiver and `send` returns only once a receiver owns it.
//!
//! Two queues meet under the lock, and at most one of them ever holds unmatched entries:
//! - a receiver that finds nothing registers *demand*; a sender that finds unfilled demand puts
//!   its item in `handoff`, where only registered receivers take items from, and returns `Ok`;
//! - a blocking sender that finds no demand makes an *offer* (its item, under a ticket); a
//!   receiver that finds an offer takes it, and the sender, seeing its ticket gone, returns `Ok`.
//!
//! A registered receiver leaves without an item only when `handoff` is empty, so every item in
//! `handoff` has a receiver bound to take it, even if that receiver's deadline passes or the
//! buffer closes in the meantime. A sender whose deadline passes, or that is woken by a
//! disconnect, withdraws its offer under the lock if it is still there and gets its own item
//! back; if a receiver took it first, the send succeeded.
//!
//! Offers are taken only while `handoff` is empty. Otherwise a receiver could take a producer's
//! offer while that producer's previous item still waits in `handoff`, and then pick that older
//! item up itself: one consumer would see the producer's items out of order. With the FIFO
//! `handoff` this keeps each producer's items in order for every consumer (invariant 8): a
//! producer's next item exists only after its previous one was taken or handed over, and a
//! consumer reaches the next one only after the previous one has left `handoff`.
//!
//! # Why invariants 7, 9 and 10 hold
//!
//! 7. Every handed-over item has a registered receiver bound to take it, because a registered
//!    receiver leaves empty-handed only when `handoff` is empty.
//! 9. Tickets increase, offers are appended, and only a receiver taking an offer or its own
//!    sender withdrawing it removes it.
//! 10. Call U the receivers parked and not yet notified, N the other registered receivers
//!     (running, spinning, or notified and not yet relocked), and O the notifications to
//!     receivers that senders have decided under the lock and not yet sent. Then (a)
//!     `handoff.len() <= N + O`, and (b) while an offer is pending, `U <= O`. (a): a hand-off
//!     either finds no receiver counted (then U = 0 and `handoff.len() < demand = N`) or owes a
//!     notification; a notification that lands moves a receiver from U to N, or finds U = 0
//!     (then `handoff.len() <= demand = N` by invariant 7); a receiver leaves N only by taking
//!     an item from `handoff`, or, while `handoff` is empty, with an offer, empty-handed or back
//!     to parking. (b): an offer is made only when `demand == handoff.len()`, that is
//!     `U + N <= N + O` by (a); afterwards no receiver parks while an offer is pending (it
//!     would take the offer), and every notification that lands lowers U and O together. So
//!     once every decided notification has landed and no registered receiver is running
//!     (O = N = 0), `handoff` is empty and, if a receiver is parked, no offer is pending: a
//!     receiver that takes an item never has to wake another for what it leaves. Loom model
//!     13 checks it at 2 x 2.

use buffer_api::{RecvError, RecvTimeoutError, SendTimeoutError};

use crate::container::Container;
use crate::shared::{Offer, Shared, State, Wait, spin_first};
use crate::sync::Ordering;

impl<T, C> State<T, C> {
    /// Whether the offer with `ticket` is still waiting for a receiver.
    fn offer_pending(&self, ticket: u64) -> bool {
        self.offers
            .binary_search_by_key(&ticket, |offer| offer.ticket)
            .is_ok()
    }

    /// Takes back the offer with `ticket` if no receiver has taken it.
    fn withdraw(&mut self, ticket: u64) -> Option<T> {
        let index = self
            .offers
            .binary_search_by_key(&ticket, |offer| offer.ticket)
            .ok()?;
        self.offers.remove(index).map(|offer| offer.item)
    }

    /// Whether a receiver is counted as parked (or notified and not yet relocked).
    fn receivers_parked(&self) -> bool {
        self.recv_waiters > 0
    }
}

impl<T, C: Container<T>> Shared<T, C> {
    /// Wakes the sender(s) whose offers were just taken; called after unlocking. Senders wait
    /// on one condvar for different tickets, so with more than one parked the owner cannot be
    /// singled out. No receiver is woken for the offers left: none needs it (invariant 10).
    fn wake_offer_owners(&self, parked: usize) {
        match parked {
            0 => {}
            1 => {
                self.not_full.notify_one();
            }
            _ => {
                self.not_full.notify_all();
            }
        }
    }

    /// Takes up to `max` offers, oldest first, into `put`, if the buffer is still connected and
    /// no handed-over item is waiting (see the module docs). Returns how many it took and how
    /// many senders were parked (their offers may be among those taken), for
    /// [`wake_offer_owners`](Self::wake_offer_owners).
    fn take_offers(&self, st: &mut State<T, C>, max: usize, put: impl FnMut(T)) -> (usize, usize) {
        if st.disconnected || !st.handoff.is_empty() {
            return (0, 0);
        }
        let n = st.offers.len().min(max);
        if n == 0 {
            return (0, 0);
        }
        st.offers.drain(..n).map(|offer| offer.item).for_each(put);
        self.takes.fetch_add(n, Ordering::Relaxed);
        self.publish(st);
        (n, st.send_waiters)
    }

    /// A spinning sender's hint at capacity 0 (see the hints in `shared.rs`): some offer has
    /// been taken since `takes` read `seen`, perhaps its own, or closed.
    fn hint_taken(&self, seen: usize) -> bool {
        self.takes.load(Ordering::Relaxed) != seen || self.closed.load(Ordering::Relaxed)
    }

    /// Hands one item to a receiver, waiting for one as `wait` allows.
    pub(crate) fn send_zero(&self, item: T, wait: Wait) -> Result<(), SendTimeoutError<T>> {
        let mut st = self.state.lock();
        if st.disconnected {
            drop(st);
            return Err(SendTimeoutError::Disconnected(item));
        }
        if st.demand > st.handoff.len() {
            st.handoff.push_back(item);
            self.publish(&st);
            let wake_receiver = st.receivers_parked();
            drop(st);
            if wake_receiver {
                self.not_empty.notify_one();
            }
            return Ok(());
        }
        if wait.expired() {
            drop(st);
            return Err(SendTimeoutError::Timeout(item));
        }
        // No receiver needs waking for this offer: every receiver parked now has a notification
        // on its way (invariant 10).
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        st.offers.push_back(Offer { ticket, item });
        self.publish(&st);
        let mut spun = false;
        loop {
            if !st.offer_pending(ticket) {
                return Ok(());
            }
            if st.disconnected || wait.expired() {
                let disconnected = st.disconnected;
                let item = st.withdraw(ticket);
                self.publish(&st);
                drop(st);
                return match item {
                    Some(item) if disconnected => Err(SendTimeoutError::Disconnected(item)),
                    Some(item) => Err(SendTimeoutError::Timeout(item)),
                    // Unreachable: the offer was pending under this same lock a moment ago.
                    None => Ok(()),
                };
            }
            if spin_first(&mut spun) {
                let seen = self.takes.load(Ordering::Relaxed);
                drop(st);
                self.backoff(wait, || self.hint_taken(seen));
                st = self.state.lock();
                continue;
            }
            st.send_waiters += 1;
            Self::park(&self.not_full, &mut st, wait);
            st.send_waiters -= 1;
        }
    }

    /// Takes one item from a sender, waiting for one as `wait` allows.
    pub(crate) fn recv_zero(&self, wait: Wait) -> Result<T, RecvTimeoutError> {
        let mut st = self.state.lock();
        let mut registered = false;
        let mut spun = false;
        loop {
            if registered && let Some(item) = st.handoff.pop_front() {
                st.demand -= 1;
                self.publish(&st);
                return Ok(item);
            }
            let mut taken = None;
            let (_, owners) = self.take_offers(&mut st, 1, |item| taken = Some(item));
            if let Some(item) = taken {
                if registered {
                    // Registered while `handoff` held other receivers' items; served by an
                    // offer instead, so the demand is withdrawn.
                    st.demand -= 1;
                }
                drop(st);
                self.wake_offer_owners(owners);
                return Ok(item);
            }
            if st.disconnected || wait.expired() {
                if registered {
                    // `handoff` is empty (checked above under this lock): no item is orphaned.
                    st.demand -= 1;
                }
                return Err(if st.disconnected {
                    RecvTimeoutError::Disconnected
                } else {
                    RecvTimeoutError::Timeout
                });
            }
            if !registered {
                registered = true;
                st.demand += 1;
            }
            if spin_first(&mut spun) {
                drop(st);
                self.backoff(wait, || self.hint_item());
                st = self.state.lock();
                continue;
            }
            st.recv_waiters += 1;
            Self::park(&self.not_empty, &mut st, wait);
            st.recv_waiters -= 1;
        }
    }

    /// Waits for one item, then takes up to `max - 1` more from senders already offering.
    pub(crate) fn recv_batch_zero(&self, buf: &mut Vec<T>, max: usize) -> Result<usize, RecvError> {
        let first = self.recv_zero(Wait::Forever).map_err(|_| RecvError)?;
        buf.push(first);
        let room = max - 1;
        if room == 0 {
            return Ok(1);
        }
        // Blocked senders are few; a small reservation keeps the usual case from allocating
        // under the lock.
        buf.reserve(room.min(16));
        let mut st = self.state.lock();
        let (more, owners) = self.take_offers(&mut st, room, |item| buf.push(item));
        drop(st);
        self.wake_offer_owners(owners);
        Ok(1 + more)
    }
}
