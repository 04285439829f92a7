//! [`CrossbeamClose`] (`crossbeam-close`): crossbeam-channel with an exact `close()`.
//!
//! crossbeam-channel has no `close()`, so it is emulated with a
//! [`CloseGate`](buffer_api::close_gate) (whose docs say why a plain flag is not exact) and a
//! wakeup channel: a `bounded::<()>(0)` whose only sender is dropped on close. Every blocking
//! operation selects over its own channel operation and a receive on that wakeup channel, so a
//! close wakes it. The fast paths are the crate's own `try_send`/`try_recv`; a send pays one
//! uncontended atomic increment and decrement on top, and a blocked operation waits in a
//! two-armed `Select` instead of crossbeam's own single-operation wait.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Instant;

use buffer_api::close_gate::{CloseGate, Lane, Phase};
use buffer_api::{
    Backend, BufferedDrop, Capabilities, CapacityError, Discipline, Handle, RecvError,
    RecvTimeoutError, SendError, SendTimeoutError, Support, TryRecvError, TrySendError,
};
use crossbeam_channel as cb;
use crossbeam_utils::Backoff;

use crate::{ArraySlot, capacity, send_disconnected, try_send_error};
use buffer_api::handle_count::{Consumers, Counts, Member, Producers};

/// crossbeam-channel with an exact emulated `close()`: `crossbeam_channel::bounded` behind the
/// buffer-api traits, every send through a [`CloseGate`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CrossbeamClose;

impl Backend for CrossbeamClose {
    const NAME: &'static str = "crossbeam-close";
    const CAPABILITIES: Capabilities = Capabilities {
        rendezvous: true,
        close: Support::Emulated,
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
        let (wake_tx, wake_rx) = cb::bounded(0);
        let shared = Arc::new(Shared {
            gate: CloseGate::new(),
            wake_tx: Mutex::new(Some(wake_tx)),
            wake_rx,
        });
        let counts = Counts::new();
        let lane = shared.gate.lane();
        Ok((
            Producer {
                tx,
                lane,
                shared: Arc::clone(&shared),
                member: Member::join(&counts),
            },
            Consumer {
                rx,
                shared,
                member: Member::join(&counts),
            },
        ))
    }
}

/// What every handle of one buffer shares: the close gate and the wakeup.
///
/// It holds no clone of the data channel's `Sender` or `Receiver`, so dropping the handles of one
/// side still disconnects natively.
struct Shared {
    gate: CloseGate,
    /// Dropped on close, which disconnects `wake_rx` and wakes every select waiting on it.
    wake_tx: Mutex<Option<cb::Sender<()>>>,
    wake_rx: cb::Receiver<()>,
}

impl Shared {
    /// Closes through the gate, unless one side has already gone (`counts` says so only once
    /// crossbeam has disconnected it): the buffer is then closed already.
    fn close(&self, counts: &Counts) -> bool {
        if counts.disconnected() {
            return false;
        }
        self.gate.close(|| {
            drop(
                self.wake_tx
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take(),
            );
        })
    }

    fn is_closed(&self, counts: &Counts) -> bool {
        self.gate.is_closed() || counts.disconnected()
    }
}

/// The sending handle of a [`CrossbeamClose`] buffer: a `crossbeam_channel::Sender` plus its lane
/// through the close gate.
///
/// Each clone has its own lane, so producer threads that each hold a clone do not contend on
/// the gate; threads sharing one handle by reference share its counter.
pub struct Producer<T> {
    // Field order matters: `tx` is dropped before `member` takes this handle out of the count.
    tx: cb::Sender<T>,
    lane: Lane,
    shared: Arc<Shared>,
    member: Member<Producers>,
}

/// The receiving handle of a [`CrossbeamClose`] buffer: a `crossbeam_channel::Receiver`.
pub struct Consumer<T> {
    // Field order matters: `rx` is dropped before `member` takes this handle out of the count.
    rx: cb::Receiver<T>,
    shared: Arc<Shared>,
    member: Member<Consumers>,
}

impl<T> Producer<T> {
    /// The one blocking send: raw attempt first, then, only if the buffer is full, a wait.
    #[inline]
    fn send_until(&self, item: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let Some(_pass) = self.shared.gate.enter(&self.lane) else {
            return Err(SendTimeoutError::Disconnected(item));
        };
        match self.tx.try_send(item) {
            Ok(()) => Ok(()),
            Err(cb::TrySendError::Disconnected(item)) => Err(SendTimeoutError::Disconnected(item)),
            Err(cb::TrySendError::Full(item)) => self.wait_to_send(item, deadline),
        }
    }

    /// The slow path of a send, inside the caller's pass: a select over the send and the close
    /// wakeup, until `deadline` if there is one. Kept out of line so the fast path stays small.
    #[cold]
    #[inline(never)]
    fn wait_to_send(&self, item: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        // Retry with crossbeam's own backoff before parking, as its raw `send` does: parking
        // costs microseconds, and room often appears sooner.
        let backoff = Backoff::new();
        let mut item = item;
        while !backoff.is_completed() {
            backoff.snooze();
            match self.tx.try_send(item) {
                Ok(()) => return Ok(()),
                Err(cb::TrySendError::Disconnected(back)) => {
                    return Err(SendTimeoutError::Disconnected(back));
                }
                Err(cb::TrySendError::Full(back)) => item = back,
            }
        }
        let mut select = cb::Select::new();
        let send = select.send(&self.tx);
        select.recv(&self.shared.wake_rx);
        let operation = match deadline {
            None => select.select(),
            Some(deadline) => match select.select_deadline(deadline) {
                Ok(operation) => operation,
                Err(cb::SelectTimeoutError) => return Err(SendTimeoutError::Timeout(item)),
            },
        };
        if operation.index() == send {
            operation.send(&self.tx, item).map_err(send_disconnected)
        } else {
            // The wakeup only ever fires by disconnecting: the buffer is closed.
            let _ = operation.recv(&self.shared.wake_rx);
            Err(SendTimeoutError::Disconnected(item))
        }
    }
}

