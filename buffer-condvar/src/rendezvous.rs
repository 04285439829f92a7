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

use std::sync::atomic::Ordering;

use buffer_api::{RecvError, RecvTimeoutError, SendTimeoutError};

use crate::shared::{Offer, Shared, State, Wait};

impl<T> State<T> {
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
}

impl<T> Shared<T> {
    /// Wakes the sender(s) whose offers were just taken. Senders wait on one condvar for
    /// different tickets, so with more than one parked the owner cannot be singled out.
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

    /// Takes up to `max` offers, oldest first, into `put`, if the buffer is still connected.
    /// Returns how many senders are parked, for
    /// [`wake_offer_owners`](Self::wake_offer_owners) after unlocking.
    fn take_offers(&self, st: &mut State<T>, max: usize, put: impl FnMut(T)) -> usize {
        if st.disconnected {
            return 0;
        }
        let n = st.offers.len().min(max);
        if n == 0 {
            return 0;
        }
        st.offers.drain(..n).map(|offer| offer.item).for_each(put);
        self.takes.fetch_add(n, Ordering::Relaxed);
        self.publish(st);
        st.send_waiters
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
            let wake_receiver = st.recv_waiters > 0;
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
        // No receiver is waiting (invariant 7: receivers with unfilled demand see no offers),
        // so nobody needs waking for this offer; the next receiver to arrive takes it.
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
            if !spun {
                spun = true;
                let seen = self.takes.load(Ordering::Relaxed);
                drop(st);
                self.backoff(wait, || {
                    self.takes.load(Ordering::Relaxed) != seen
                        || self.closed.load(Ordering::Relaxed)
                });
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
                let wake_receiver = st.recv_waiters > 0 && !st.handoff.is_empty();
                drop(st);
                if wake_receiver {
                    self.not_empty.notify_one();
                }
                return Ok(item);
            }
            let mut taken = None;
            let parked = self.take_offers(&mut st, 1, |item| taken = Some(item));
            if let Some(item) = taken {
                if registered {
                    // Unreachable by invariant 7; kept so the count cannot drift.
                    st.demand -= 1;
                }
                drop(st);
                self.wake_offer_owners(parked);
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
            if !spun {
                spun = true;
                drop(st);
                self.backoff(wait, || {
                    self.ready.load(Ordering::Relaxed) > 0 || self.closed.load(Ordering::Relaxed)
                });
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
        if max == 1 {
            return Ok(1);
        }
        let before = buf.len();
        // Blocked senders are few; a small reservation keeps the usual case from allocating
        // under the lock.
        buf.reserve((max - 1).min(16));
        let mut st = self.state.lock();
        let parked = self.take_offers(&mut st, max - 1, |item| buf.push(item));
        drop(st);
        self.wake_offer_owners(parked);
        Ok(1 + buf.len() - before)
    }
}
