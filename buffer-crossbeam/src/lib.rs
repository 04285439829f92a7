//! Adapters of crossbeam-channel to the buffer-api contract, two of them:
//!
//! | backend | name | what it is |
//! | --- | --- | --- |
//! | [`Crossbeam`] | `crossbeam` | crossbeam-channel as its users use it: `bounded`, its own blocking, timeouts and disconnect, and no `close()` |
//! | [`CrossbeamClose`] | `crossbeam-close` | the same channel with an exact emulated `close()` |
//!
//! Both are the generic adapters of [`buffer_api::channel_adapter`] over crossbeam's own
//! operations ([`Crossbeam`]'s `WrappedChannel` impl); this crate holds only what is
//! crossbeam's. Capacity 0 is crossbeam's native rendezvous channel. Dropping every handle of
//! one side disconnects natively; `is_closed()` reads handle counts, since crossbeam cannot be
//! asked whether the other side is gone.
//!
//! Items still buffered when the last consumer goes stay in the channel until the last handle of
//! both sides is gone: crossbeam's array flavour frees its slots only then.
//!
//! # How `crossbeam-close` wakes blocked threads
//!
//! Through a wake-up channel, a `bounded::<()>(0)` whose only sender is dropped on close. A
//! blocked operation first retries with crossbeam's own backoff, as crossbeam's `send` and
//! `recv` do, and then waits in a two-armed `Select` over its own operation and a receive on
//! the wake-up, so a close wakes it at once and it blocks exactly as long as it must
//! (`blocking: Native`). What a send pays for the close gate on its fast path is in
//! [`buffer_api::channel_adapter`].
//!
//! ```
//! use buffer_api::{Backend, Consumer, Handle, Producer, RecvError};
//! use buffer_crossbeam::{Crossbeam, CrossbeamClose};
//!
//! let (tx, rx) = CrossbeamClose::bounded::<u32>(2)?;
//! tx.send(1).expect("open");
//! assert!(rx.close());
//! assert!(tx.send(2).is_err());
//! assert_eq!(rx.recv(), Ok(1));
//! assert_eq!(rx.recv(), Err(RecvError));
//!
//! // Raw crossbeam offers no close: only dropping one side ends the buffer.
//! let (tx, rx) = Crossbeam::bounded::<u32>(2)?;
//! assert!(!rx.close());
//! tx.send(1).expect("still open");
//! drop(tx);
//! assert_eq!(rx.recv(), Ok(1));
//! assert_eq!(rx.recv(), Err(RecvError));
//! # Ok::<(), buffer_api::CapacityError>(())
//! ```

use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use buffer_api::channel_adapter::{
    ChannelReceiver, ChannelSender, CloseWait, GatedReceiver, GatedSender, WrappedChannel,
    bounded_capacity, gated_bounded, raw_bounded,
};
use buffer_api::close_gate::CloseGate;
use buffer_api::{
    Backend, BufferedDrop, Capabilities, CapacityError, Discipline, RecvError, RecvTimeoutError,
    SendError, SendTimeoutError, Support, TryRecvError, TrySendError,
};
use crossbeam_channel as cb;
use crossbeam_utils::Backoff;

/// crossbeam-channel as its users use it: `crossbeam_channel::bounded` behind the buffer-api
/// traits, with no close emulation. Also the crate's own operations, for the generic adapters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Crossbeam;

/// crossbeam-channel with an exact emulated `close()`: every send through a [`CloseGate`],
/// every blocked operation in a select that the close wakes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CrossbeamClose;

/// The size of one slot of crossbeam's array flavour (crossbeam-channel 0.5's `flavors::array`),
/// which stores a stamp beside each item and allocates every slot up front: the capacity check
/// probes with this, not with bare `T`, so that even a zero-sized `T` cannot ask for a slot
/// array that would abort on allocation.
type ArraySlot<T> = (AtomicUsize, T);

