//! The containers that give each backend of this crate its order. Everything else (the lock,
//! the waiting, close, batches, rendezvous) is shared; a container only stores the buffered
//! items and decides which one leaves next and which one `force_send` evicts.
//!
//! | container | backend | next to leave | evicted by `force_send` |
//! | --- | --- | --- | --- |
//! | [`Ring`] | [`CondvarFifo`](crate::CondvarFifo) | the oldest | the oldest |
//! | [`Stack`] | [`CondvarLifo`](crate::CondvarLifo) | the newest | the oldest |
//! | [`PriorityMap`] | [`CondvarPriority`](crate::CondvarPriority) | the oldest of the highest priority | the oldest of the lowest priority |
//!
//! Every container is used only under the buffer's lock and never holds more than the
//! capacity: the shared code checks `len()` before every insertion.

use std::any::Any;
use std::cmp::Reverse;
use std::collections::{BTreeMap, TryReserveError, VecDeque};
use std::fmt;
use std::marker::PhantomData;

use buffer_api::{Discipline, PriorityKey};

mod sealed {
    /// Keeps [`Container`](super::Container) implementable only in this crate: the shared code
    /// relies on each container's exact behaviour.
    pub trait Sealed {}
}

/// Storage for the buffered items of one buffer, in the order of its [`Discipline`].
///
/// Sealed: the implementations are [`Ring`] and [`Stack`] (one [`Deque`] type, taken from
/// either end) and [`PriorityMap`].
pub trait Container<T>: sealed::Sealed + Default + Send + 'static {
    /// The order items leave in, as the backend declares it.
    const DISCIPLINE: Discipline;

    /// What the container stores for one item: the item itself, or the item with what the
    /// container must know of it (its priority).
    type Entry: Send;

    /// Prepares `item` for storage. The shared code calls it *before* it takes the lock,
    /// because it may run user code (a [`PriorityKey`]) that can panic or touch the buffer.
    fn entry(item: T) -> Self::Entry;

    /// The item of an entry that was never stored (the send failed); runs no user code.
    fn into_item(entry: Self::Entry) -> T;

    /// Reserves room for `capacity` items up front, where the container can.
    ///
    /// # Errors
    ///
    /// When the allocator refuses, so that an impossible capacity is an error, not an abort.
    fn reserve(&mut self, capacity: usize) -> Result<(), TryReserveError>;

    /// The number of items held.
    fn len(&self) -> usize;

    /// Whether no item is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores `entry`; the caller has checked that there is room.
    fn push(&mut self, entry: Self::Entry);

    /// Removes the item that leaves next.
    fn pop(&mut self) -> Option<T>;

    /// Removes the item `force_send` sheds to make room.
    fn evict(&mut self) -> Option<T>;

    /// Stores every entry of `entries`, in order; the caller has checked that they fit.
    fn extend(&mut self, entries: impl Iterator<Item = Self::Entry>) {
        entries.for_each(|entry| self.push(entry));
    }

    /// Moves the next `n` items (at most `len()`) into `buf`, in the order they leave.
    fn pop_into(&mut self, buf: &mut Vec<T>, n: usize) {
        buf.extend((0..n).map_while(|_| self.pop()));
    }
}

/// A `VecDeque` reserved to the capacity and never grown, taken from the oldest end
/// (`NEWEST_FIRST == false`: a ring) or the newest (`true`: a stack). Either way `force_send`
/// evicts the oldest item, in constant time.
pub struct Deque<T, const NEWEST_FIRST: bool>(VecDeque<T>);

/// First in, first out: a ring.
pub type Ring<T> = Deque<T, false>;

/// Last in, first out: a stack.
pub type Stack<T> = Deque<T, true>;

/// Highest priority first, as the key `K` reads it; equal priorities leave oldest first.
///
/// Items are kept in a B-tree under (priority, arrival number), which gives both ends a
/// logarithmic-time way out: the highest priority for receivers, the lowest for `force_send`.
/// Its nodes are allocated as it grows (under the lock); it cannot be reserved up front. The
/// priority is read by [`Container::entry`], outside the lock, so the key never runs under it.
pub struct PriorityMap<T, K> {
    /// Ordered by priority, then newest first within one priority, so that the last entry is
    /// the oldest item of the highest priority.
    items: BTreeMap<(u64, Reverse<u64>), T>,
    /// The arrival number of the next item.
    next: u64,
    key: PhantomData<fn() -> K>,
}

impl<T, const NEWEST_FIRST: bool> sealed::Sealed for Deque<T, NEWEST_FIRST> {}
impl<T, K> sealed::Sealed for PriorityMap<T, K> {}

impl<T, const NEWEST_FIRST: bool> Default for Deque<T, NEWEST_FIRST> {
    fn default() -> Self {
        Self(VecDeque::new())
    }
}

impl<T, K> Default for PriorityMap<T, K> {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            next: 0,
            key: PhantomData,
        }
    }
}

impl<T: Send + 'static, const NEWEST_FIRST: bool> Container<T> for Deque<T, NEWEST_FIRST> {
    const DISCIPLINE: Discipline = if NEWEST_FIRST {
        Discipline::Lifo
    } else {
        Discipline::Fifo
    };

    type Entry = T;

    fn entry(item: T) -> T {
        item
    }

    fn into_item(entry: T) -> T {
        entry
    }

    fn reserve(&mut self, capacity: usize) -> Result<(), TryReserveError> {
        self.0.try_reserve_exact(capacity)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }

    fn pop(&mut self) -> Option<T> {
        if NEWEST_FIRST {
            self.0.pop_back()
        } else {
            self.0.pop_front()
        }
    }

    fn evict(&mut self) -> Option<T> {
        self.0.pop_front()
    }

    fn extend(&mut self, entries: impl Iterator<Item = T>) {
        self.0.extend(entries);
    }

    fn pop_into(&mut self, buf: &mut Vec<T>, n: usize) {
        if NEWEST_FIRST {
            let from = self.0.len() - n;
            buf.extend(self.0.drain(from..).rev());
        } else {
            buf.extend(self.0.drain(..n));
        }
    }
}

