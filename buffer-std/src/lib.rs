//! An adapter of `std::sync::mpsc::sync_channel` to the buffer-api contract: the bounded channel
//! most Rust programs start with, used the way programs use it.
//!
//! | contract | how `std` provides it | declared |
//! | --- | --- | --- |
//! | several consumers | std's `Receiver` is single-consumer, so every consumer handle shares one behind a mutex, as `Arc<Mutex<Receiver<T>>>` in a thread pool does. A receive that waits holds the mutex for one slice of at most [`RECV_SLICE`] at a time, so other consumers queue on the mutex, and a `try_recv` never waits behind a blocked `recv` for long | `consumers: Emulated` |
//! | one consumer | the same mutex, never contended: see below | |
//! | `send`, `try_send`, `recv`, `try_recv` | the channel's own calls; a blocking receive first takes a buffered item, and reads the clock only once the channel is empty | |
//! | `send_deadline` | std has no timed send on stable: `try_send` is retried, with a sleep between attempts that doubles from 1 us up to [`POLL_MAX`] | `blocking: Emulated` |
//! | `recv`, `recv_deadline` | the mutex's own (timed) lock, then the channel's own `recv_timeout`, in slices | `blocking: Emulated` |
//! | `len` | std has none: each producer handle counts its accepted sends on a cache line of its own ([`OwnedCount`]), the receiver's holder counts receives on another, and `len` sums them (the send counters of dropped handles kept as one retired sum), clamped into `0..=capacity`; exact once operations stop | `len: Emulated` |
//! | `close` | none: `close()` returns `false` and changes nothing; dropping every handle of one side disconnects | `close: Unsupported` |
//! | `is_closed` | handle counts ([`buffer_api::handle_count`]): std cannot be asked whether the other side is gone | |
//! | capacity 0 | std's native rendezvous channel | `rendezvous: true` |
//!
//! # What the emulations cost
//!
//! A send adds one increment of its own handle's counter, a line no other handle writes, and
//! for the thread that owns the counter a plain load and store, no locked instruction
//! ([`buffer_api::owned_count`]). A
//! receive adds an uncontended lock and unlock of the receiver's mutex and a plain store of the
//! receive count under it, on lines no producer writes; so no successful operation writes a cache
//! line the other side reads, and the two sides meet only inside std's channel. Cloning or
//! dropping a producer handle, and `len`, take a mutex over the list of send counters, so a
//! counter is never missed or counted twice while handles come and go.
//!
//! The mutex stays even with one consumer handle: std's `Receiver` is not `Sync` while a
//! handle is, any thread may call a receive through a shared handle, and this workspace has no
//! `unsafe`, so something must exclude two receives at once. Every consumer handle shares the
//! same mutex from the start, so cloning or dropping consumer handles changes no state and
//! cannot race with a receive. With one consumer the lock is never contended and lives on a
//! line that only the consumer touches: it costs a locked instruction or two, not a cache-line
//! transfer.
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

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use buffer_api::channel_adapter::{ChannelReceiver, ChannelSender, WrappedChannel, raw_bounded};
use buffer_api::owned_count::OwnedCount;
use buffer_api::{
    Backend, Capabilities, CapacityError, Discipline, RecvError, RecvTimeoutError, SendError,
    SendTimeoutError, Support, TryRecvError, TrySendError,
};
use crossbeam_utils::CachePadded;
use parking_lot::{Mutex, MutexGuard};

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

/// What both sides share beside the channel: the capacity, the counts for `len`, and whether
/// the channel has answered `Disconnected` to anyone. Of all this, a successful operation
/// writes only `received`, and only a receive does, on a line of its own, so the hot paths of
/// the two sides share no written cache line.
struct Shared {
    capacity: usize,
    sends: Mutex<SendTally>,
    /// Receives so far. Written only by the thread that holds the receiver's mutex, so a load
    /// and a store do what a locked increment would.
    received: CachePadded<AtomicUsize>,
    /// Set by any operation that std answered with a disconnect, so that `is_closed()` agrees
    /// with what a send just saw even while the last handle of the other side is still being
    /// dropped (std disconnects first and drops the buffered items after, inside that drop).
    disconnected: AtomicBool,
}

/// Every producer handle's count of accepted sends: the live handles' own counters, and the
/// sum of those already dropped.
struct SendTally {
    live: Vec<Arc<SendCounter>>,
    retired: usize,
}

/// One producer handle's accepted sends, on a cache line of its own: only that handle writes
/// it (without a locked instruction from the thread that owns it), and `len` reads it.
type SendCounter = OwnedCount;

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

    /// A new counter for a new producer handle, in the tally from now on.
    fn join_senders(&self) -> Arc<SendCounter> {
        let counter = Arc::new(SendCounter::default());
        self.sends.lock().live.push(Arc::clone(&counter));
        counter
    }

    /// Moves a dropped producer handle's count from its counter into the retired sum, in one
    /// step under the tally's lock, so that `len` never misses it or counts it twice.
    fn leave_senders(&self, counter: &Arc<SendCounter>) {
        let mut tally = self.sends.lock();
        tally.live.retain(|live| !Arc::ptr_eq(live, counter));
        tally.retired += counter.get();
    }

    /// Counts one receive; `_held` is the receiver's mutex, the proof that no other thread
    /// writes `received` now.
    #[inline]
    fn count_received<T>(&self, _held: &MutexGuard<'_, mpsc::Receiver<T>>) {
        let received = self.received.load(Ordering::Relaxed);
        self.received.store(received + 1, Ordering::Relaxed);
    }

    /// Accepted sends minus receives, clamped into `0..=capacity`: while operations are in
    /// flight the sums are read a moment apart, and a receive can be counted before the send
    /// that it took; once they stop it is exact.
    fn len(&self) -> usize {
        // Receives before sends, so that the sends read can only be ahead of the receives read,
        // but for a send still between std's accept and its own count: the clamp covers that.
        let received = self.received.load(Ordering::Relaxed);
        let tally = self.sends.lock();
        let sent: usize = tally.retired
            + tally
                .live
                .iter()
                .map(|counter| counter.get())
                .sum::<usize>();
        sent.saturating_sub(received).min(self.capacity)
    }
}