/// What `crossbeam` and `crossbeam-close` both declare: they differ only in `close`.
const COMMON_CAPABILITIES: Capabilities = Capabilities::new(Discipline::Fifo)
    .with_rendezvous(true)
    .with_buffered_drop(BufferedDrop::OnLastHandle);

impl Backend for Crossbeam {
    const NAME: &'static str = "crossbeam";
    const CAPABILITIES: Capabilities = COMMON_CAPABILITIES.with_close(Support::Unsupported);

    type Producer<T: Send + 'static> = ChannelSender<Self, T>;
    type Consumer<T: Send + 'static> = ChannelReceiver<Self, T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
        buffer_api::check_capacity::<ArraySlot<T>>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        Ok(raw_bounded(capacity))
    }
}

impl Backend for CrossbeamClose {
    const NAME: &'static str = "crossbeam-close";
    const CAPABILITIES: Capabilities = COMMON_CAPABILITIES.with_close(Support::Emulated);
    const ADDS_CLOSE_TO: Option<&'static str> = Some(Crossbeam::NAME);

    type Producer<T: Send + 'static> = GatedSender<Crossbeam, T>;
    type Consumer<T: Send + 'static> = GatedReceiver<Crossbeam, T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
        buffer_api::check_capacity::<ArraySlot<T>>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        Ok(gated_bounded(capacity))
    }
}

fn try_send_error<T>(error: cb::TrySendError<T>) -> TrySendError<T> {
    match error {
        cb::TrySendError::Full(item) => TrySendError::Full(item),
        cb::TrySendError::Disconnected(item) => TrySendError::Disconnected(item),
    }
}

fn try_recv_error(error: cb::TryRecvError) -> TryRecvError {
    match error {
        cb::TryRecvError::Empty => TryRecvError::Empty,
        cb::TryRecvError::Disconnected => TryRecvError::Disconnected,
    }
}

impl WrappedChannel for Crossbeam {
    const CRATE: &'static str = "crossbeam-channel";

    type Sender<T: Send + 'static> = cb::Sender<T>;
    type Receiver<T: Send + 'static> = cb::Receiver<T>;

    fn bounded<T: Send + 'static>(capacity: usize) -> (cb::Sender<T>, cb::Receiver<T>) {
        cb::bounded(capacity)
    }

    #[inline]
    fn send<T: Send + 'static>(tx: &cb::Sender<T>, item: T) -> Result<(), SendError<T>> {
        tx.send(item).map_err(|cb::SendError(item)| SendError(item))
    }

    #[inline]
    fn try_send<T: Send + 'static>(tx: &cb::Sender<T>, item: T) -> Result<(), TrySendError<T>> {
        tx.try_send(item).map_err(try_send_error)
    }

    fn send_deadline<T: Send + 'static>(
        tx: &cb::Sender<T>,
        item: T,
        deadline: Instant,
    ) -> Result<(), SendTimeoutError<T>> {
        tx.send_deadline(item, deadline)
            .map_err(|error| match error {
                cb::SendTimeoutError::Timeout(item) => SendTimeoutError::Timeout(item),
                cb::SendTimeoutError::Disconnected(item) => SendTimeoutError::Disconnected(item),
            })
    }

    #[inline]
    fn recv<T: Send + 'static>(rx: &cb::Receiver<T>) -> Result<T, RecvError> {
        rx.recv().map_err(|cb::RecvError| RecvError)
    }

    #[inline]
    fn try_recv<T: Send + 'static>(rx: &cb::Receiver<T>) -> Result<T, TryRecvError> {
        rx.try_recv().map_err(try_recv_error)
    }

    fn recv_deadline<T: Send + 'static>(
        rx: &cb::Receiver<T>,
        deadline: Instant,
    ) -> Result<T, RecvTimeoutError> {
        rx.recv_deadline(deadline).map_err(|error| match error {
            cb::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
            cb::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
        })
    }

    fn sender_len<T: Send + 'static>(tx: &cb::Sender<T>) -> usize {
        tx.len()
    }

    fn receiver_len<T: Send + 'static>(rx: &cb::Receiver<T>) -> usize {
        rx.len()
    }

    fn sender_capacity<T: Send + 'static>(tx: &cb::Sender<T>) -> usize {
        bounded_capacity(tx.capacity())
    }

    fn receiver_capacity<T: Send + 'static>(rx: &cb::Receiver<T>) -> usize {
        bounded_capacity(rx.capacity())
    }
}

