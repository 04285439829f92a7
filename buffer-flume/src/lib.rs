//! Adapters of flume to the buffer-api contract, two of them:
//!
//! | backend | name | what it is |
//! | --- | --- | --- |
//! | [`Flume`] | `flume` | flume as its users use it: `bounded`, its own blocking, timeouts and disconnect, and no `close()` |
//! | [`FlumeClose`] | `flume-close` | the same channel with an exact emulated `close()` |
//!
//! Both are the generic adapters of [`buffer_api::channel_adapter`] over flume's own operations
//! ([`Flume`]'s `WrappedChannel` impl); this crate holds only what is flume's. Capacity 0 is
//! flume's native rendezvous channel. Dropping every handle of one side disconnects natively.
//! Like flume itself, the adapters have no `unsafe`.
//!
//! Items still buffered when the last consumer goes stay in the channel until the last handle of
//! both sides is gone: flume's disconnect leaves the queue alone and frees it with the channel.
//!
//! # How `flume-close` wakes blocked threads
//!
//! It does not: a blocked operation waits with flume's own `send_deadline`/`recv_deadline`, in
//! slices of at most [`CLOSE_POLL`], and looks at the close gate between slices (the provided
//! waits of [`CloseWait`]). So a close reaches a thread
//! blocked on a full or empty buffer within one slice: `close()` returns once every blocked
//! sender has handed its item back, and a blocked receiver returns within one slice after that
//! (`blocking: Emulated`). Items, receives and disconnects still wake a blocked thread at once,
//! as in flume.
//!
//! crossbeam's adapter waits in a select over its operation and a close wake-up instead;
//! flume's `Selector` cannot serve here:
//! - a send arm that loses (to another arm or to the deadline) drops its message instead of
//!   handing it back, and the contract needs the item back;
//! - a receive arm whose wakeup is taken by another receiver is not registered again, so the
//!   waiter sleeps through later items and even through a disconnect, until its deadline.
//!
//! ```
//! use buffer_api::{Backend, Consumer, Handle, Producer, RecvError};
//! use buffer_flume::{Flume, FlumeClose};
//!
//! let (tx, rx) = FlumeClose::bounded::<u32>(2)?;
//! tx.send(1).expect("open");
//! assert!(rx.close());
//! assert!(tx.send(2).is_err());
//! assert_eq!(rx.recv(), Ok(1));
//! assert_eq!(rx.recv(), Err(RecvError));
//!
//! // Raw flume offers no close: only dropping one side ends the buffer.
//! let (tx, rx) = Flume::bounded::<u32>(2)?;
//! assert!(!rx.close());
//! tx.send(1).expect("still open");
//! drop(tx);
//! assert_eq!(rx.recv(), Ok(1));
//! assert_eq!(rx.recv(), Err(RecvError));
//! # Ok::<(), buffer_api::CapacityError>(())
//! ```

use std::time::Instant;

use buffer_api::channel_adapter::{
    ChannelReceiver, ChannelSender, CloseWait, GatedReceiver, GatedSender, WrappedChannel,
    bounded_capacity, gated_bounded, raw_bounded,
};
use buffer_api::{
    Backend, BufferedDrop, Capabilities, CapacityError, Discipline, RecvError, RecvTimeoutError,
    SendError, SendTimeoutError, Support, TryRecvError, TrySendError,
};

pub use buffer_api::channel_adapter::CLOSE_POLL;

/// flume as its users use it: `flume::bounded` behind the buffer-api traits, with no close
/// emulation. Also the crate's own operations, for the generic adapters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flume;

/// flume with an exact emulated `close()`: every send through a
/// [`CloseGate`](buffer_api::close_gate::CloseGate), every blocked operation in slices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FlumeClose;

/// What `flume` and `flume-close` both declare; they differ in `close` and, since the close
/// adapter waits in slices, in `blocking`.
const COMMON_CAPABILITIES: Capabilities = Capabilities::new(Discipline::Fifo)
    .with_rendezvous(true)
    .with_buffered_drop(BufferedDrop::OnLastHandle);

impl Backend for Flume {
    const NAME: &'static str = "flume";
    const CAPABILITIES: Capabilities = COMMON_CAPABILITIES.with_close(Support::Unsupported);