/// std's sending endpoint as the adapter sees it: a `SyncSender` and this handle's own count
/// of accepted sends.
pub struct StdSender<T> {
    tx: mpsc::SyncSender<T>,
    sent: Arc<SendCounter>,
    shared: Arc<Shared>,
}

/// std's receiving endpoint as the adapter sees it: the one `Receiver`, behind a mutex on a
/// cache line of its own, shared by every consumer handle.
pub struct StdReceiver<T> {
    // Field order matters: the last consumer's `rx` drops the `Receiver`, and with it the
    // buffered items, before the handle leaves the count.
    rx: Arc<CachePadded<Mutex<mpsc::Receiver<T>>>>,
    shared: Arc<Shared>,
}

impl<T> StdSender<T> {
    /// Counts one accepted send on this handle's own line.
    #[inline]
    fn count_one(&self) {
        self.sent.increment();
    }
}

// Clone by hand: a derived one would require `T: Clone`, and a new producer handle needs a
// counter of its own.
impl<T> Clone for StdSender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            sent: self.shared.join_senders(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for StdSender<T> {
    fn drop(&mut self) {
        self.shared.leave_senders(&self.sent);
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
            capacity,
            sends: Mutex::new(SendTally {
                live: Vec::new(),
                retired: 0,
            }),
            received: CachePadded::new(AtomicUsize::new(0)),
            disconnected: AtomicBool::new(false),
        });
        (
            StdSender {
                tx,
                sent: shared.join_senders(),
                shared: Arc::clone(&shared),
            },
            StdReceiver {
                rx: Arc::new(CachePadded::new(Mutex::new(rx))),
                shared,
            },
        )
    }

    #[inline]
    fn send<T: Send + 'static>(tx: &StdSender<T>, item: T) -> Result<(), SendError<T>> {
        match tx.tx.send(item) {
            Ok(()) => {
                tx.count_one();
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
                tx.count_one();
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
    #[inline]
    fn try_recv<T: Send + 'static>(rx: &StdReceiver<T>) -> Result<T, TryRecvError> {
        let receiver = rx.rx.lock();
        match receiver.try_recv() {
            Ok(item) => {
                rx.shared.count_received(&receiver);
                Ok(item)
            }
            Err(mpsc::TryRecvError::Empty) => Err(TryRecvError::Empty),
            Err(mpsc::TryRecvError::Disconnected) => {
                rx.shared.saw_disconnect();
                Err(TryRecvError::Disconnected)
            }
        }
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

/// The one blocking receive: an item if one is buffered, else the channel's own
/// `recv_timeout`, in slices of at most [`RECV_SLICE`] under the mutex, until `deadline` if
/// there is one. The clock is read only once the channel is found empty.
#[inline]
fn recv_until<T>(rx: &StdReceiver<T>, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
    loop {
        let receiver = match deadline {
            None => rx.rx.lock(),
            Some(deadline) => rx
                .rx
                .try_lock_until(deadline)
                .ok_or(RecvTimeoutError::Timeout)?,
        };
        let got = match receiver.try_recv() {
            Ok(item) => Ok(item),
            Err(mpsc::TryRecvError::Disconnected) => Err(mpsc::RecvTimeoutError::Disconnected),
            Err(mpsc::TryRecvError::Empty) => {
                let left = deadline.map_or(RECV_SLICE, |deadline| {
                    deadline.saturating_duration_since(Instant::now())
                });
                receiver.recv_timeout(left.min(RECV_SLICE))
            }
        };
        match got {
            Ok(item) => {
                rx.shared.count_received(&receiver);
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

#[cfg(test)]
mod tests {
    use buffer_api::{Backend, Consumer, Handle, Producer};

    use super::Std;

    #[test]
    fn len_keeps_the_sends_of_dropped_producer_handles() {
        let (tx, rx) = Std::bounded::<u32>(4).expect("capacity 4");
        let other = tx.clone();
        other.send(1).expect("open");
        other.send(2).expect("open");
        tx.send(3).expect("open");
        drop(other);
        assert_eq!((tx.len(), rx.len()), (3, 3));
        assert_eq!(rx.recv(), Ok(1));
        let second = rx.clone();
        assert_eq!(second.try_recv(), Ok(2));
        drop(second);
        assert_eq!((tx.len(), rx.len()), (1, 1));
        let late = tx.clone();
        late.send(4).expect("open");
        assert_eq!((late.len(), rx.len()), (2, 2));
    }
}