/// The close wake-up: a rendezvous channel that never carries a message. Dropping `tx` on
/// close disconnects `rx`, which wakes every select waiting on it, and every later one.
pub struct Wakeup {
    tx: Mutex<Option<cb::Sender<()>>>,
    rx: cb::Receiver<()>,
}

/// How a select over an operation and the wake-up ended.
enum Woken<Done> {
    /// The operation's arm was ready, and here is its select operation to complete.
    Ready(Done),
    /// The wake-up fired: the buffer is closed.
    Closed,
    /// The deadline passed first.
    TimedOut,
}

/// Waits in `select`, whose arm `operation` is the caller's and whose other arm receives on
/// `wakeup`, until `deadline` if there is one.
fn select_or_wake<'a>(
    mut select: cb::Select<'a>,
    operation: usize,
    wakeup: &'a Wakeup,
    deadline: Option<Instant>,
) -> Woken<cb::SelectedOperation<'a>> {
    select.recv(&wakeup.rx);
    let selected = match deadline {
        None => select.select(),
        Some(deadline) => match select.select_deadline(deadline) {
            Ok(selected) => selected,
            Err(cb::SelectTimeoutError) => return Woken::TimedOut,
        },
    };
    if selected.index() == operation {
        Woken::Ready(selected)
    } else {
        // The wake-up only ever fires by disconnecting: the buffer is closed.
        let _ = selected.recv(&wakeup.rx);
        Woken::Closed
    }
}

impl CloseWait for Crossbeam {
    type Wakeup = Wakeup;

    fn wakeup() -> Wakeup {
        let (tx, rx) = cb::bounded(0);
        Wakeup {
            tx: Mutex::new(Some(tx)),
            rx,
        }
    }

    fn fire(wakeup: &Wakeup) {
        drop(
            wakeup
                .tx
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
    }

    fn wait_for_room<T: Send + 'static>(
        tx: &cb::Sender<T>,
        wakeup: &Wakeup,
        _gate: &CloseGate,
        mut item: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        // Retry with crossbeam's own backoff before parking, as its raw `send` does: parking
        // costs microseconds, and room often appears sooner.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            item = match Self::try_send(tx, item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(item)) => {
                    return Err(SendTimeoutError::Disconnected(item));
                }
                Err(TrySendError::Full(item)) => item,
            };
        }
        let mut select = cb::Select::new();
        let send = select.send(tx);
        match select_or_wake(select, send, wakeup, deadline) {
            Woken::Ready(selected) => selected
                .send(tx, item)
                .map_err(|cb::SendError(item)| SendTimeoutError::Disconnected(item)),
            Woken::Closed => Err(SendTimeoutError::Disconnected(item)),
            Woken::TimedOut => Err(SendTimeoutError::Timeout(item)),
        }
    }

    fn wait_for_item<T: Send + 'static>(
        rx: &cb::Receiver<T>,
        wakeup: &Wakeup,
        deadline: Option<Instant>,
    ) -> Result<Option<T>, RecvTimeoutError> {
        // Retry with crossbeam's own backoff before parking, as its raw `recv` does.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            match Self::try_recv(rx) {
                Ok(item) => return Ok(Some(item)),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
        }
        let mut select = cb::Select::new();
        let recv = select.recv(rx);
        match select_or_wake(select, recv, wakeup, deadline) {
            Woken::Ready(selected) => selected
                .recv(rx)
                .map(Some)
                .map_err(|cb::RecvError| RecvTimeoutError::Disconnected),
            // Closed: the receive looks again, waits for the seal, then reports.
            Woken::Closed => Ok(None),
            Woken::TimedOut => Err(RecvTimeoutError::Timeout),
        }
    }
}
