//! Counts that the thread which owns them raises with a plain load and store, no locked
//! instruction: the rule the [close gate](crate::close_gate)'s lanes follow, and a counter for
//! adapters that count per handle (`buffer-std` counts accepted sends this way for `len`).
//!
//! A handle is `Sync`, so several threads may use one by reference, yet nearly always one
//! thread does. So a count is *owned* by the first thread that writes it, and only that thread
//! writes the owner's part, with a plain load and store; any other thread adds to a second,
//! shared part with an atomic read-modify-write. A reader adds both parts. A thread is told
//! apart by the address of a thread-local, which a later thread may reuse only once the first
//! has exited and writes nothing any more.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A number that tells the running threads apart: the address of a thread-local; 0 (which no
/// count is owned by) where the thread-local cannot be reached any more.
#[inline]
fn thread_mark() -> usize {
    thread_local! {
        static MARK: Cell<u8> = const { Cell::new(0) };
    }
    MARK.try_with(|mark| std::ptr::from_ref(mark).addr())
        .unwrap_or(0)
}

/// Whether the calling thread owns what `owner` marks, taking it if no thread does yet.
/// `owner` holds 0 until the first claim.
#[inline]
pub(crate) fn claim(owner: &AtomicUsize) -> bool {
    let me = thread_mark();
    if me == 0 {
        return false;
    }
    let current = owner.load(Ordering::Relaxed);
    current == me
        || (current == 0
            && owner
                .compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok())
}

/// A count that only ever grows, alone on a cache line (128 bytes covers adjacent-line
/// prefetching), raised without a locked instruction by the thread that owns it.
///
/// ```
/// use buffer_api::owned_count::OwnedCount;
///
/// let sends = OwnedCount::default();
/// sends.increment();
/// std::thread::scope(|s| {
///     s.spawn(|| sends.increment());
/// });
/// assert_eq!(sends.get(), 2);
/// ```
#[repr(align(128))]
#[derive(Debug, Default)]
pub struct OwnedCount {
    /// The owning thread, as [`thread_mark`] gives it; 0 until the first increment.
    owner: AtomicUsize,
    /// Increments by the owning thread: written only by it, with a plain load and store.
    owned: AtomicUsize,
    /// Increments by any other thread, with atomic read-modify-writes.
    shared: AtomicUsize,
}

impl OwnedCount {
    /// Adds one: a plain load and store for the owning thread, an atomic add for any other.
    #[inline]
    pub fn increment(&self) {
        if claim(&self.owner) {
            let count = self.owned.load(Ordering::Relaxed);
            self.owned.store(count + 1, Ordering::Relaxed);
        } else {
            self.shared.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The count: exact once the increments it should include happen before the call (a
    /// join, a lock, a channel), a value it has passed through or will reach otherwise.
    pub fn get(&self) -> usize {
        self.owned.load(Ordering::Relaxed) + self.shared.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_writer_owns_the_count_and_others_share_it() {
        let count = OwnedCount::default();
        count.increment();
        count.increment();
        assert_eq!(count.owned.load(Ordering::Relaxed), 2);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| (0..100).for_each(|_| count.increment()));
            }
        });
        assert_eq!(
            (
                count.owned.load(Ordering::Relaxed),
                count.shared.load(Ordering::Relaxed)
            ),
            (2, 300)
        );
        assert_eq!(count.get(), 302);
    }

    #[test]
    fn a_count_first_raised_elsewhere_belongs_to_that_thread() {
        let count = OwnedCount::default();
        std::thread::scope(|s| {
            s.spawn(|| count.increment());
        });
        count.increment();
        assert_eq!(count.shared.load(Ordering::Relaxed), 1);
        assert_eq!(count.get(), 2);
    }
}
