//! Shuttle tests of the condvar buffer: shapes too large for loom's exhaustive search, run
//! under many random and PCT (probabilistic concurrency testing) schedules, with the buffer's
//! mutex, condvars and atomics instrumented through its `sync` facade. A lost wake-up shows as
//! shuttle's deadlock report; a wrong outcome as a failed assertion. A failure prints the
//! schedule, which `shuttle::replay` reproduces.
//!
//! ```text
//! RUSTFLAGS="--cfg shuttle" \
//!     cargo test -p buffer-condvar --release --test shuttle --target-dir target/shuttle
//! ```
//!
//! The schedulers' seeds are fixed, so a run is reproducible; set `BUFFER_SHUTTLE_SEED` to
//! explore other schedules, and `BUFFER_SHUTTLE_ITERATIONS` to change how many each test
//! runs (`buffer_sync::schedules`). Only blocking and `try_` operations are used: shuttle does not model time, so a timed
//! wait would never time out.
#![cfg(shuttle)]

use std::collections::BTreeSet;

use buffer_api::{
    Backend, Consumer, ForceSendError, Handle, Producer, RecvError, SendBatchError, SendError,
    TryRecvError,
};
use buffer_condvar::{CondvarConsumer, CondvarFifo, CondvarProducer};
use buffer_sync::schedules::{check_pct, check_random};
use shuttle::rand::{Rng, thread_rng};
use shuttle::sync::Arc;
use shuttle::sync::atomic::{AtomicUsize, Ordering};
use shuttle::thread;

fn buffer<T: Send + 'static>(capacity: usize) -> (CondvarProducer<T>, CondvarConsumer<T>) {
    CondvarFifo::bounded(capacity).expect("a valid capacity")
}

/// An item's identity: which producer offered it, and its place in that producer's sequence.
type Item = (usize, usize);

/// What one consumer received, in the order it received it.
type Received = Vec<Item>;

/// Asserts that every consumer saw each producer's items in increasing order.
fn assert_per_producer_order(received: &[Received]) {
    for (consumer, items) in received.iter().enumerate() {
        let mut last = [None; PRODUCERS];
        for &(producer, seq) in items {
            assert!(
                last[producer] < Some(seq),
                "consumer {consumer} saw producer {producer}'s item {seq} after {:?}",
                last[producer]
            );
            last[producer] = Some(seq);
        }
    }
}

/// Receives until disconnected, with single receives or batches (`batch` > 1), checking after
/// each that the ring never holds more than its capacity.
fn drain(rx: &CondvarConsumer<Item>, batch: usize, capacity: usize) -> Received {
    let mut got = Vec::new();
    loop {
        let more = if batch > 1 {
            rx.recv_batch(&mut got, batch).map(|_| ())
        } else {
            rx.recv().map(|item| got.push(item))
        };
        if more.is_err() {
            return got;
        }
        assert!(
            rx.len() <= capacity,
            "the ring holds more than its capacity"
        );
    }
}

/// The many-to-many shape: producers, consumers, items per producer, and capacity.
const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;
const ITEMS: usize = 50;
const CAPACITY: usize = 2;

