//! The exact-close adapter: a channel crate with `close()` emulated through a close gate.

use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use super::CloseWait;
use crate::close_gate::{CloseGate, Lane, Phase};
use crate::handle_count::{Consumers, Counts, Member, Producers};
use crate::{
    Consumer, Handle, Producer, RecvError, RecvTimeoutError, SendError, SendTimeoutError,
    TryRecvError, TrySendError,
};

/// What every handle of one gated buffer shares: the close gate and the crate's wake-up.
///
/// It holds no endpoint of the channel, so dropping the handles of one side still disconnects
/// natively.
struct Shared<W> {
    gate: CloseGate,
    wakeup: W,
}

/// The sending handle of an exact-close channel backend: the crate's sender, its own lane
/// through the close gate, and its place in the handle counts.
///
/// Each clone has its own lane, so producer threads that each hold a clone do not share a
/// cache line in the gate; threads sharing one handle by reference share its lane.
pub struct GatedSender<C: CloseWait, T: Send + 'static> {
    // Field order matters: `tx` is dropped before `member` takes this handle out of the count.
    tx: C::Sender<T>,
    lane: Lane,
    shared: Arc<Shared<C::Wakeup>>,
    member: Member<Producers>,
}

/// The receiving handle of an exact-close channel backend: the crate's receiver and its place
/// in the handle counts.
pub struct GatedReceiver<C: CloseWait, T: Send + 'static> {
    // Field order matters: `rx` is dropped before `member` takes this handle out of the count.
    rx: C::Receiver<T>,
    shared: Arc<Shared<C::Wakeup>>,
    member: Member<Consumers>,
}

/// The crate's bounded channel of `capacity` behind the contract, with an exact emulated
/// `close()`: every send passes a [`CloseGate`], and blocked operations learn of a close as
/// [`CloseWait`] says. Call it after [`check_capacity`](crate::check_capacity).
pub fn gated_bounded<C: CloseWait, T: Send + 'static>(
    capacity: usize,
) -> (GatedSender<C, T>, GatedReceiver<C, T>) {
    let (tx, rx) = C::bounded(capacity);
    let shared = Arc::new(Shared {
        gate: CloseGate::new(),
        wakeup: C::wakeup(),
    });
    let counts = Counts::new();
    (
        GatedSender {
            tx,
            lane: shared.gate.lane(),
            shared: Arc::clone(&shared),
            member: Member::join(&counts),
        },
        GatedReceiver {
            rx,
            shared,
            member: Member::join(&counts),
        },
    )
}

impl<W> Shared<W> {
    /// Closes through the gate, unless one side has already gone (`disconnected`): the buffer
    /// is then closed already, by the crate's own disconnect.
    fn close<C: CloseWait<Wakeup = W>>(&self, disconnected: bool) -> bool {
        !disconnected && self.gate.close(|| C::fire(&self.wakeup))
    }
}

impl<C: CloseWait, T: Send + 'static> GatedSender<C, T> {
    fn disconnected(&self) -> bool {
        C::sender_disconnected(&self.tx) || self.member.counts().disconnected()
    }

    /// The one blocking send: inside a pass, the raw attempt first, then, only if the channel
    /// is full, a wait.
    #[inline]
    fn send_until(&self, item: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        let Some(_pass) = self.shared.gate.enter(&self.lane) else {
            return Err(SendTimeoutError::Disconnected(item));
        };
        match C::try_send(&self.tx, item) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(item)) => Err(SendTimeoutError::Disconnected(item)),
            Err(TrySendError::Full(item)) => self.wait_to_send(item, deadline),
        }
    }

    /// The slow path of a send, inside the caller's pass. Kept out of line so the fast path
    /// stays small.
    #[cold]
    #[inline(never)]
    fn wait_to_send(&self, item: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        C::wait_for_room(
            &self.tx,
            &self.shared.wakeup,
            &self.shared.gate,
            item,
            deadline,
        )
    }
}

