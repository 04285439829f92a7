//! One adapter of a channel crate to the contract, written once for every crate that already
//! blocks and disconnects by itself (crossbeam-channel, flume, std's `sync_channel`).
//!
//! A crate's adapter implements [`WrappedChannel`]: the crate's own `bounded`, its
//! try/blocking/deadline send and receive with their errors mapped to the contract's, and its
//! `len` and `capacity`. Two generic adapters are built on it:
//!
//! - [`ChannelSender`] and [`ChannelReceiver`], the *raw* adapter, built by [`raw_bounded`]: the
//!   crate as its users use it, every operation one call of the crate's own, no `close()`
//!   ([`Support::Unsupported`](crate::Support::Unsupported)), `is_closed()` from
//!   [handle counts](crate::handle_count) (and the crate's own word where it has one);
//! - [`GatedSender`] and [`GatedReceiver`], the *exact-close* adapter, built by
//!   [`gated_bounded`]: the same channel with `close()` emulated exactly through a
//!   [`CloseGate`]. It needs [`CloseWait`] too, which says how a
//!   thread blocked in the crate learns of a close.
//!
//! A backend crate then holds only what differs: the trait impls, its marker types, their
//! `NAME` and `CAPABILITIES`, and the slot type it passes to
//! [`check_capacity`](crate::check_capacity).
//!
//! Everything is generic, so it monomorphises into the same code as a hand-written adapter: no
//! `dyn`, and a raw send is the crate's own send behind one inlined error mapping.
//!
//! # What a gated send costs
//!
//! On top of the crate's `try_send`, a send through a [`GatedSender`] passes the close gate:
//! for the thread that owns the handle's lane, a thread-local address, plain loads and stores
//! of the lane's count (on a cache line of its own), a compiler fence and a load of the shared
//! `closed` flag, with no locked instruction (the close gate's module docs say why that is
//! exact, and what a thread sharing someone else's handle pays instead). Receives pay nothing
//! until the channel looks empty. A blocked operation waits as [`CloseWait`] says: in a select
//! over its own operation and a wake-up, or in slices of [`CLOSE_POLL`].
//!
//! `docs/adapters.md` of the repository says how to write a new adapter, including one over a
//! bare queue that neither blocks nor disconnects by itself.

mod gated;
mod raw;

pub use gated::{GatedReceiver, GatedSender, gated_bounded};
pub use raw::{ChannelReceiver, ChannelSender, raw_bounded};

use std::time::{Duration, Instant};

use crate::close_gate::CloseGate;
use crate::{RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError};

/// The longest a blocked operation of a [`CloseWait`] that keeps the provided sliced waits
/// spends in the crate before it looks at the close gate again.
///
/// It bounds how long a close takes to reach a blocked thread, and costs that thread one extra
/// wake-up per slice while it stays blocked.
pub const CLOSE_POLL: Duration = Duration::from_millis(1);

