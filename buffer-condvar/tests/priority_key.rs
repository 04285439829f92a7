//! A priority key is user code: it must never run under the buffer's lock (invariant 3). These
//! tests give `condvar-priority` a key that panics on one value, and items that reach back into
//! the buffer from their `Drop`, and check that nothing deadlocks, nothing is buffered by a send
//! that panicked, and every item is dropped exactly once.
// Real threads and real panics; the model checkers' primitives work only inside their models.
#![cfg(not(any(loom, shuttle)))]

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use buffer_api::{Backend, Consumer, Handle, PriorityKey, Producer};
use buffer_condvar::CondvarPriority;

/// The value the key refuses by panicking.
const POISON: u64 = 666;

/// Far longer than any of these tests takes; reaching it means a thread is stuck.
const STUCK: Duration = Duration::from_secs(20);

/// An item that counts its drops and may run a probe of the buffer from its `Drop`.
struct Touchy {
    value: u64,
    drops: Arc<AtomicUsize>,
    on_drop: Option<Box<dyn FnOnce() + Send>>,
}

impl Drop for Touchy {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if let Some(probe) = self.on_drop.take() {
            probe();
        }
    }
}

/// Ranks a [`Touchy`] by its value and panics on [`POISON`].
struct PanickingKey;

impl PriorityKey for PanickingKey {
    fn priority(item: &dyn Any) -> u64 {
        let value = item.downcast_ref::<Touchy>().map_or(0, |t| t.value);
        assert_ne!(value, POISON, "the key refuses {POISON}");
        value
    }
}

type Buffer = CondvarPriority<PanickingKey>;

fn touchy(value: u64, drops: &Arc<AtomicUsize>) -> Touchy {
    Touchy {
        value,
        drops: Arc::clone(drops),
        on_drop: None,
    }
}

/// Runs `f` on its own thread and fails the whole test binary if it does not finish in
/// [`STUCK`]. A panic would not do: a lock left held would also stop the test's own handles
/// from dropping while it unwinds, and the binary would hang instead of failing.
fn finishes<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = done_tx.send(f());
    });
    match done_rx.recv_timeout(STUCK) {
        Ok(result) => result,
        Err(_) => {
            eprintln!("{what}: stuck for {STUCK:?}, the buffer's lock is held for good");
            std::process::exit(101);
        }
    }
}

/// A send whose key panics, with an item whose `Drop` calls `len()`: the send panics, the
/// item is dropped once while unwinding, and its `len()` finds the lock free.
#[test]
fn a_panicking_key_leaves_the_lock_free() {
    let (tx, rx) = Buffer::bounded::<Touchy>(4).expect("capacity 4");
    let drops = Arc::new(AtomicUsize::new(0));
    let seen_len = Arc::new(AtomicUsize::new(usize::MAX));
    let probe_tx = tx.clone();
    let seen = Arc::clone(&seen_len);
    let mut item = touchy(POISON, &drops);
    item.on_drop = Some(Box::new(move || {
        seen.store(probe_tx.len(), Ordering::SeqCst)
    }));
    let sender = tx.clone();
    let outcome = finishes("send with a panicking key", move || {
        panic::catch_unwind(AssertUnwindSafe(|| sender.send(item))).is_err()
    });
    assert!(outcome, "the key's panic reaches the caller");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the refused item is dropped once"
    );
    assert_eq!(
        seen_len.load(Ordering::SeqCst),
        0,
        "its Drop read len() = 0"
    );
    assert_eq!(tx.len(), 0);
    assert!(
        tx.try_send(touchy(3, &drops)).is_ok(),
        "the buffer still works"
    );
    assert_eq!(rx.try_recv().map(|t| t.value).ok(), Some(3));
}

/// `force_send` reads the key before the lock too.
#[test]
fn a_panicking_key_in_force_send_buffers_nothing() {
    let (tx, rx) = Buffer::bounded::<Touchy>(1).expect("capacity 1");
    let drops = Arc::new(AtomicUsize::new(0));
    assert!(tx.try_send(touchy(1, &drops)).is_ok());
    let sender = tx.clone();
    let item = touchy(POISON, &drops);
    let panicked = finishes("force_send with a panicking key", move || {
        panic::catch_unwind(AssertUnwindSafe(|| sender.force_send(item))).is_err()
    });
    assert!(panicked);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "only the refused item dropped"
    );
    assert_eq!(tx.len(), 1, "the buffered item was not evicted");
    assert_eq!(rx.try_recv().map(|t| t.value).ok(), Some(1));
}

/// A batch with one item the key panics on: the caller panics before any item is buffered,
/// every item of the batch is dropped exactly once, and a receiver parked meanwhile is woken
/// by the next send as usual.
#[test]
fn a_panicking_key_in_a_batch_sends_none_of_it() {
    let (tx, rx) = Buffer::bounded::<Touchy>(8).expect("capacity 8");
    let drops = Arc::new(AtomicUsize::new(0));
    let receiver = thread::spawn(move || rx.recv().map(|t| t.value).ok());
    let batch = vec![touchy(1, &drops), touchy(2, &drops), touchy(POISON, &drops)];
    let sender = tx.clone();
    let panicked = finishes("send_batch with a panicking key", move || {
        panic::catch_unwind(AssertUnwindSafe(|| sender.send_batch(batch))).is_err()
    });
    assert!(panicked, "the key's panic reaches the caller");
    assert_eq!(tx.len(), 0, "no item of the failed batch is buffered");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "every item of the batch dropped once"
    );
    assert!(tx.send(touchy(9, &drops)).is_ok());
    let got = finishes("the parked receiver", move || {
        receiver.join().expect("receiver")
    });
    assert_eq!(got, Some(9), "the receiver gets the next item sent");
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}