/// 4 producers x 4 consumers x 50 items at capacity 2. Producer 3 sends in batches of 3 and
/// consumer 3 receives in batches of up to 3; the others use single blocking calls. Every item
/// is delivered exactly once, in per-producer order for every consumer, and `Disconnected`
/// reaches a consumer only after every producer has finished.
fn many_to_many_exactly_once() {
    let (tx, rx) = buffer::<Item>(CAPACITY);
    let finished = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let tx = tx.clone();
            let finished = Arc::clone(&finished);
            thread::spawn(move || {
                if producer == PRODUCERS - 1 {
                    let items: Vec<Item> = (0..ITEMS).map(|seq| (producer, seq)).collect();
                    for chunk in items.chunks(3) {
                        tx.send_batch(chunk.to_vec())
                            .expect("the consumers are alive");
                    }
                } else {
                    for seq in 0..ITEMS {
                        tx.send((producer, seq)).expect("the consumers are alive");
                    }
                }
                finished.fetch_add(1, Ordering::SeqCst);
                // `tx` is dropped here; the last producer handle disconnects.
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|consumer| {
            let rx = rx.clone();
            let finished = Arc::clone(&finished);
            thread::spawn(move || {
                let batch = if consumer == CONSUMERS - 1 { 3 } else { 1 };
                let got = drain(&rx, batch, CAPACITY);
                assert_eq!(
                    finished.load(Ordering::SeqCst),
                    PRODUCERS,
                    "consumer {consumer} saw Disconnected before every producer finished"
                );
                got
            })
        })
        .collect();
    drop(rx);
    for producer in producers {
        producer.join().unwrap();
    }
    let received: Vec<Received> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    assert_per_producer_order(&received);
    let mut all: Vec<Item> = received.into_iter().flatten().collect();
    all.sort_unstable();
    let expected: Vec<Item> = (0..PRODUCERS)
        .flat_map(|producer| (0..ITEMS).map(move |seq| (producer, seq)))
        .collect();
    assert_eq!(all, expected, "every item delivered exactly once");
}

#[test]
fn random_4x4x50_capacity_2_exactly_once_in_order() {
    check_random(many_to_many_exactly_once);
}

#[test]
fn pct_4x4x50_capacity_2_exactly_once_in_order() {
    check_pct(many_to_many_exactly_once);
}

/// Items each producer offers in a close storm.
const STORM_ITEMS: usize = 12;
/// Threads of each kind in a close storm.
const STORM_PRODUCERS: usize = 3;
const STORM_CONSUMERS: usize = 2;
const STORM_CLOSERS: usize = 2;

/// A producer's outcome: the items whose send returned `Ok`, those handed back, and the
/// items (of any producer) its `force_send` calls evicted.
struct Offered {
    sent: Vec<Item>,
    handed_back: Vec<Item>,
    evicted: Vec<Item>,
}

/// Offers every item of `producer`, the last producer in batches of 4, and with `shed` the
/// first one through `force_send` (drop-oldest), recording each outcome. Once one send is
/// refused, every later one must be too.
fn offer_all(tx: &CondvarProducer<Item>, producer: usize, shed: bool) -> Offered {
    let mut offered = Offered {
        sent: Vec::new(),
        handed_back: Vec::new(),
        evicted: Vec::new(),
    };
    let items: Vec<Item> = (0..STORM_ITEMS).map(|seq| (producer, seq)).collect();
    if shed && producer == 0 {
        for item in items {
            match tx.force_send(item) {
                Ok(evicted) => {
                    offered.sent.push(item);
                    offered.evicted.extend(evicted);
                }
                Err(ForceSendError::Disconnected(back)) => {
                    assert_eq!(back, item, "a refused force_send hands back its own item");
                    offered.handed_back.push(back);
                }
                Err(ForceSendError::Unsupported(_)) => panic!("condvar declares drop_oldest"),
            }
            assert!(
                tx.len() <= tx.capacity(),
                "force_send overfilled the buffer"
            );
        }
    } else if producer == STORM_PRODUCERS - 1 {
        for chunk in items.chunks(4) {
            match tx.send_batch(chunk.to_vec()) {
                Ok(()) => offered.sent.extend_from_slice(chunk),
                Err(SendBatchError { sent, unsent }) => {
                    assert_eq!(unsent, chunk[sent..], "the unsent tail, in order");
                    offered.sent.extend_from_slice(&chunk[..sent]);
                    offered.handed_back.extend(unsent);
                }
            }
        }
    } else {
        for item in items {
            match tx.send(item) {
                Ok(()) => offered.sent.push(item),
                Err(SendError(back)) => {
                    assert_eq!(back, item, "a refused send hands back its own item");
                    offered.handed_back.push(back);
                }
            }
        }
    }
    if let Some(&first_back) = offered.handed_back.first() {
        assert!(
            offered.sent.iter().all(|&sent| sent < first_back),
            "producer {producer} sent an item after one was refused: {:?} / {:?}",
            offered.sent,
            offered.handed_back
        );
    }
    offered
}

/// A close storm at `capacity`: producers offer items (one in batches, and with `shed` one
/// through `force_send`), consumers receive until disconnected (one in batches), and several
/// closers close at random moments, through producer and consumer handles alike. Every offered
/// item is either delivered exactly once, handed back to its producer, or evicted by a
/// `force_send`: exactly one of the three; an item whose send returned `Ok` is delivered or
/// evicted; exactly one `close` reports that it disconnected the buffer.
fn close_storm(capacity: usize, shed: bool) {
    let (tx, rx) = buffer::<Item>(capacity);
    let producers: Vec<_> = (0..STORM_PRODUCERS)
        .map(|producer| {
            let tx = tx.clone();
            thread::spawn(move || offer_all(&tx, producer, shed))
        })
        .collect();
    let consumers: Vec<_> = (0..STORM_CONSUMERS)
        .map(|consumer| {
            let rx = rx.clone();
            let batch = if consumer == STORM_CONSUMERS - 1 {
                3
            } else {
                1
            };
            thread::spawn(move || drain(&rx, batch, capacity))
        })
        .collect();
    let closers = spawn_closers(&tx, &rx);
    let closed_here = closers
        .into_iter()
        .map(|c| c.join().unwrap())
        .filter(|&newly| newly)
        .count();
    assert_eq!(closed_here, 1, "exactly one close disconnects the buffer");
    let offered: Vec<Offered> = producers.into_iter().map(|p| p.join().unwrap()).collect();
    let received: Vec<Received> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(rx.recv(), Err(RecvError));
    assert_per_producer_order(&received);
    assert_one_fate_per_item(&offered, &received);
}

/// The closers of a close storm, each closing at a random moment, the even ones through a
/// producer handle and the odd ones through a consumer handle; each answers whether its
/// `close` disconnected the buffer.
fn spawn_closers(
    tx: &CondvarProducer<Item>,
    rx: &CondvarConsumer<Item>,
) -> Vec<thread::JoinHandle<bool>> {
    (0..STORM_CLOSERS)
        .map(|closer| {
            let (tx, rx) = (tx.clone(), rx.clone());
            thread::spawn(move || {
                for _ in 0..thread_rng().gen_range(0..3 * STORM_PRODUCERS * STORM_ITEMS) {
                    thread::yield_now();
                }
                if closer % 2 == 0 {
                    tx.close()
                } else {
                    rx.close()
                }
            })
        })
        .collect()
}

/// Every item of `items`, asserting that none appears twice (`what` names the outcome).
fn distinct<'a>(items: impl IntoIterator<Item = &'a Item>, what: &str) -> BTreeSet<Item> {
    let mut set = BTreeSet::new();
    for &item in items {
        assert!(set.insert(item), "an item {what} twice: {item:?}");
    }
    set
}