/// A channel crate's own operations, in the contract's vocabulary.
///
/// Implemented by a backend crate for its marker type; every method is the crate's own call,
/// with the crate's errors mapped to the contract's. The crate's channel must block, time out
/// and disconnect (when every handle of one side is dropped) by itself, and its endpoints must
/// be cheap to clone.
pub trait WrappedChannel: 'static {
    /// The wrapped crate's name, as `Debug` shows it.
    const CRATE: &'static str;

    /// The crate's sending endpoint.
    type Sender<T: Send + 'static>: Clone + Send + Sync + 'static;
    /// The crate's receiving endpoint; several consumer handles hold clones of it.
    type Receiver<T: Send + 'static>: Clone + Send + Sync + 'static;

    /// The crate's bounded channel of `capacity` (0: rendezvous), once the capacity has passed
    /// the backend's [`check_capacity`](crate::check_capacity).
    fn bounded<T: Send + 'static>(capacity: usize) -> (Self::Sender<T>, Self::Receiver<T>);

    /// The crate's blocking send.
    ///
    /// # Errors
    ///
    /// As [`Producer::send`](crate::Producer::send).
    fn send<T: Send + 'static>(tx: &Self::Sender<T>, item: T) -> Result<(), SendError<T>>;

    /// The crate's non-blocking send.
    ///
    /// # Errors
    ///
    /// As [`Producer::try_send`](crate::Producer::try_send).
    fn try_send<T: Send + 'static>(tx: &Self::Sender<T>, item: T) -> Result<(), TrySendError<T>>;

    /// The crate's timed send.
    ///
    /// # Errors
    ///
    /// As [`Producer::send_deadline`](crate::Producer::send_deadline).
    fn send_deadline<T: Send + 'static>(
        tx: &Self::Sender<T>,
        item: T,
        deadline: Instant,
    ) -> Result<(), SendTimeoutError<T>>;

    /// The crate's blocking receive.
    ///
    /// # Errors
    ///
    /// As [`Consumer::recv`](crate::Consumer::recv).
    fn recv<T: Send + 'static>(rx: &Self::Receiver<T>) -> Result<T, RecvError>;

    /// The crate's non-blocking receive.
    ///
    /// # Errors
    ///
    /// As [`Consumer::try_recv`](crate::Consumer::try_recv).
    fn try_recv<T: Send + 'static>(rx: &Self::Receiver<T>) -> Result<T, TryRecvError>;

    /// The crate's timed receive.
    ///
    /// # Errors
    ///
    /// As [`Consumer::recv_deadline`](crate::Consumer::recv_deadline).
    fn recv_deadline<T: Send + 'static>(
        rx: &Self::Receiver<T>,
        deadline: Instant,
    ) -> Result<T, RecvTimeoutError>;

    /// The number of buffered items, seen from a sender.
    fn sender_len<T: Send + 'static>(tx: &Self::Sender<T>) -> usize;

    /// The number of buffered items, seen from a receiver.
    fn receiver_len<T: Send + 'static>(rx: &Self::Receiver<T>) -> usize;

    /// The capacity the channel was built with, seen from a sender.
    fn sender_capacity<T: Send + 'static>(tx: &Self::Sender<T>) -> usize;

    /// The capacity the channel was built with, seen from a receiver.
    fn receiver_capacity<T: Send + 'static>(rx: &Self::Receiver<T>) -> usize;

    /// Whether the crate itself says, seen from a sender, that the channel is disconnected.
    /// The adapters also count handles ([`crate::handle_count`]), so a crate that cannot be
    /// asked keeps the provided `false`.
    fn sender_disconnected<T: Send + 'static>(tx: &Self::Sender<T>) -> bool {
        let _ = tx;
        false
    }

    /// As [`sender_disconnected`](Self::sender_disconnected), seen from a receiver.
    fn receiver_disconnected<T: Send + 'static>(rx: &Self::Receiver<T>) -> bool {
        let _ = rx;
        false
    }
}

/// How a thread blocked in the crate learns of a close, for the exact-close adapter
/// ([`gated_bounded`]).
///
/// The provided waits suit a crate that cannot wait on two things at once: they block in the
/// crate's own timed operation in slices of [`CLOSE_POLL`] and look at the gate between
/// slices, with a [`fire`](Self::fire) that does nothing; the backend then declares
/// `blocking: Support::Emulated`. A crate that can select over its operation and a wake-up
/// (crossbeam's `Select`) overrides all three, with a [`Wakeup`](Self::Wakeup) that `fire`
/// disconnects, and blocks exactly as long as it must.
pub trait CloseWait: WrappedChannel {
    /// What `close` fires to wake blocked threads; `()` for the sliced waits.
    type Wakeup: Send + Sync + 'static;

    /// A new, unfired wake-up, one per buffer.
    fn wakeup() -> Self::Wakeup;

    /// Wakes every thread blocked in [`wait_for_room`](Self::wait_for_room) or
    /// [`wait_for_item`](Self::wait_for_item) on this buffer, and keeps waking any that block
    /// later. Called once, by the close gate's `close`, after `closed` is set.
    fn fire(wakeup: &Self::Wakeup) {
        let _ = wakeup;
    }

