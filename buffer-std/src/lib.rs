//! An adapter of `std::sync::mpsc::sync_channel` to the buffer-api contract: the bounded channel
//! most Rust programs start with, used the way programs use it.
//!
//! | contract | how `std` provides it | declared |
//! | --- | --- | --- |
//! | several consumers | std's `Receiver` is single-consumer, so every consumer handle shares one behind a mutex, as `Arc<Mutex<Receiver<T>>>` in a thread pool does. A receive that waits holds the mutex for one slice of at most [`RECV_SLICE`] at a time, so other consumers queue on the mutex, and a `try_recv` never waits behind a blocked `recv` for long | `consumers: Emulated` |
//! | `send`, `try_send`, `recv`, `try_recv` | the channel's own calls | |
//! | `send_deadline` | std has no timed send on stable: `try_send` is retried, with a sleep between attempts that doubles from 1 us up to [`POLL_MAX`] | `blocking: Emulated` |
//! | `recv`, `recv_deadline` | the mutex's own (timed) lock, then the channel's own `recv_timeout`, in slices | `blocking: Emulated` |
//! | `len` | std has none: a counter beside the channel, raised after each accepted send and lowered after each receive, one more contended atomic per operation | `len: Emulated` |
//! | `close` | none: `close()` returns `false` and changes nothing; dropping every handle of one side disconnects | `close: Unsupported` |
//! | `is_closed` | handle counts ([`buffer_api::handle_count`]): std cannot be asked whether the other side is gone | |
//! | capacity 0 | std's native rendezvous channel | `rendezvous: true` |
//!
//! The figures the harness shows for `std` therefore include the mutex that several consumers
//! need and the `len` counter: that is the price of a `sync_channel` that does what the contract
//! asks.
//!
//! ```
//! use buffer_api::{Backend, Consumer, Handle, Producer, RecvError};
//! use buffer_std::Std;
//!
//! let (tx, rx) = Std::bounded::<u32>(2)?;
//! tx.send(1).expect("open");
//! assert_eq!(rx.len(), 1);
//! assert!(!rx.close(), "std offers no close");
//! drop(tx);
//! assert_eq!(rx.recv(), Ok(1));
//! assert_eq!(rx.recv(), Err(RecvError));
//! # Ok::<(), buffer_api::CapacityError>(())
//! ```

use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use buffer_api::channel_adapter::{ChannelReceiver, ChannelSender, WrappedChannel, raw_bounded};
use buffer_api::{
    Backend, Capabilities, CapacityError, Discipline, RecvError, RecvTimeoutError, SendError,
    SendTimeoutError, Support, TryRecvError, TrySendError,
};
use parking_lot::Mutex;

/// The longest sleep between two attempts of a timed send: it bounds how late such a send
/// notices room.
pub const POLL_MAX: Duration = Duration::from_millis(1);

/// The first sleep between two attempts of a timed send.
const POLL_MIN: Duration = Duration::from_micros(1);

/// The longest a receive waits in the channel while it holds the receiver's mutex. A waiting
/// receive lets go of the mutex between slices, so that a `try_recv` on another handle waits
/// at most about one slice for it, and never reports `Empty` while items are buffered.
pub const RECV_SLICE: Duration = Duration::from_millis(1);

/// The std backend: `std::sync::mpsc::sync_channel` behind the buffer-api traits. Also the
/// channel's operations, with the emulations above, for the generic raw adapter of
/// [`buffer_api::channel_adapter`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Std;

impl Backend for Std {
    const NAME: &'static str = "std";
    const CAPABILITIES: Capabilities = Capabilities::new(Discipline::Fifo)
        .with_rendezvous(true)
        .with_close(Support::Unsupported)
        .with_blocking(Support::Emulated)
        .with_consumers(Support::Emulated)
        .with_len(Support::Emulated);

    type Producer<T: Send + 'static> = ChannelSender<Self, T>;
    type Consumer<T: Send + 'static> = ChannelReceiver<Self, T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
        // std's array flavour keeps a stamp beside each item, like crossbeam's it came from.
        buffer_api::check_capacity::<(usize, T)>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        Ok(raw_bounded(capacity))
    }
}

/// What the endpoints share beside the channel: the emulated `len` (accepted sends minus
/// receives, clamped to the capacity, since a receive can be counted before the send that it
/// took) and whether the channel has answered `Disconnected` to anyone.
struct Shared {
    count: AtomicIsize,
    capacity: usize,
    /// Set by any operation that std answered with a disconnect, so that `is_closed()` agrees
    /// with what a send just saw even while the last handle of the other side is still being
    /// dropped (std disconnects first and drops the buffered items after, inside that drop).
    disconnected: AtomicBool,
}

impl Shared {
    /// Records that std reported the channel disconnected.
    #[cold]
    fn saw_disconnect(&self) {
        self.disconnected.store(true, Ordering::Release);
    }

    /// Whether std has said the channel is disconnected.
    fn said_disconnected(&self) -> bool {
        self.disconnected.load(Ordering::Acquire)
    }

    #[inline]
    fn count(&self, n: isize) {
        if self.capacity > 0 {
            self.count.fetch_add(n, Ordering::Relaxed);
        }
    }

    fn len(&self) -> usize {
        let count = self.count.load(Ordering::Relaxed).max(0);
        usize::try_from(count).map_or(0, |count| count.min(self.capacity))
    }
}

/// std's sending endpoint as the adapter sees it: a `SyncSender` and the shared counter.
pub struct StdSender<T> {
    tx: mpsc::SyncSender<T>,
    shared: Arc<Shared>,
}

