//! [`Flume`] (`flume`): flume as it is.
//!
//! Every operation is one call of the crate's own: `send`, `try_send`, `send_deadline`, `recv`,
//! `try_recv`, `recv_deadline`, with flume's own blocking. There is no `close()`
//! ([`Support::Unsupported`]): it returns `false` and changes nothing, and `is_closed()` is
//! flume's own `is_disconnected()`. Batches are the contract's loop over single operations, as a
//! user of flume would write them.

use std::fmt;
use std::time::Instant;

use buffer_api::{
    Backend, BufferedDrop, Capabilities, CapacityError, Discipline, Handle, RecvError,
    RecvTimeoutError, SendError, SendTimeoutError, Support, TryRecvError, TrySendError,
};

use crate::{capacity, try_send_error};

/// flume as its users use it: `flume::bounded` behind the buffer-api traits, with no close
/// emulation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flume;

impl Backend for Flume {
    const NAME: &'static str = "flume";
    const CAPABILITIES: Capabilities = Capabilities {
        rendezvous: true,
        close: Support::Unsupported,
        batch: Support::Emulated,
        discipline: Discipline::Fifo,
        buffered_drop: BufferedDrop::OnLastHandle,
        blocking: Support::Native,
        consumers: Support::Native,
        len: Support::Native,
        drop_oldest: false,
    };

    type Producer<T: Send + 'static> = Producer<T>;
    type Consumer<T: Send + 'static> = Consumer<T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
        buffer_api::check_capacity::<T>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        let (tx, rx) = flume::bounded(capacity);
        Ok((Producer { tx }, Consumer { rx }))
    }
}

/// The sending handle of a [`Flume`] buffer: a `flume::Sender`.
pub struct Producer<T> {
    tx: flume::Sender<T>,
}

/// The receiving handle of a [`Flume`] buffer: a `flume::Receiver`.
pub struct Consumer<T> {
    rx: flume::Receiver<T>,
}

impl<T: Send + 'static> buffer_api::Producer<T> for Producer<T> {
    #[inline]
    fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.tx
            .send(item)
            .map_err(|flume::SendError(item)| SendError(item))
    }

    #[inline]
    fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.tx.try_send(item).map_err(try_send_error)
    }

    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.tx
            .send_deadline(item, deadline)
            .map_err(|error| match error {
                flume::SendTimeoutError::Timeout(item) => SendTimeoutError::Timeout(item),
                flume::SendTimeoutError::Disconnected(item) => SendTimeoutError::Disconnected(item),
            })
    }
}

impl<T: Send + 'static> buffer_api::Consumer<T> for Consumer<T> {
    #[inline]
    fn recv(&self) -> Result<T, RecvError> {
        self.rx
            .recv()
            .map_err(|flume::RecvError::Disconnected| RecvError)
    }

    #[inline]
    fn try_recv(&self) -> Result<T, TryRecvError> {
        self.rx.try_recv().map_err(|error| match error {
            flume::TryRecvError::Empty => TryRecvError::Empty,
            flume::TryRecvError::Disconnected => TryRecvError::Disconnected,
        })
    }

    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.rx
            .recv_deadline(deadline)
            .map_err(|error| match error {
                flume::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
                flume::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
            })
    }
}

impl<T: Send + 'static> Handle for Producer<T> {
    /// Not offered: returns `false` and changes nothing.
    fn close(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.tx.is_disconnected()
    }

    fn len(&self) -> usize {
        self.tx.len()
    }

    fn capacity(&self) -> usize {
        capacity(self.tx.capacity())
    }
}

impl<T: Send + 'static> Handle for Consumer<T> {
    /// Not offered: returns `false` and changes nothing.
    fn close(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.rx.is_disconnected()
    }

    fn len(&self) -> usize {
        self.rx.len()
    }

    fn capacity(&self) -> usize {
        capacity(self.rx.capacity())
    }
}

impl<T> Clone for Producer<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<T> Clone for Consumer<T> {
    fn clone(&self) -> Self {
        Self {
            rx: self.rx.clone(),
        }
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("flume::Producer")
            .field("len", &self.tx.len())
            .field("capacity", &self.tx.capacity())
            .field("disconnected", &self.tx.is_disconnected())
            .finish()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("flume::Consumer")
            .field("len", &self.rx.len())
            .field("capacity", &self.rx.capacity())
            .field("disconnected", &self.rx.is_disconnected())
            .finish()
    }
}