impl<C: CloseWait, T: Send + 'static> GatedReceiver<C, T> {
    fn disconnected(&self) -> bool {
        C::receiver_disconnected(&self.rx) || self.member.counts().disconnected()
    }

    /// The one blocking receive: the raw attempt first, then, only if the channel is empty, a
    /// wait.
    #[inline]
    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        match C::try_recv(&self.rx) {
            Ok(item) => Ok(item),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => self.wait_to_recv(deadline),
        }
    }

    /// The slow path of a receive: the gate's phase decides between the crate's wait, waiting
    /// out a close, and one last receive that decides between an item and `Disconnected`.
    #[cold]
    #[inline(never)]
    fn wait_to_recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        loop {
            match self.shared.gate.phase() {
                Phase::Sealed => {
                    return C::try_recv(&self.rx).map_err(|_| RecvTimeoutError::Disconnected);
                }
                Phase::Closing => {
                    if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                        return Err(RecvTimeoutError::Timeout);
                    }
                    // A send that entered before the close has only one step left to finish.
                    thread::yield_now();
                }
                Phase::Open => {
                    let waited = C::wait_for_item(&self.rx, &self.shared.wakeup, deadline)?;
                    if let Some(item) = waited {
                        return Ok(item);
                    }
                }
            }
            // Woken, or a slice ended: look again before the next phase.
            match C::try_recv(&self.rx) {
                Ok(item) => return Ok(item),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
        }
    }
}

impl<C: CloseWait, T: Send + 'static> Producer<T> for GatedSender<C, T> {
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
        C::try_send(&self.tx, item)
    }

    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.send_until(item, Some(deadline))
    }
}

impl<C: CloseWait, T: Send + 'static> Consumer<T> for GatedReceiver<C, T> {
    fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        match C::try_recv(&self.rx) {
            Err(TryRecvError::Empty) => match self.shared.gate.phase() {
                Phase::Open | Phase::Closing => Err(TryRecvError::Empty),
                Phase::Sealed => C::try_recv(&self.rx).map_err(|_| TryRecvError::Disconnected),
            },
            done => done,
        }
    }

    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }
}

impl<C: CloseWait, T: Send + 'static> Handle for GatedSender<C, T> {
    fn close(&self) -> bool {
        self.shared.close::<C>(self.disconnected())
    }

    fn is_closed(&self) -> bool {
        self.shared.gate.is_closed() || self.disconnected()
    }

    fn len(&self) -> usize {
        C::sender_len(&self.tx)
    }

    fn capacity(&self) -> usize {
        C::sender_capacity(&self.tx)
    }
}

impl<C: CloseWait, T: Send + 'static> Handle for GatedReceiver<C, T> {
    fn close(&self) -> bool {
        self.shared.close::<C>(self.disconnected())
    }

    fn is_closed(&self) -> bool {
        self.shared.gate.is_closed() || self.disconnected()
    }

    fn len(&self) -> usize {
        C::receiver_len(&self.rx)
    }

    fn capacity(&self) -> usize {
        C::receiver_capacity(&self.rx)
    }
}

// Clone and Debug by hand: derived ones would require `C: Clone` and `T: Clone`.
impl<C: CloseWait, T: Send + 'static> Clone for GatedSender<C, T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            lane: self.shared.gate.lane(),
            shared: Arc::clone(&self.shared),
            member: self.member.clone(),
        }
    }
}

impl<C: CloseWait, T: Send + 'static> Clone for GatedReceiver<C, T> {
    fn clone(&self) -> Self {
        Self {
            rx: self.rx.clone(),
            shared: Arc::clone(&self.shared),
            member: self.member.clone(),
        }
    }
}

impl<C: CloseWait, T: Send + 'static> fmt::Debug for GatedSender<C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatedSender")
            .field("crate", &C::CRATE)
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<C: CloseWait, T: Send + 'static> fmt::Debug for GatedReceiver<C, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatedReceiver")
            .field("crate", &C::CRATE)
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}