/// std's receiving endpoint as the adapter sees it: the one `Receiver`, shared behind a mutex
/// by every consumer handle, and the shared counter.
pub struct StdReceiver<T> {
    // Field order matters: the last consumer's `rx` drops the `Receiver`, and with it the
    // buffered items, before the handle leaves the count.
    rx: Arc<Mutex<mpsc::Receiver<T>>>,
    shared: Arc<Shared>,
}

// Clone by hand: a derived one would require `T: Clone`.
impl<T> Clone for StdSender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Clone for StdReceiver<T> {
    fn clone(&self) -> Self {
        Self {
            rx: Arc::clone(&self.rx),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl WrappedChannel for Std {
    const CRATE: &'static str = "std::sync::mpsc";

    type Sender<T: Send + 'static> = StdSender<T>;
    type Receiver<T: Send + 'static> = StdReceiver<T>;

    fn bounded<T: Send + 'static>(capacity: usize) -> (StdSender<T>, StdReceiver<T>) {
        let (tx, rx) = mpsc::sync_channel(capacity);
        let shared = Arc::new(Shared {
            count: AtomicIsize::new(0),
            capacity,
            disconnected: AtomicBool::new(false),
        });
        (
            StdSender {
                tx,
                shared: Arc::clone(&shared),
            },
            StdReceiver {
                rx: Arc::new(Mutex::new(rx)),
                shared,
            },
        )
    }

    #[inline]
    fn send<T: Send + 'static>(tx: &StdSender<T>, item: T) -> Result<(), SendError<T>> {
        match tx.tx.send(item) {
            Ok(()) => {
                tx.shared.count(1);
                Ok(())
            }
            Err(mpsc::SendError(item)) => {
                tx.shared.saw_disconnect();
                Err(SendError(item))
            }
        }
    }

    #[inline]
    fn try_send<T: Send + 'static>(tx: &StdSender<T>, item: T) -> Result<(), TrySendError<T>> {
        match tx.tx.try_send(item) {
            Ok(()) => {
                tx.shared.count(1);
                Ok(())
            }
            Err(mpsc::TrySendError::Full(item)) => Err(TrySendError::Full(item)),
            Err(mpsc::TrySendError::Disconnected(item)) => {
                tx.shared.saw_disconnect();
                Err(TrySendError::Disconnected(item))
            }
        }
    }

    /// `try_send` retried until `deadline`, sleeping between attempts (std has no timed send).
    fn send_deadline<T: Send + 'static>(
        tx: &StdSender<T>,
        mut item: T,
        deadline: Instant,
    ) -> Result<(), SendTimeoutError<T>> {
        let mut pause = POLL_MIN;
        loop {
            item = match Self::try_send(tx, item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(item)) => {
                    return Err(SendTimeoutError::Disconnected(item));
                }
                Err(TrySendError::Full(item)) => item,
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(SendTimeoutError::Timeout(item));
            }
            thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(POLL_MAX);
        }
    }

    fn recv<T: Send + 'static>(rx: &StdReceiver<T>) -> Result<T, RecvError> {
        recv_until(rx, None).map_err(|_| RecvError)
    }

    /// Waits for the mutex (held by another receive for at most about one [`RECV_SLICE`]),
    /// then takes an item if one is buffered.
    fn try_recv<T: Send + 'static>(rx: &StdReceiver<T>) -> Result<T, TryRecvError> {
        let item = rx.rx.lock().try_recv().map_err(|error| match error {
            mpsc::TryRecvError::Empty => TryRecvError::Empty,
            mpsc::TryRecvError::Disconnected => {
                rx.shared.saw_disconnect();
                TryRecvError::Disconnected
            }
        })?;
        rx.shared.count(-1);
        Ok(item)
    }

    fn recv_deadline<T: Send + 'static>(
        rx: &StdReceiver<T>,
        deadline: Instant,
    ) -> Result<T, RecvTimeoutError> {
        recv_until(rx, Some(deadline))
    }

    fn sender_len<T: Send + 'static>(tx: &StdSender<T>) -> usize {
        tx.shared.len()
    }

    fn receiver_len<T: Send + 'static>(rx: &StdReceiver<T>) -> usize {
        rx.shared.len()
    }

    fn sender_capacity<T: Send + 'static>(tx: &StdSender<T>) -> usize {
        tx.shared.capacity
    }

    fn receiver_capacity<T: Send + 'static>(rx: &StdReceiver<T>) -> usize {
        rx.shared.capacity
    }

    fn sender_disconnected<T: Send + 'static>(tx: &StdSender<T>) -> bool {
        tx.shared.said_disconnected()
    }

    fn receiver_disconnected<T: Send + 'static>(rx: &StdReceiver<T>) -> bool {
        rx.shared.said_disconnected()
    }
}

/// The one blocking receive: the channel's own `recv_timeout`, in slices of at most
/// [`RECV_SLICE`] under the mutex, until `deadline` if there is one.
#[inline]
fn recv_until<T>(rx: &StdReceiver<T>, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
    loop {
        let (receiver, slice) = match deadline {
            None => (rx.rx.lock(), RECV_SLICE),
            Some(deadline) => {
                let Some(receiver) = rx.rx.try_lock_until(deadline) else {
                    return Err(RecvTimeoutError::Timeout);
                };
                let left = deadline.saturating_duration_since(Instant::now());
                (receiver, left.min(RECV_SLICE))
            }
        };
        match receiver.recv_timeout(slice) {
            Ok(item) => {
                drop(receiver);
                rx.shared.count(-1);
                return Ok(item);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                rx.shared.saw_disconnect();
                return Err(RecvTimeoutError::Disconnected);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                drop(receiver);
                if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                    return Err(RecvTimeoutError::Timeout);
                }
            }
        }
    }
}