impl<T> Consumer<T> {
    /// The one blocking receive: raw attempt first, then, only if the buffer is empty, a wait.
    #[inline]
    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        match self.rx.try_recv() {
            Ok(item) => Ok(item),
            Err(cb::TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(cb::TryRecvError::Empty) => self.wait_to_recv(deadline),
        }
    }

    /// The slow path of a receive: the gate's phase decides between blocking in a select over the
    /// receive and the close wakeup, waiting out a close, and reporting `Disconnected`.
    #[cold]
    #[inline(never)]
    fn wait_to_recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        // Retry with crossbeam's own backoff before parking, as its raw `recv` does.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            match self.rx.try_recv() {
                Ok(item) => return Ok(item),
                Err(cb::TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(cb::TryRecvError::Empty) => {}
            }
        }
        loop {
            match self.shared.gate.phase() {
                Phase::Sealed => {
                    return self
                        .rx
                        .try_recv()
                        .map_err(|_| RecvTimeoutError::Disconnected);
                }
                Phase::Closing => {
                    if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                        return Err(RecvTimeoutError::Timeout);
                    }
                    // A send that entered before the close is finishing one step.
                    thread::yield_now();
                }
                Phase::Open => {
                    let mut select = cb::Select::new();
                    let recv = select.recv(&self.rx);
                    select.recv(&self.shared.wake_rx);
                    let operation = match deadline {
                        None => select.select(),
                        Some(deadline) => match select.select_deadline(deadline) {
                            Ok(operation) => operation,
                            Err(cb::SelectTimeoutError) => return Err(RecvTimeoutError::Timeout),
                        },
                    };
                    if operation.index() == recv {
                        return operation
                            .recv(&self.rx)
                            .map_err(|cb::RecvError| RecvTimeoutError::Disconnected);
                    }
                    // Closed: look again to drain, wait for the seal, then report.
                    let _ = operation.recv(&self.shared.wake_rx);
                }
            }
            match self.rx.try_recv() {
                Ok(item) => return Ok(item),
                Err(cb::TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(cb::TryRecvError::Empty) => {}
            }
        }
    }
}

impl<T: Send + 'static> buffer_api::Producer<T> for Producer<T> {
    fn send(&self, item: T) -> Result<(), SendError<T>> {
        self.send_until(item, None).map_err(|error| match error {
            // Without a deadline only a disconnect ends the wait.
            SendTimeoutError::Timeout(item) | SendTimeoutError::Disconnected(item) => {
                SendError(item)
            }
        })
    }

    fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let Some(_pass) = self.shared.gate.enter(&self.lane) else {
            return Err(TrySendError::Disconnected(item));
        };
        self.tx.try_send(item).map_err(try_send_error)
    }

    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.send_until(item, Some(deadline))
    }
}

impl<T: Send + 'static> buffer_api::Consumer<T> for Consumer<T> {
    fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.rx.try_recv() {
            Ok(item) => Ok(item),
            Err(cb::TryRecvError::Disconnected) => Err(TryRecvError::Disconnected),
            Err(cb::TryRecvError::Empty) => match self.shared.gate.phase() {
                Phase::Open | Phase::Closing => Err(TryRecvError::Empty),
                Phase::Sealed => self.rx.try_recv().map_err(|_| TryRecvError::Disconnected),
            },
        }
    }

    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }
}

impl<T: Send + 'static> Handle for Producer<T> {
    fn close(&self) -> bool {
        self.shared.close(self.member.counts())
    }

    fn is_closed(&self) -> bool {
        self.shared.is_closed(self.member.counts())
    }

    fn len(&self) -> usize {
        self.tx.len()
    }

    fn capacity(&self) -> usize {
        capacity(self.tx.capacity())
    }
}

impl<T: Send + 'static> Handle for Consumer<T> {
    fn close(&self) -> bool {
        self.shared.close(self.member.counts())
    }

    fn is_closed(&self) -> bool {
        self.shared.is_closed(self.member.counts())
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
            lane: self.shared.gate.lane(),
            shared: Arc::clone(&self.shared),
            member: self.member.clone(),
        }
    }
}

impl<T> Clone for Consumer<T> {
    fn clone(&self) -> Self {
        Self {
            rx: self.rx.clone(),
            shared: Arc::clone(&self.shared),
            member: self.member.clone(),
        }
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("crossbeam_close::Producer")
            .field("len", &self.tx.len())
            .field("capacity", &self.tx.capacity())
            .field("closed", &self.shared.is_closed(self.member.counts()))
            .finish()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("crossbeam_close::Consumer")
            .field("len", &self.rx.len())
            .field("capacity", &self.rx.capacity())
            .field("closed", &self.shared.is_closed(self.member.counts()))
            .finish()
    }
}