    /// The slow path of a gated send, inside the send's pass, after `try_send` found the
    /// channel full: waits until the item is accepted, the channel disconnects, `deadline`
    /// (`None`: never) passes, or the gate closes, which refuses the item with `Disconnected`.
    ///
    /// The provided version is the crate's `send_deadline` in slices of [`CLOSE_POLL`],
    /// looking at `gate` between slices.
    ///
    /// # Errors
    ///
    /// As [`Producer::send_deadline`](crate::Producer::send_deadline), each with the item.
    fn wait_for_room<T: Send + 'static>(
        tx: &Self::Sender<T>,
        wakeup: &Self::Wakeup,
        gate: &CloseGate,
        mut item: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        let _ = wakeup;
        loop {
            let Some(until) = slice_until(deadline) else {
                return Err(SendTimeoutError::Timeout(item));
            };
            item = match Self::send_deadline(tx, item, until) {
                Err(SendTimeoutError::Timeout(item)) => item,
                done => return done,
            };
            // Still inside the pass: the closer waits for this answer.
            if gate.is_closed() {
                return Err(SendTimeoutError::Disconnected(item));
            }
        }
    }

    /// One wait of a gated receive while the gate is open and the channel looked empty:
    /// `Ok(Some(item))` when an item came, `Ok(None)` when the receive should look at the gate
    /// again (the wake-up fired, or a slice ended).
    ///
    /// The provided version is one slice of the crate's `recv_deadline`, of at most
    /// [`CLOSE_POLL`].
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] once `deadline` has passed,
    /// [`RecvTimeoutError::Disconnected`] when every sender is gone and the channel is empty.
    fn wait_for_item<T: Send + 'static>(
        rx: &Self::Receiver<T>,
        wakeup: &Self::Wakeup,
        deadline: Option<Instant>,
    ) -> Result<Option<T>, RecvTimeoutError> {
        let _ = wakeup;
        let Some(until) = slice_until(deadline) else {
            return Err(RecvTimeoutError::Timeout);
        };
        match Self::recv_deadline(rx, until) {
            Ok(item) => Ok(Some(item)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(RecvTimeoutError::Disconnected),
        }
    }
}

/// The end of the next wait slice: [`CLOSE_POLL`] from now, or `deadline` if that is sooner;
/// `None` once `deadline` has passed.
fn slice_until(deadline: Option<Instant>) -> Option<Instant> {
    let now = Instant::now();
    let slice_end = now + CLOSE_POLL;
    match deadline {
        Some(deadline) if deadline <= now => None,
        Some(deadline) => Some(deadline.min(slice_end)),
        None => Some(slice_end),
    }
}

/// The capacity of a channel a crate built with its `bounded`, from the crate's own report,
/// which is `None` only for an unbounded channel that `bounded` never builds.
pub fn bounded_capacity(reported: Option<usize>) -> usize {
    reported.unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_ends_at_the_deadline_or_one_poll_from_now() {
        let past = Instant::now();
        assert_eq!(
            slice_until(Some(past)),
            None,
            "a passed deadline ends the wait"
        );
        let soon = Instant::now() + CLOSE_POLL / 2;
        assert_eq!(
            slice_until(Some(soon)),
            Some(soon),
            "a deadline inside the slice"
        );
        let before = Instant::now();
        let slice_end = slice_until(None).expect("no deadline never times out");
        assert!(slice_end >= before + CLOSE_POLL);
        assert!(slice_end <= Instant::now() + CLOSE_POLL);
        let far = Instant::now() + CLOSE_POLL * 1000;
        assert!(slice_until(Some(far)).expect("far deadline") < far);
    }

    #[test]
    fn a_reported_capacity_is_kept() {
        assert_eq!(bounded_capacity(Some(0)), 0);
        assert_eq!(bounded_capacity(Some(1024)), 1024);
        assert_eq!(bounded_capacity(None), usize::MAX);
    }
}