    type Producer<T: Send + 'static> = ChannelSender<Self, T>;
    type Consumer<T: Send + 'static> = ChannelReceiver<Self, T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
        // flume's bounded queue grows on demand: nothing is allocated per unit of capacity up
        // front, so the bare item is an honest slot.
        buffer_api::check_capacity::<T>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        Ok(raw_bounded(capacity))
    }
}

impl Backend for FlumeClose {
    const NAME: &'static str = "flume-close";
    const CAPABILITIES: Capabilities = COMMON_CAPABILITIES
        .with_close(Support::Emulated)
        .with_blocking(Support::Emulated);
    const ADDS_CLOSE_TO: Option<&'static str> = Some(Flume::NAME);

    type Producer<T: Send + 'static> = GatedSender<Flume, T>;
    type Consumer<T: Send + 'static> = GatedReceiver<Flume, T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
        buffer_api::check_capacity::<T>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        Ok(gated_bounded(capacity))
    }
}

impl WrappedChannel for Flume {
    const CRATE: &'static str = "flume";

    type Sender<T: Send + 'static> = flume::Sender<T>;
    type Receiver<T: Send + 'static> = flume::Receiver<T>;

    fn bounded<T: Send + 'static>(capacity: usize) -> (flume::Sender<T>, flume::Receiver<T>) {
        flume::bounded(capacity)
    }

    #[inline]
    fn send<T: Send + 'static>(tx: &flume::Sender<T>, item: T) -> Result<(), SendError<T>> {
        tx.send(item)
            .map_err(|flume::SendError(item)| SendError(item))
    }

    #[inline]
    fn try_send<T: Send + 'static>(tx: &flume::Sender<T>, item: T) -> Result<(), TrySendError<T>> {
        tx.try_send(item).map_err(|error| match error {
            flume::TrySendError::Full(item) => TrySendError::Full(item),
            flume::TrySendError::Disconnected(item) => TrySendError::Disconnected(item),
        })
    }

    fn send_deadline<T: Send + 'static>(
        tx: &flume::Sender<T>,
        item: T,
        deadline: Instant,
    ) -> Result<(), SendTimeoutError<T>> {
        tx.send_deadline(item, deadline)
            .map_err(|error| match error {
                flume::SendTimeoutError::Timeout(item) => SendTimeoutError::Timeout(item),
                flume::SendTimeoutError::Disconnected(item) => SendTimeoutError::Disconnected(item),
            })
    }

    #[inline]
    fn recv<T: Send + 'static>(rx: &flume::Receiver<T>) -> Result<T, RecvError> {
        rx.recv()
            .map_err(|flume::RecvError::Disconnected| RecvError)
    }

    #[inline]
    fn try_recv<T: Send + 'static>(rx: &flume::Receiver<T>) -> Result<T, TryRecvError> {
        rx.try_recv().map_err(|error| match error {
            flume::TryRecvError::Empty => TryRecvError::Empty,
            flume::TryRecvError::Disconnected => TryRecvError::Disconnected,
        })
    }

    fn recv_deadline<T: Send + 'static>(
        rx: &flume::Receiver<T>,
        deadline: Instant,
    ) -> Result<T, RecvTimeoutError> {
        rx.recv_deadline(deadline).map_err(|error| match error {
            flume::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
            flume::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
        })
    }

    fn sender_len<T: Send + 'static>(tx: &flume::Sender<T>) -> usize {
        tx.len()
    }

    fn receiver_len<T: Send + 'static>(rx: &flume::Receiver<T>) -> usize {
        rx.len()
    }

    fn sender_capacity<T: Send + 'static>(tx: &flume::Sender<T>) -> usize {
        bounded_capacity(tx.capacity())
    }

    fn receiver_capacity<T: Send + 'static>(rx: &flume::Receiver<T>) -> usize {
        bounded_capacity(rx.capacity())
    }

    fn sender_disconnected<T: Send + 'static>(tx: &flume::Sender<T>) -> bool {
        tx.is_disconnected()
    }

    fn receiver_disconnected<T: Send + 'static>(rx: &flume::Receiver<T>) -> bool {
        rx.is_disconnected()
    }
}

/// flume cannot wait on a wake-up beside its own operation (see the crate docs), so the close
/// adapter keeps the provided waits in slices of [`CLOSE_POLL`], and the close fires nothing.
impl CloseWait for Flume {
    type Wakeup = ();

    fn wakeup() {}
}
