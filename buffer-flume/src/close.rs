//! [`FlumeClose`] (`flume-close`): flume with an exact `close()`.
//!
//! flume has no `close()`, so it is emulated with a [`CloseGate`](buffer_api::close_gate), whose
//! docs say why a plain flag is not exact. The fast paths are the crate's own
//! `try_send`/`try_recv`; a send pays one uncontended atomic increment and decrement on top.
//!
//! # How blocked threads learn of a close
//!
//! A blocked operation waits with flume's own `send_deadline`/`recv_deadline`, in slices of at
//! most [`CLOSE_POLL`], and looks at the close gate between slices. So a close reaches a thread
//! blocked on a full or empty buffer within one slice: `close()` returns once every blocked
//! sender has handed its item back, and a blocked receiver returns within one slice after that.
//! Items, receives and disconnects still wake a blocked thread at once, as in flume.
//!
//! The crossbeam adapter waits in a select over its operation and a close wakeup instead; flume's
//! `Selector` cannot serve here:
//! - a send arm that loses (to another arm or to the deadline) drops its message instead of
//!   handing it back, and the contract needs the item back;
//! - a receive arm whose wakeup is taken by another receiver is not registered again, so the
//!   waiter sleeps through later items and even through a disconnect, until its deadline.

use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use buffer_api::close_gate::{CloseGate, Lane, Phase};
use buffer_api::{
    Backend, BufferedDrop, Capabilities, CapacityError, Discipline, Handle, RecvError,
    RecvTimeoutError, SendError, SendTimeoutError, Support, TryRecvError, TrySendError,
};

use crate::{capacity, try_send_error};

/// The longest a blocked send or receive waits in flume before it looks at the close gate again.
///
/// It bounds how long a close takes to reach a blocked thread; it costs that thread one extra
/// wakeup per slice while it stays blocked.
pub const CLOSE_POLL: Duration = Duration::from_millis(1);

/// flume with an exact emulated `close()`: `flume::bounded` behind the buffer-api traits, every
/// send through a [`CloseGate`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlumeClose;

impl Backend for FlumeClose {
    const NAME: &'static str = "flume-close";
    const CAPABILITIES: Capabilities = Capabilities {
        rendezvous: true,
        close: Support::Emulated,
        batch: Support::Emulated,
        discipline: Discipline::Fifo,
        buffered_drop: BufferedDrop::OnLastHandle,
        blocking: Support::Emulated,
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
        let gate = Arc::new(CloseGate::new());
        let lane = gate.lane();
        Ok((
            Producer {
                tx,
                lane,
                gate: Arc::clone(&gate),
            },
            Consumer { rx, gate },
        ))
    }
}

/// The sending handle of a [`FlumeClose`] buffer: a `flume::Sender` plus its lane through the close
/// gate.
///
/// Each clone has its own lane, so producer threads that each hold a clone do not contend on
/// the gate; threads sharing one handle by reference share its counter.
pub struct Producer<T> {
    tx: flume::Sender<T>,
    lane: Lane,
    gate: Arc<CloseGate>,
}

/// The receiving handle of a [`FlumeClose`] buffer: a `flume::Receiver`.
pub struct Consumer<T> {
    rx: flume::Receiver<T>,
    gate: Arc<CloseGate>,
}

impl<T> Producer<T> {
    /// The one blocking send: raw attempt first, then, only if the buffer is full, a wait.
    #[inline]
    fn send_until(&self, item: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let Some(_pass) = self.gate.enter(&self.lane) else {
            return Err(SendTimeoutError::Disconnected(item));
        };
        match self.tx.try_send(item) {
            Ok(()) => Ok(()),
            Err(flume::TrySendError::Disconnected(item)) => {
                Err(SendTimeoutError::Disconnected(item))
            }
            Err(flume::TrySendError::Full(item)) => self.wait_to_send(item, deadline),
        }
    }

