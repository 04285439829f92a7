//! The raw adapter: a channel crate as its users use it, no close emulation.

use std::fmt;
use std::time::Instant;

use super::WrappedChannel;
use crate::handle_count::{Consumers, Counts, Member, Producers};
use crate::{
    Consumer, Handle, Producer, RecvError, RecvTimeoutError, SendError, SendTimeoutError,
    TryRecvError, TrySendError,
};

/// The sending handle of a raw channel backend: the crate's sender and this handle's place in
/// the handle counts.
pub struct ChannelSender<C: WrappedChannel, T: Send + 'static> {
    // Field order matters: `tx` is dropped before `member` takes this handle out of the count.
    tx: C::Sender<T>,
    member: Member<Producers>,
}

/// The receiving handle of a raw channel backend: the crate's receiver and this handle's place
/// in the handle counts.
pub struct ChannelReceiver<C: WrappedChannel, T: Send + 'static> {
    // Field order matters: `rx` is dropped before `member` takes this handle out of the count.
    rx: C::Receiver<T>,
    member: Member<Consumers>,
}

/// The crate's bounded channel of `capacity` behind the contract, with no close emulation: every
/// operation is one call of the crate's own, `close()` returns `false` and changes nothing, and
/// `is_closed()` reports disconnection. Call it after
/// [`check_capacity`](crate::check_capacity).
pub fn raw_bounded<C: WrappedChannel, T: Send + 'static>(
    capacity: usize,
) -> (ChannelSender<C, T>, ChannelReceiver<C, T>) {
    let (tx, rx) = C::bounded(capacity);
    let counts = Counts::new();
    (
        ChannelSender {
            tx,
            member: Member::join(&counts),
        },
        ChannelReceiver {
            rx,
            member: Member::join(&counts),
        },
    )
}

impl<C: WrappedChannel, T: Send + 'static> ChannelSender<C, T> {
    fn disconnected(&self) -> bool {
        C::sender_disconnected(&self.tx) || self.member.counts().disconnected()
    }
}

impl<C: WrappedChannel, T: Send + 'static> ChannelReceiver<C, T> {
    fn disconnected(&self) -> bool {
        C::receiver_disconnected(&self.rx) || self.member.counts().disconnected()
    }
}

impl<C: WrappedChannel, T: Send + 'static> Producer<T> for ChannelSender<C, T> {
    #[inline]
    fn send(&self, item: T) -> Result<(), SendError<T>> {
        C::send(&self.tx, item)
    }

    #[inline]
    fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        C::try_send(&self.tx, item)
    }

    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        C::send_deadline(&self.tx, item, deadline)
    }
}

impl<C: WrappedChannel, T: Send + 'static> Consumer<T> for ChannelReceiver<C, T> {
    #[inline]
    fn recv(&self) -> Result<T, RecvError> {
        C::recv(&self.rx)
    }

    #[inline]
    fn try_recv(&self) -> Result<T, TryRecvError> {
        C::try_recv(&self.rx)
    }

    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        C::recv_deadline(&self.rx, deadline)
    }
}

impl<C: WrappedChannel, T: Send + 'static> Handle for ChannelSender<C, T> {
    /// Not offered: returns `false` and changes nothing.
    fn close(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.disconnected()
    }

    fn len(&self) -> usize {
        C::sender_len(&self.tx)
    }

    fn capacity(&self) -> usize {
        C::sender_capacity(&self.tx)
    }
}

impl<C: WrappedChannel, T: Send + 'static> Handle for ChannelReceiver<C, T> {
    /// Not offered: returns `false` and changes nothing.
    fn close(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.disconnected()
    }

    fn len(&self) -> usize {
        C::receiver_len(&self.rx)
    }

    fn capacity(&self) -> usize {
        C::receiver_capacity(&self.rx)
    }
}

// Clone and Debug by hand: derived ones would require `C: Clone` and `T: Clone`.
impl<C: WrappedChannel, T: Send + 'static> Clone for ChannelSender<C, T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            member: self.member.clone(),
        }
    }
}

impl<C: WrappedChannel, T: Send + 'static> Clone for ChannelReceiver<C, T> {
    fn clone(&self) -> Self {
        Self {
            rx: self.rx.clone(),
            member: self.member.clone(),
        }
    }
}

impl<C: WrappedChannel, T: Send + 'static> fmt::Debug for ChannelSender<C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelSender")
            .field("crate", &C::CRATE)
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("disconnected", &self.disconnected())
            .finish()
    }
}

impl<C: WrappedChannel, T: Send + 'static> fmt::Debug for ChannelReceiver<C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelReceiver")
            .field("crate", &C::CRATE)
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("disconnected", &self.disconnected())
            .finish()
    }
}
