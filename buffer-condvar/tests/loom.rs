//! Loom models of the condvar buffer: every interleaving of a small case, up to a bound on
//! preemptions, with the buffer's own mutex, condvars and atomics instrumented through its
//! `sync` facade. A lost wake-up shows as loom's deadlock report; a wrong outcome as a failed
//! assertion.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 \
//!     cargo test -p buffer-condvar --release --test loom --target-dir target/loom
//! ```
//!
//! `LOOM_MAX_PREEMPTIONS` defaults to [`PREEMPTIONS`] here. Each model uses blocking and `try_`
//! operations only: loom does not model time, so a timed wait would never time out.
#![cfg(loom)]

use buffer_api::{
    Backend, Consumer, Handle, Producer, RecvError, SendBatchError, SendError, TryRecvError,
};
use buffer_condvar::{CondvarConsumer, CondvarFifo, CondvarProducer};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// The preemption bound when `LOOM_MAX_PREEMPTIONS` is not set.
const PREEMPTIONS: usize = 3;

/// Checks `f` under every interleaving loom explores, and prints how many there were (shown
/// with `--nocapture`).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(PREEMPTIONS);
    }
    // Counted outside loom (a std atomic), across the executions of this one model.
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&executions);
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    println!(
        "{} interleavings (preemption bound {:?})",
        executions.load(std::sync::atomic::Ordering::Relaxed),
        builder.preemption_bound,
    );
}

fn buffer<T: Send + 'static>(capacity: usize) -> (CondvarProducer<T>, CondvarConsumer<T>) {
    CondvarFifo::bounded(capacity).expect("a valid capacity")
}

/// Checks, as [`model`] does, a case that starts from a fresh buffer of `u32` at `capacity`,
/// built anew in every execution.
fn model_on(
    capacity: usize,
    f: impl Fn(CondvarProducer<u32>, CondvarConsumer<u32>) + Sync + Send + 'static,
) {
    model(move || {
        let (tx, rx) = buffer::<u32>(capacity);
        f(tx, rx);
    });
}

/// Sends `items` with blocking sends into a buffer that has room for them all.
fn fill(tx: &CondvarProducer<u32>, items: impl IntoIterator<Item = u32>) {
    for item in items {
        tx.send(item).unwrap();
    }
}

/// One producer thread per item, each sending its item with a blocking `send`; `tx` itself is
/// dropped, so the consumers see `Disconnected` once every producer is done.
fn spawn_senders(
    tx: CondvarProducer<u32>,
    items: impl IntoIterator<Item = u32>,
) -> Vec<thread::JoinHandle<Result<(), SendError<u32>>>> {
    items
        .into_iter()
        .map(|item| {
            let tx = tx.clone();
            thread::spawn(move || tx.send(item))
        })
        .collect()
}

/// `n` consumer threads, each receiving one item with a blocking `recv`.
fn spawn_receivers(
    rx: &CondvarConsumer<u32>,
    n: usize,
) -> Vec<thread::JoinHandle<Result<u32, RecvError>>> {
    (0..n)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || rx.recv())
        })
        .collect()
}

/// Starts a thread that runs `f` on a clone of `handle`, made here, so that the caller keeps
/// its own handle.
fn spawn_on_clone<H: Clone + Send + 'static, R: Send + 'static>(
    handle: &H,
    f: impl FnOnce(H) -> R + Send + 'static,
) -> thread::JoinHandle<R> {
    let handle = handle.clone();
    thread::spawn(move || f(handle))
}

/// Joins the producers of [`spawn_senders`]: every send must have succeeded.
fn assert_all_sent(producers: Vec<thread::JoinHandle<Result<(), SendError<u32>>>>) {
    for producer in producers {
        assert_eq!(producer.join().unwrap(), Ok(()));
    }
}

/// Asserts that `got` holds the items of `expected`, in any order: several threads received.
fn assert_received_once<const N: usize>(mut got: Vec<u32>, expected: [u32; N]) {
    got.sort_unstable();
    assert_eq!(got, expected);
}