/// Asserts that every item a close storm offered met exactly one fate: delivered (once) or
/// evicted if its send was accepted, handed back otherwise.
fn assert_one_fate_per_item(offered: &[Offered], received: &[Received]) {
    let delivered = distinct(received.iter().flatten(), "delivered");
    let evicted = distinct(offered.iter().flat_map(|o| &o.evicted), "evicted");
    let sent = distinct(offered.iter().flat_map(|o| &o.sent), "accepted");
    let handed_back = distinct(offered.iter().flat_map(|o| &o.handed_back), "handed back");
    assert!(
        delivered.is_disjoint(&evicted),
        "an item both delivered and evicted"
    );
    assert!(
        evicted.is_subset(&sent),
        "evicted an item that was never accepted"
    );
    assert_eq!(
        delivered.union(&evicted).copied().collect::<BTreeSet<_>>(),
        sent,
        "every accepted item is delivered or evicted"
    );
    assert!(
        delivered.is_disjoint(&handed_back),
        "an item both delivered and handed back"
    );
    assert_eq!(
        sent.len() + handed_back.len(),
        STORM_PRODUCERS * STORM_ITEMS,
        "an item neither accepted nor handed back"
    );
}

/// One `#[test]` per close storm: its name, the schedules it runs under (`check_random` or
/// `check_pct`), the capacity, and whether one producer sheds through `force_send`.
macro_rules! close_storm_tests {
    ($($name:ident: $check:ident, capacity $capacity:expr, shed $shed:expr;)*) => {
        $(
            #[test]
            fn $name() {
                $check(|| close_storm($capacity, $shed));
            }
        )*
    };
}

close_storm_tests! {
    random_close_storm_capacity_2: check_random, capacity 2, shed false;
    pct_close_storm_capacity_2: check_pct, capacity 2, shed false;
    random_close_storm_capacity_1: check_random, capacity 1, shed false;
    random_close_storm_rendezvous: check_random, capacity 0, shed false;
    pct_close_storm_rendezvous: check_pct, capacity 0, shed false;
    random_drop_oldest_storm_capacity_2: check_random, capacity 2, shed true;
    pct_drop_oldest_storm_capacity_1: check_pct, capacity 1, shed true;
    random_drop_oldest_storm_rendezvous: check_random, capacity 0, shed true;
}
