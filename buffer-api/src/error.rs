//! Typed errors in the channel vocabulary. Every error of a send operation owns the item that
//! could not be sent and hands it back through `into_inner`.
//!
//! `Debug` is written by hand so that no error needs `T: Debug`: the item is shown as `..`.

use std::error::Error;
use std::fmt;

/// A blocking `send` failed because the buffer is disconnected; the item comes back.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

/// A `try_send` failed; the item comes back.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The buffer holds `capacity()` items (or, at capacity 0, no receiver is waiting).
    Full(T),
    /// The buffer is closed, or every consumer handle has been dropped.
    Disconnected(T),
}

/// A `send_timeout` or `send_deadline` failed; the item comes back.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendTimeoutError<T> {
    /// The deadline passed while the buffer stayed full.
    Timeout(T),
    /// The buffer is closed, or every consumer handle has been dropped.
    Disconnected(T),
}

/// A `send_batch` stopped because the buffer was disconnected part-way.
///
/// The items that were accepted stay accepted; `unsent` holds the rest, in their original order,
/// starting with the item that was refused.
#[derive(PartialEq, Eq, Clone)]
pub struct SendBatchError<T> {
    /// How many items of the batch were accepted before the disconnect.
    pub sent: usize,
    /// The items that were not accepted, in order.
    pub unsent: Vec<T>,
}

/// A `force_send` failed; the item comes back.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum ForceSendError<T> {
    /// The buffer is closed, or every consumer handle has been dropped.
    Disconnected(T),
    /// The backend cannot evict and insert in one atomic step, so it does not offer
    /// `force_send` at all (see [`Capabilities::drop_oldest`](crate::Capabilities::drop_oldest)).
    Unsupported(T),
}

/// A blocking `recv` (or `recv_batch`) found the buffer empty and disconnected.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub struct RecvError;

/// A `try_recv` found nothing to take.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum TryRecvError {
    /// The buffer is empty but still open: a later item may arrive.
    Empty,
    /// The buffer is empty and disconnected: no item will ever arrive.
    Disconnected,
}

/// A `recv_timeout` or `recv_deadline` found nothing to take.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum RecvTimeoutError {
    /// The deadline passed while the buffer stayed empty.
    Timeout,
    /// The buffer is empty and disconnected: no item will ever arrive.
    Disconnected,
}

/// `Backend::bounded` refused the requested capacity.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum CapacityError {
    /// Capacity 0 was requested from a backend that does not declare rendezvous support.
    RendezvousUnsupported {
        /// The backend's `NAME`.
        backend: &'static str,
    },
    /// The capacity is above [`MAX_CAPACITY`](crate::MAX_CAPACITY), or the storage for this
    /// many items would not fit in the address space, or could not be allocated.
    TooLarge {
        /// The capacity that was requested.
        capacity: usize,
    },
}

impl<T> SendError<T> {
    /// Takes back the item that could not be sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> TrySendError<T> {
    /// Takes back the item that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(item) | Self::Disconnected(item) => item,
        }
    }

    /// Whether the send failed because the buffer was full.
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full(_))
    }

    /// Whether the send failed because the buffer was disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }
}

impl<T> SendTimeoutError<T> {
    /// Takes back the item that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            Self::Timeout(item) | Self::Disconnected(item) => item,
        }
    }

    /// Whether the send failed because its deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }

    /// Whether the send failed because the buffer was disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }
}

impl<T> ForceSendError<T> {
    /// Takes back the item that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            Self::Disconnected(item) | Self::Unsupported(item) => item,
        }
    }

    /// Whether the send failed because the buffer was disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }

    /// Whether the send failed because the backend does not offer `force_send`.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Self::Unsupported(_))
    }
}

impl<T> SendBatchError<T> {
    /// Takes back the items that were not sent, in order.
    pub fn into_inner(self) -> Vec<T> {
        self.unsent
    }
}

impl TryRecvError {
    /// Whether the buffer was merely empty.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// Whether the buffer was disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected)
    }
}

impl RecvTimeoutError {
    /// Whether the deadline passed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout)
    }

    /// Whether the buffer was disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected)
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(SendError(item): SendError<T>) -> Self {
        Self::Disconnected(item)
    }
}

impl<T> From<SendError<T>> for SendTimeoutError<T> {
    fn from(SendError(item): SendError<T>) -> Self {
        Self::Disconnected(item)
    }
}

impl From<RecvError> for TryRecvError {
    fn from(RecvError: RecvError) -> Self {
        Self::Disconnected
    }
}

impl From<RecvError> for RecvTimeoutError {
    fn from(RecvError: RecvError) -> Self {
        Self::Disconnected
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(_) => f.write_str("Timeout(..)"),
            Self::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Debug for ForceSendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disconnected(_) => f.write_str("Disconnected(..)"),
            Self::Unsupported(_) => f.write_str("Unsupported(..)"),
        }
    }
}

impl<T> fmt::Debug for SendBatchError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendBatchError")
            .field("sent", &self.sent)
            .field("unsent", &format_args!("[..; {}]", self.unsent.len()))
            .finish()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a disconnected buffer")
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("sending on a full buffer"),
            Self::Disconnected(_) => f.write_str("sending on a disconnected buffer"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(_) => f.write_str("timed out waiting to send on a full buffer"),
            Self::Disconnected(_) => f.write_str("sending on a disconnected buffer"),
        }
    }
}

impl<T> fmt::Display for ForceSendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disconnected(_) => f.write_str("sending on a disconnected buffer"),
            Self::Unsupported(_) => {
                f.write_str("this backend cannot evict and insert atomically (no force_send)")
            }
        }
    }
}

impl<T> fmt::Display for SendBatchError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "buffer disconnected after {} items of a batch; {} items handed back",
            self.sent,
            self.unsent.len()
        )
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on an empty and disconnected buffer")
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("receiving on an empty buffer"),
            Self::Disconnected => f.write_str("receiving on an empty and disconnected buffer"),
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timed out waiting to receive from an empty buffer"),
            Self::Disconnected => f.write_str("receiving on an empty and disconnected buffer"),
        }
    }
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RendezvousUnsupported { backend } => {
                write!(
                    f,
                    "backend `{backend}` does not support capacity 0 (rendezvous)"
                )
            }
            Self::TooLarge { capacity } => {
                write!(f, "capacity {capacity} is too large to allocate")
            }
        }
    }
}

impl<T> Error for SendError<T> {}
impl<T> Error for TrySendError<T> {}
impl<T> Error for SendTimeoutError<T> {}
impl<T> Error for SendBatchError<T> {}
impl<T> Error for ForceSendError<T> {}
impl Error for RecvError {}
impl Error for TryRecvError {}
impl Error for RecvTimeoutError {}
impl Error for CapacityError {}