/// Model 1: capacity 1, two producers with one item each, one consumer. The second producer
/// finds the ring full and parks; the consumer's receive must wake it (the not-full side).
#[test]
fn model_1_not_full_wakeup_two_producers_one_consumer() {
    model_on(1, |tx, rx| {
        let producers = spawn_senders(tx, 0..2);
        let got = [rx.recv(), rx.recv()].map(|r| r.expect("two items were sent"));
        assert_received_once(got.to_vec(), [0, 1]);
        assert_all_sent(producers);
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

/// Model 2: capacity 1, one producer with two items, two consumers with one receive each. The
/// consumers park on the empty ring; each send must wake one (the not-empty side), and a
/// consumer woken after another took its item must wait again, not give up.
#[test]
fn model_2_not_empty_wakeup_one_producer_two_consumers() {
    model_on(1, |tx, rx| {
        let consumers = spawn_receivers(&rx, 2);
        tx.send(0).unwrap();
        tx.send(1).unwrap();
        drop(tx);
        let got = consumers
            .into_iter()
            .map(|c| c.join().unwrap().expect("the buffer stays open for both"))
            .collect::<Vec<_>>();
        assert_received_once(got, [0, 1]);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// Model 3: capacity 1 and full, a producer blocked in `send`, `close()` from another thread.
/// The producer gets its own item back, and the buffered item is still received.
#[test]
fn model_3_close_hands_a_blocked_producer_its_item_and_keeps_the_buffered_one() {
    model_on(1, |tx, rx| {
        tx.try_send(0).unwrap();
        let producer = thread::spawn(move || tx.send(1));
        assert!(rx.close());
        assert_eq!(producer.join().unwrap(), Err(SendError(1)));
        assert_eq!(rx.recv(), Ok(0));
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

/// Model 4: capacity 1 and empty, two consumers blocked, `close()`: both wake, disconnected.
#[test]
fn model_4_close_wakes_every_blocked_consumer() {
    model_on(1, |tx, rx| {
        let consumers = spawn_receivers(&rx, 2);
        assert!(tx.close());
        for consumer in consumers {
            assert_eq!(consumer.join().unwrap(), Err(RecvError));
        }
        assert_eq!(tx.send(2), Err(SendError(2)));
    });
}

/// Model 5: a producer sends and then drops its handle while the consumer waits: the item is
/// delivered before `Disconnected`.
#[test]
fn model_5_last_producer_gone_delivers_the_item_before_disconnected() {
    model_on(1, |tx, rx| {
        let producer = thread::spawn(move || {
            tx.send(7).unwrap();
            // `tx`, the last producer handle, is dropped here.
        });
        assert_eq!(rx.recv(), Ok(7));
        assert_eq!(rx.recv(), Err(RecvError));
        producer.join().unwrap();
        assert!(rx.is_closed());
    });
}

/// A payload that counts its own drops in a loom atomic, one counter per item.
struct Token {
    id: usize,
    drops: Arc<[AtomicUsize; 3]>,
}

impl Drop for Token {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

/// Model 6: every item is dropped exactly once: received ones by the consumer, refused ones by
/// the producer from the error, and the ones left in the buffer when the last consumer goes.
#[test]
fn model_6_every_item_is_dropped_exactly_once() {
    model(|| {
        let drops = Arc::new([0, 1, 2].map(|_| AtomicUsize::new(0)));
        let (tx, rx) = buffer::<Token>(2);
        let producer = {
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                let mut refused = Vec::new();
                for id in 0..3 {
                    let token = Token {
                        id,
                        drops: Arc::clone(&drops),
                    };
                    if let Err(SendError(back)) = tx.send(token) {
                        assert_eq!(back.id, id, "a refused send hands back its own item");
                        refused.push(id);
                    }
                }
                refused
            })
        };
        let consumer = thread::spawn(move || {
            let first = rx.recv().expect("the producer is alive until it has sent");
            assert_eq!(first.id, 0);
            // `first`, then `rx`, the last consumer, is dropped here, with the buffered items.
        });
        consumer.join().unwrap();
        let refused = producer.join().unwrap();
        // Once the consumer has gone, every later send is refused: a suffix of the items.
        assert!(refused.iter().all(|&id| id > 0));
        assert!(refused.windows(2).all(|w| w[1] == w[0] + 1));
        assert_eq!(refused.last().copied().unwrap_or(2), 2);
        for (id, count) in drops.iter().enumerate() {
            assert_eq!(count.load(Ordering::SeqCst), 1, "item {id} dropped once");
        }
    });
}

/// Model 7a: rendezvous (capacity 0). `send` returns `Ok` only once a receiver owns the item:
/// closing right after it returns cannot take the item back from the receiver.
#[test]
fn model_7a_rendezvous_send_returns_after_the_receiver_owns_the_item() {
    model_on(0, |tx, rx| {
        let producer = thread::spawn(move || {
            let sent = tx.send(7);
            tx.close();
            sent
        });
        assert_eq!(rx.recv(), Ok(7));
        assert_eq!(producer.join().unwrap(), Ok(()));
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

/// Model 7b: rendezvous against a concurrent close: either both sides see the hand-off, or the
/// sender has its item back and the receiver sees `Disconnected`; never one without the other.
#[test]
fn model_7b_rendezvous_against_close_is_all_or_nothing() {
    model_on(0, |tx, rx| {
        // The main thread keeps a producer handle, so only `close` disconnects.
        let producer = spawn_on_clone(&tx, |tx| tx.send(7));
        let consumer = spawn_on_clone(&rx, |rx| rx.recv());
        assert!(rx.close());
        let sent = producer.join().unwrap();
        let received = consumer.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(received, Ok(7)),
            Err(SendError(item)) => {
                assert_eq!(item, 7);
                assert_eq!(received, Err(RecvError));
            }
        }
    });
}

/// Model 8: `send_batch` of three items through capacity 2 and `recv_batch` of up to two,
/// against a concurrent `close()`. Whatever `send_batch` reports sent is received, in order,
/// and exactly the rest comes back unsent.
///
/// Drop-oldest does not exist in this backend yet; its model comes with the disciplines issue.
#[test]
fn model_8_batches_against_close_lose_and_duplicate_nothing() {
    model_on(2, |tx, rx| {
        let producer = spawn_on_clone(&tx, |tx| tx.send_batch(vec![0, 1, 2]));
        let consumer = spawn_on_clone(&rx, |rx| {
            let mut got = Vec::new();
            while let Ok(n) = rx.recv_batch(&mut got, 2) {
                assert!((1..=2).contains(&n));
            }
            got
        });
        assert!(tx.close());
        let got = consumer.join().unwrap();
        let (sent, unsent) = match producer.join().unwrap() {
            Ok(()) => (3, Vec::new()),
            Err(SendBatchError { sent, unsent }) => (sent, unsent),
        };
        assert_eq!(got, (0..3).take(sent).collect::<Vec<u32>>());
        assert_eq!(unsent, (0..3).skip(sent).collect::<Vec<u32>>());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// Model 9: drop-oldest against a blocking send and a consumer, at capacity 1. One producer
/// sheds with `force_send`, another blocks in `send`, the consumer receives until both are
/// gone. Every item is received or handed back as evicted, exactly once; the blocked sender is
/// never stranded (a lost wake-up is a deadlock); the ring never holds more than one item; and
/// the shedding producer's received items keep their order.
#[test]
fn model_9_force_send_against_a_blocked_sender_loses_and_duplicates_nothing() {
    model_on(1, |tx, rx| {
        let shedder = spawn_on_clone(&tx, |tx| {
            let mut evicted = Vec::new();
            for item in [0, 1] {
                if let Some(old) = tx.force_send(item).expect("the consumer is alive") {
                    evicted.push(old);
                }
                assert!(tx.len() <= 1);
            }
            evicted
        });
        let blocker = thread::spawn(move || tx.send(10));
        let mut got = Vec::new();
        while let Ok(item) = rx.recv() {
            got.push(item);
        }
        let mut evicted = shedder.join().unwrap();
        assert_eq!(blocker.join().unwrap(), Ok(()));
        let shed: Vec<u32> = got.iter().copied().filter(|&i| i < 10).collect();
        assert!(
            shed.windows(2).all(|w| w[0] < w[1]),
            "out of order: {got:?}"
        );
        evicted.extend(got);
        assert_received_once(evicted, [0, 1, 10]);
    });
}

/// Model 10: capacity 2, full, two producers blocked with one item each, one consumer
/// receiving all four. At capacity 2 a receive skips notifying senders while an earlier
/// notification is in flight, so the first woken producer must pass the baton to the second;
/// a lost baton is a deadlock.
#[test]
fn model_10_one_wakeup_in_flight_still_wakes_every_blocked_producer() {
    model_on(2, |tx, rx| {
        fill(&tx, [0, 1]);
        let producers = spawn_senders(tx, [2, 3]);
        let got: Vec<u32> = (0..4).map(|_| rx.recv().unwrap()).collect();
        assert_all_sent(producers);
        assert_eq!(rx.recv(), Err(RecvError));
        assert_received_once(got, [0, 1, 2, 3]);
    });
}

/// Model 11: as model 10, but the first producer sends a batch of one, and the consumer takes
/// two items, then waits for both producers before it drains the rest. The batch send must pass
/// the baton to the other parked producer when it leaves room behind: without that, the second
/// producer sleeps next to a free slot while the consumer waits for it, a deadlock.
#[test]
fn model_11_a_batch_send_passes_the_baton_to_the_next_producer() {
    model_on(2, |tx, rx| {
        fill(&tx, [0, 1]);
        let batch = spawn_on_clone(&tx, |tx| tx.send_batch(vec![2]));
        let single = spawn_on_clone(&tx, |tx| tx.send(3));
        drop(tx);
        let mut got: Vec<u32> = (0..2).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(batch.join().unwrap(), Ok(()));
        assert_eq!(single.join().unwrap(), Ok(()));
        got.extend((0..2).map(|_| rx.recv().unwrap()));
        assert_eq!(rx.recv(), Err(RecvError));
        assert_received_once(got, [0, 1, 2, 3]);
    });
}

/// Model 12: capacity 2, two consumers (one with `recv`, one with `recv_batch` of at most one)
/// and one producer that sends two items and then waits for both consumers before it drops its
/// handle. The second send skips notifying receivers while the first notification is in
/// flight, so the first consumer to wake must pass the baton to the other when it leaves an
/// item behind: without that, the other sleeps beside the item while the producer waits for
/// it, a deadlock.
#[test]
fn model_12_a_receive_that_leaves_an_item_passes_the_baton_to_the_next_consumer() {
    model_on(2, |tx, rx| {
        let single = spawn_on_clone(&rx, |rx| rx.recv().unwrap());
        let batch = thread::spawn(move || {
            let mut buf = Vec::new();
            assert_eq!(rx.recv_batch(&mut buf, 1), Ok(1));
            buf[0]
        });
        tx.send(0).unwrap();
        tx.send(1).unwrap();
        let got = vec![single.join().unwrap(), batch.join().unwrap()];
        drop(tx);
        assert_received_once(got, [0, 1]);
    });
}

/// Model 13: rendezvous (capacity 0), two producers and two consumers with one item each.
/// Receivers pass no baton at capacity 0 (invariant 10 of the crate docs): whatever a receiver
/// leaves behind, in `handoff` or as an offer, some other receiver is running or has a
/// notification on its way. A schedule where that fails shows as a deadlock: a consumer
/// asleep while a producer waits with its offer.
#[test]
fn model_13_rendezvous_two_by_two_needs_no_baton_between_receivers() {
    model_on(0, |tx, rx| {
        let producers = spawn_senders(tx, 0..2);
        let consumer = spawn_on_clone(&rx, |rx| rx.recv().unwrap());
        let got = vec![rx.recv().unwrap(), consumer.join().unwrap()];
        assert_all_sent(producers);
        assert_received_once(got, [0, 1]);
    });
}