impl<T: Send + 'static, K: PriorityKey> Container<T> for PriorityMap<T, K> {
    const DISCIPLINE: Discipline = Discipline::Priority;

    /// The item with its priority, read once by the key.
    type Entry = (u64, T);

    fn entry(item: T) -> (u64, T) {
        (K::priority(&item as &dyn Any), item)
    }

    fn into_item((_, item): (u64, T)) -> T {
        item
    }

    /// Checks that `capacity` entries could be addressed; the tree allocates as it grows.
    fn reserve(&mut self, capacity: usize) -> Result<(), TryReserveError> {
        Vec::<((u64, Reverse<u64>), T)>::new()
            .try_reserve_exact(capacity)
            .map(drop)
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn push(&mut self, (priority, item): (u64, T)) {
        self.items.insert((priority, Reverse(self.next)), item);
        self.next += 1;
    }

    fn pop(&mut self) -> Option<T> {
        self.items.pop_last().map(|(_, item)| item)
    }

    fn evict(&mut self) -> Option<T> {
        let (&(lowest, _), _) = self.items.first_key_value()?;
        // The oldest item of the lowest priority: the last entry under (lowest, newest..oldest).
        let (&key, _) = self.items.range(..=(lowest, Reverse(0))).next_back()?;
        self.items.remove(&key)
    }
}

impl<T, const NEWEST_FIRST: bool> fmt::Debug for Deque<T, NEWEST_FIRST> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if NEWEST_FIRST { "Stack" } else { "Ring" };
        write!(f, "{name} {{ len: {} }}", self.0.len())
    }
}

impl<T, K> fmt::Debug for PriorityMap<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PriorityMap {{ len: {} }}", self.items.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct ByValue;

    impl PriorityKey for ByValue {
        fn priority(item: &dyn Any) -> u64 {
            item.downcast_ref::<(u64, char)>().map_or(0, |&(p, _)| p)
        }
    }

    fn drain<T: Send + 'static, C: Container<T>>(c: &mut C) -> Vec<T> {
        std::iter::from_fn(|| c.pop()).collect()
    }

    #[test]
    fn a_deque_is_reserved_to_its_capacity_up_front() {
        let mut ring = Ring::<u64>::default();
        assert_eq!(ring.reserve(1000), Ok(()));
        assert!(ring.0.capacity() >= 1000, "{}", ring.0.capacity());
    }

    #[test]
    fn a_reservation_the_allocator_refuses_is_an_error() {
        assert!(Ring::<u64>::default().reserve(usize::MAX).is_err());
        assert!(Stack::<u64>::default().reserve(usize::MAX).is_err());
        assert!(
            PriorityMap::<u64, ByValue>::default()
                .reserve(usize::MAX)
                .is_err()
        );
    }

    #[test]
    fn ring_is_fifo_and_evicts_the_oldest() {
        let mut ring = Ring::default();
        ring.extend(1..=4);
        assert_eq!(ring.evict(), Some(1));
        let mut buf = Vec::new();
        ring.pop_into(&mut buf, 2);
        assert_eq!(buf, [2, 3]);
        assert_eq!(drain(&mut ring), [4]);
    }

    #[test]
    fn stack_is_lifo_and_evicts_the_oldest() {
        let mut stack = Stack::default();
        stack.extend(1..=4);
        assert_eq!(stack.evict(), Some(1));
        let mut buf = Vec::new();
        stack.pop_into(&mut buf, 2);
        assert_eq!(buf, [4, 3]);
        assert_eq!(drain(&mut stack), [2]);
    }

    #[test]
    fn heap_takes_the_highest_priority_first_and_keeps_fifo_among_equals() {
        let mut heap = PriorityMap::<(u64, char), ByValue>::default();
        heap.extend(
            [(1, 'a'), (5, 'b'), (1, 'c'), (5, 'd'), (3, 'e')]
                .map(PriorityMap::<_, ByValue>::entry)
                .into_iter(),
        );
        assert_eq!(
            drain(&mut heap),
            [(5, 'b'), (5, 'd'), (3, 'e'), (1, 'a'), (1, 'c')]
        );
    }

    #[test]
    fn heap_evicts_the_oldest_of_the_lowest_priority() {
        let mut heap = PriorityMap::<(u64, char), ByValue>::default();
        heap.extend(
            [(2, 'a'), (1, 'b'), (9, 'c'), (1, 'd')]
                .map(PriorityMap::<_, ByValue>::entry)
                .into_iter(),
        );
        assert_eq!(heap.evict(), Some((1, 'b')));
        assert_eq!(heap.evict(), Some((1, 'd')));
        assert_eq!(heap.evict(), Some((2, 'a')));
        assert_eq!(heap.evict(), Some((9, 'c')));
        assert_eq!(heap.evict(), None);
    }

    #[test]
    fn heap_ranks_unknown_payloads_equal_so_they_stay_fifo() {
        let mut heap = PriorityMap::<&str, ByValue>::default();
        heap.extend(
            ["x", "y", "z"]
                .map(PriorityMap::<_, ByValue>::entry)
                .into_iter(),
        );
        assert_eq!(drain(&mut heap), ["x", "y", "z"]);
    }
}
