//! Handle counts that let `is_closed()` see a disconnect, for adapters of crates that cannot be
//! asked whether the other side is gone (crossbeam-channel's `Sender`, std's `SyncSender`).
//!
//! Each handle holds a [`Member`] of its side as its *last* field, after the wrapped crate's
//! endpoint, and a side's count reaches 0 only after the last endpoint of that side has been
//! dropped, which is when the wrapped crate disconnects. So a handle that reads the 0 knows
//! every later send is refused by the crate itself. The counts are touched only when a handle
//! is made, cloned or dropped, never by a send or a receive.
//!
//! ```
//! use buffer_api::handle_count::{Consumers, Counts, Member, Producers};
//!
//! struct Tx {
//!     endpoint: String, // stands in for the wrapped crate's sender; dropped first
//!     member: Member<Producers>,
//! }
//! let counts = Counts::new();
//! let tx = Tx { endpoint: "sender".into(), member: Member::join(&counts) };
//! let rx = Member::<Consumers>::join(&counts);
//! assert!(!tx.member.counts().disconnected());
//! drop(rx);
//! assert!(tx.member.counts().disconnected());
//! ```

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The live handles of each side of one buffer.
pub struct Counts {
    producers: AtomicUsize,
    consumers: AtomicUsize,
}

impl Counts {
    /// No handle counted yet: each handle counts itself with [`Member::join`].
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            producers: AtomicUsize::new(0),
            consumers: AtomicUsize::new(0),
        })
    }

    /// Whether every handle of one side is gone, and so the wrapped crate has disconnected it.
    pub fn disconnected(&self) -> bool {
        self.producers.load(Ordering::Acquire) == 0 || self.consumers.load(Ordering::Acquire) == 0
    }
}

/// One handle's place in the count of its side: counted when made or cloned, uncounted when
/// dropped.
///
/// It must be the handle's last field, so that Rust drops it after the handle's endpoint of the
/// wrapped crate. The count then reaches 0 only once the crate has disconnected the channel, and
/// whoever reads that 0 (`close`, `is_closed`) finds every later send refused by the crate
/// itself. Counting in the handle's own `Drop` would open a window in which the count
/// says "gone" while the channel still accepts sends that nobody will receive.
pub struct Member<S: Side> {
    counts: Arc<Counts>,
    side: PhantomData<S>,
}

/// Which count of [`Counts`] a [`Member`] belongs to.
pub trait Side {
    /// This side's count.
    fn count(counts: &Counts) -> &AtomicUsize;
}

/// The producer side.
pub struct Producers;

/// The consumer side.
pub struct Consumers;

impl Side for Producers {
    fn count(counts: &Counts) -> &AtomicUsize {
        &counts.producers
    }
}

impl Side for Consumers {
    fn count(counts: &Counts) -> &AtomicUsize {
        &counts.consumers
    }
}

impl<S: Side> Member<S> {
    /// Counts one more handle of side `S`.
    pub fn join(counts: &Arc<Counts>) -> Self {
        S::count(counts).fetch_add(1, Ordering::Relaxed);
        Self {
            counts: Arc::clone(counts),
            side: PhantomData,
        }
    }

    /// The counts this handle belongs to.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }
}

impl<S: Side> Clone for Member<S> {
    fn clone(&self) -> Self {
        Self::join(&self.counts)
    }
}

impl<S: Side> Drop for Member<S> {
    fn drop(&mut self) {
        // Release: the handle's endpoint was dropped before this, and whoever acquires the 0
        // sees the channel disconnected.
        S::count(&self.counts).fetch_sub(1, Ordering::Release);
    }
}
