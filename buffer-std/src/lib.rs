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

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use buffer_api::handle_count::{Consumers, Counts, Member, Producers};
use buffer_api::{
    Backend, BufferedDrop, Capabilities, CapacityError, Discipline, Handle, RecvError,
    RecvTimeoutError, SendError, SendTimeoutError, Support, TryRecvError, TrySendError,
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

/// The std backend: `std::sync::mpsc::sync_channel` behind the buffer-api traits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Std;

impl Backend for Std {
    const NAME: &'static str = "std";
    const CAPABILITIES: Capabilities = Capabilities {
        rendezvous: true,
        close: Support::Unsupported,
        batch: Support::Emulated,
        discipline: Discipline::Fifo,
        buffered_drop: BufferedDrop::OnLastConsumer,
        blocking: Support::Emulated,
        consumers: Support::Emulated,
        len: Support::Emulated,
        drop_oldest: false,
    };

    type Producer<T: Send + 'static> = Producer<T>;
    type Consumer<T: Send + 'static> = Consumer<T>;

    fn bounded<T: Send + 'static>(
        capacity: usize,
    ) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
        // std's array flavour keeps a stamp beside each item, like crossbeam's it came from.
        buffer_api::check_capacity::<(usize, T)>(Self::NAME, &Self::CAPABILITIES, capacity)?;
        let (tx, rx) = mpsc::sync_channel(capacity);
        let shared = Arc::new(Shared {
            count: AtomicIsize::new(0),
            capacity,
            disconnected: AtomicBool::new(false),
        });
        let counts = Counts::new();
        Ok((
            Producer {
                tx,
                shared: Arc::clone(&shared),
                member: Member::join(&counts),
            },
            Consumer {
                rx: Arc::new(Mutex::new(rx)),
                shared,
                member: Member::join(&counts),
            },
        ))
    }
}

/// What the handles share beside the channel: the emulated `len` (accepted sends minus
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

    /// Whether the buffer is disconnected, as counted or as std has said.
    fn is_closed(&self, counts: &Counts) -> bool {
        self.disconnected.load(Ordering::Acquire) || counts.disconnected()
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

/// The sending handle of a [`Std`] buffer: a `SyncSender`.
pub struct Producer<T> {
    // Field order matters: `tx` is dropped before `member` takes this handle out of the count.
    tx: mpsc::SyncSender<T>,
    shared: Arc<Shared>,
    member: Member<Producers>,
}

/// The receiving handle of a [`Std`] buffer: the one `Receiver`, shared behind a mutex.
pub struct Consumer<T> {
    // Field order matters: the last consumer's `rx` drops the `Receiver` before `member` takes
    // the handle out of the count.
    rx: Arc<Mutex<mpsc::Receiver<T>>>,
    shared: Arc<Shared>,
    member: Member<Consumers>,
}

impl<T: Send + 'static> buffer_api::Producer<T> for Producer<T> {
    #[inline]
    fn send(&self, item: T) -> Result<(), SendError<T>> {
        match self.tx.send(item) {
            Ok(()) => {
                self.shared.count(1);
                Ok(())
            }
            Err(mpsc::SendError(item)) => {
                self.shared.saw_disconnect();
                Err(SendError(item))
            }
        }
    }

    #[inline]
    fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        match self.tx.try_send(item) {
            Ok(()) => {
                self.shared.count(1);
                Ok(())
            }
            Err(mpsc::TrySendError::Full(item)) => Err(TrySendError::Full(item)),
            Err(mpsc::TrySendError::Disconnected(item)) => {
                self.shared.saw_disconnect();
                Err(TrySendError::Disconnected(item))
            }
        }
    }

    /// `try_send` retried until `deadline`, sleeping between attempts (std has no timed send).
    fn send_deadline(&self, item: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        let mut item = item;
        let mut pause = POLL_MIN;
        loop {
            item = match buffer_api::Producer::try_send(self, item) {
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
}

impl<T: Send + 'static> buffer_api::Consumer<T> for Consumer<T> {
    fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    /// Waits for the mutex (held by another receive for at most about one [`RECV_SLICE`]),
    /// then takes an item if one is buffered.
    fn try_recv(&self) -> Result<T, TryRecvError> {
        let item = self.rx.lock().try_recv().map_err(|error| match error {
            mpsc::TryRecvError::Empty => TryRecvError::Empty,
            mpsc::TryRecvError::Disconnected => {
                self.shared.saw_disconnect();
                TryRecvError::Disconnected
            }
        })?;
        self.shared.count(-1);
        Ok(item)
    }

    fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }
}

impl<T> Consumer<T> {
    /// The one blocking receive: the channel's own `recv_timeout`, in slices of at most
    /// [`RECV_SLICE`] under the mutex, until `deadline` if there is one.
    #[inline]
    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        loop {
            let (rx, slice) = match deadline {
                None => (self.rx.lock(), RECV_SLICE),
                Some(deadline) => {
                    let Some(rx) = self.rx.try_lock_until(deadline) else {
                        return Err(RecvTimeoutError::Timeout);
                    };
                    let left = deadline.saturating_duration_since(Instant::now());
                    (rx, left.min(RECV_SLICE))
                }
            };
            match rx.recv_timeout(slice) {
                Ok(item) => {
                    drop(rx);
                    self.shared.count(-1);
                    return Ok(item);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.shared.saw_disconnect();
                    return Err(RecvTimeoutError::Disconnected);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    drop(rx);
                    if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                        return Err(RecvTimeoutError::Timeout);
                    }
                }
            }
        }
    }
}

impl<T: Send + 'static> Handle for Producer<T> {
    /// Not offered: returns `false` and changes nothing.
    fn close(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.shared.is_closed(self.member.counts())
    }

    fn len(&self) -> usize {
        self.shared.len()
    }

    fn capacity(&self) -> usize {
        self.shared.capacity
    }
}

impl<T: Send + 'static> Handle for Consumer<T> {
    /// Not offered: returns `false` and changes nothing.
    fn close(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.shared.is_closed(self.member.counts())
    }

    fn len(&self) -> usize {
        self.shared.len()
    }

    fn capacity(&self) -> usize {
        self.shared.capacity
    }
}

impl<T> Clone for Producer<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
            member: self.member.clone(),
        }
    }
}

impl<T> Clone for Consumer<T> {
    fn clone(&self) -> Self {
        Self {
            rx: Arc::clone(&self.rx),
            shared: Arc::clone(&self.shared),
            member: self.member.clone(),
        }
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("std::Producer")
            .field("len", &self.shared.len())
            .field("capacity", &self.shared.capacity)
            .field("disconnected", &self.shared.is_closed(self.member.counts()))
            .finish()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("std::Consumer")
            .field("len", &self.shared.len())
            .field("capacity", &self.shared.capacity)
            .field("disconnected", &self.shared.is_closed(self.member.counts()))
            .finish()
    }
}
