//! [`Crossbeam`] (`crossbeam`): crossbeam-channel as it is.
//!
//! Every operation is one call of the crate's own: `send`, `try_send`, `send_deadline`, `recv`,
//! `try_recv`, `recv_deadline`, with crossbeam's own blocking. There is no `close()`
//! ([`Support::Unsupported`]): it returns `false` and changes nothing, and `is_closed()` reports
//! disconnection, read from handle counts that are touched only when a handle is cloned or
//! dropped. Batches are the contract's loop over single operations, as a user of crossbeam
//! would write them.

use std::fmt;
use std::time::Instant;

use buffer_api::{
    Backend, BufferedDrop, Capabilities, CapacityError, Discipline, Handle, RecvError,
    RecvTimeoutError, SendError, SendTimeoutError, Support, TryRecvError, TrySendError,
};
use crossbeam_channel as cb;

use crate::{ArraySlot, capacity, send_disconnected, try_send_error};
use buffer_api::handle_count::{Consumers, Counts, Member, Producers};

/// crossbeam-channel as its users use it: `crossbeam_channel::bounded` behind the buffer-api
/// traits, with no close emulation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Crossbeam;

impl Backend for Crossbeam {
    const NAME: &'static str = "crossbeam";
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
        buffer_api::check_capacity::<ArraySlot<T>>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        let (tx, rx) = cb::bounded(capacity);
        let counts = Counts::new();
        Ok((
            Producer {
                tx,
                member: Member::join(&counts),
            },
            Consumer {
                rx,
                member: Member::join(&counts),
            },
        ))
    }
}

/// The sending handle of a [`Crossbeam`] buffer: a `crossbeam_channel::Sender`.
pub struct Producer<T> {
    // Field order matters: `tx` is dropped before `member` takes this handle out of the count.
    tx: cb::Sender<T>,
    member: Member<Producers>,
}

/// The receiving handle of a [`Crossbeam`] buffer: a `crossbeam_channel::Receiver`.
pub struct Consumer<T> {
    // Field order matters: `rx` is dropped before `member` takes this handle out of the count.
    rx: cb::Receiver<T>,
    member: Member<Consumers>,
}

impl<T: Send + 'static> buffer_api::Producer<T> for Producer<T> {
    #[inline]
    fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.tx
            .send(item)
            .map_err(|cb::SendError(item)| SendError(item))
    }

    #[inline]
    fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.tx.try_send(item).map_err(try_send_error)
    }

    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.tx
            .send_deadline(item, deadline)
            .map_err(|error| match error {
                cb::SendTimeoutError::Timeout(item) => SendTimeoutError::Timeout(item),
                cb::SendTimeoutError::Disconnected(item) => send_disconnected(cb::SendError(item)),
            })
    }
}

impl<T: Send + 'static> buffer_api::Consumer<T> for Consumer<T> {
    #[inline]
    fn recv(&self) -> Result<T, RecvError> {
        self.rx.recv().map_err(|cb::RecvError| RecvError)
    }

    #[inline]
    fn try_recv(&self) -> Result<T, TryRecvError> {
        self.rx.try_recv().map_err(|error| match error {
            cb::TryRecvError::Empty => TryRecvError::Empty,
            cb::TryRecvError::Disconnected => TryRecvError::Disconnected,
        })
    }

    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.rx
            .recv_deadline(deadline)
            .map_err(|error| match error {
                cb::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
                cb::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
            })
    }
}

impl<T: Send + 'static> Handle for Producer<T> {
    /// Not offered: returns `false` and changes nothing.
    fn close(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.member.counts().disconnected()
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
        self.member.counts().disconnected()
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
            member: self.member.clone(),
        }
    }
}

impl<T> Clone for Consumer<T> {
    fn clone(&self) -> Self {
        Self {
            rx: self.rx.clone(),
            member: self.member.clone(),
        }
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("crossbeam::Producer")
            .field("len", &self.tx.len())
            .field("capacity", &self.tx.capacity())
            .field("disconnected", &self.member.counts().disconnected())
            .finish()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("crossbeam::Consumer")
            .field("len", &self.rx.len())
            .field("capacity", &self.rx.capacity())
            .field("disconnected", &self.member.counts().disconnected())
            .finish()
    }
}