    /// The slow path of a send, inside the caller's pass: flume's own timed send in slices of
    /// [`CLOSE_POLL`], looking at the close gate between slices, until `deadline` if there is one.
    /// Kept out of line so the fast path stays small.
    #[cold]
    #[inline(never)]
    fn wait_to_send(
        &self,
        mut item: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        loop {
            let Some(until) = slice_until(deadline) else {
                return Err(SendTimeoutError::Timeout(item));
            };
            item = match self.tx.send_deadline(item, until) {
                Ok(()) => return Ok(()),
                Err(flume::SendTimeoutError::Disconnected(item)) => {
                    return Err(SendTimeoutError::Disconnected(item));
                }
                Err(flume::SendTimeoutError::Timeout(item)) => item,
            };
            // Still holding the pass: the closer waits for this answer.
            if self.gate.is_closed() {
                return Err(SendTimeoutError::Disconnected(item));
            }
        }
    }
}

impl<T> Consumer<T> {
    /// The one blocking receive: raw attempt first, then, only if the buffer is empty, a wait.
    #[inline]
    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        match self.rx.try_recv() {
            Ok(item) => Ok(item),
            Err(flume::TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(flume::TryRecvError::Empty) => self.wait_to_recv(deadline),
        }
    }

    /// The slow path of a receive: the gate's phase decides between flume's own timed receive in
    /// slices of [`CLOSE_POLL`], waiting out a close, and reporting `Disconnected`.
    #[cold]
    #[inline(never)]
    fn wait_to_recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        loop {
            match self.gate.phase() {
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
                    // A send that entered before the close is finishing its current step.
                    thread::yield_now();
                }
                Phase::Open => {
                    let Some(until) = slice_until(deadline) else {
                        return Err(RecvTimeoutError::Timeout);
                    };
                    match self.rx.recv_deadline(until) {
                        Ok(item) => return Ok(item),
                        // Only every producer handle gone, with the queue empty.
                        Err(flume::RecvTimeoutError::Disconnected) => {
                            return Err(RecvTimeoutError::Disconnected);
                        }
                        Err(flume::RecvTimeoutError::Timeout) => {}
                    }
                }
            }
            match self.rx.try_recv() {
                Ok(item) => return Ok(item),
                Err(flume::TryRecvError::Disconnected) => {
                    return Err(RecvTimeoutError::Disconnected);
                }
                Err(flume::TryRecvError::Empty) => {}
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
        let Some(_pass) = self.gate.enter(&self.lane) else {
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
            Err(flume::TryRecvError::Disconnected) => Err(TryRecvError::Disconnected),
            Err(flume::TryRecvError::Empty) => match self.gate.phase() {
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
        // Once the other side has gone, the native disconnect has closed the buffer already.
        !self.tx.is_disconnected() && close(&self.gate)
    }

    fn is_closed(&self) -> bool {
        self.gate.is_closed() || self.tx.is_disconnected()
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
        // Once the other side has gone, the native disconnect has closed the buffer already.
        !self.rx.is_disconnected() && close(&self.gate)
    }

    fn is_closed(&self) -> bool {
        self.gate.is_closed() || self.rx.is_disconnected()
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
            lane: self.gate.lane(),
            gate: Arc::clone(&self.gate),
        }
    }
}

impl<T> Clone for Consumer<T> {
    fn clone(&self) -> Self {
        Self {
            rx: self.rx.clone(),
            gate: Arc::clone(&self.gate),
        }
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("flume_close::Producer")
            .field("len", &self.tx.len())
            .field("capacity", &self.tx.capacity())
            .field(
                "closed",
                &(self.gate.is_closed() || self.tx.is_disconnected()),
            )
            .finish()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("flume_close::Consumer")
            .field("len", &self.rx.len())
            .field("capacity", &self.rx.capacity())
            .field(
                "closed",
                &(self.gate.is_closed() || self.rx.is_disconnected()),
            )
            .finish()
    }
}

fn close(gate: &CloseGate) -> bool {
    // Nothing to fire: blocked threads look at the gate at the end of every slice.
    gate.close(|| {})
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
