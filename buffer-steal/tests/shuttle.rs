//! Shuttle tests of the work-stealing buffer: its slot count, handle counts, lock and condvars
//! go through the `buffer-sync` facade, so shuttle schedules every step of the park and wake-up
//! paths; each crossbeam-deque call is one step between them. A lost wake-up shows as
//! shuttle's deadlock report, a lost or doubled item as a failed assertion.
//!
//! ```text
//! RUSTFLAGS="--cfg shuttle" \
//!     cargo test -p buffer-steal --release --test shuttle --target-dir target/shuttle
//! ```
//!
//! The schedules are `buffer_sync::schedules`' (fixed seeds; `BUFFER_SHUTTLE_SEED` and
//! `BUFFER_SHUTTLE_ITERATIONS` steer them). Only blocking and `try_` operations are used:
//! shuttle does not model time.
#![cfg(shuttle)]

use buffer_api::{Backend, Consumer, Handle, Producer, SendError};
use buffer_steal::{Steal, StealConsumer, StealProducer};
use buffer_sync::schedules::{check_pct, check_random};
use shuttle::thread;

/// An item's identity: its producer and its place in that producer's sequence.
type Item = (usize, usize);

fn buffer(capacity: usize) -> (StealProducer<Item>, StealConsumer<Item>) {
    Steal::bounded(capacity).expect("a valid capacity")
}

/// Every item of `producers` producers sending `items` each, sorted.
fn every_item(producers: usize, items: usize) -> Vec<Item> {
    (0..producers)
        .flat_map(|producer| (0..items).map(move |seq| (producer, seq)))
        .collect()
}

/// Spawns one thread per producer, each sending `items` items with `send` and returning the
/// items it was refused.
fn spawn_producers(
    tx: &StealProducer<Item>,
    producers: usize,
    items: usize,
) -> Vec<thread::JoinHandle<Vec<Item>>> {
    (0..producers)
        .map(|producer| {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut refused = Vec::new();
                for seq in 0..items {
                    if let Err(SendError(item)) = tx.send((producer, seq)) {
                        refused.push(item);
                    }
                }
                refused
            })
        })
        .collect()
}

/// Spawns one thread per consumer, each receiving until `Disconnected`, or until it has
/// `leave_after` items when that is given for it, checking the bound after each receive.
fn spawn_consumers(
    rx: &StealConsumer<Item>,
    leave_after: &[Option<usize>],
    capacity: usize,
) -> Vec<thread::JoinHandle<Vec<Item>>> {
    leave_after
        .iter()
        .map(|&leave_after| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                while leave_after.is_none_or(|n| got.len() < n) {
                    let Ok(item) = rx.recv() else { break };
                    got.push(item);
                    assert!(rx.len() <= capacity, "more than the capacity buffered");
                }
                got
            })
        })
        .collect()
}

fn joined(threads: Vec<thread::JoinHandle<Vec<Item>>>) -> Vec<Item> {
    let mut all: Vec<Item> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("no thread panics"))
        .collect();
    all.sort_unstable();
    all
}

/// 3 producers x 3 consumers x 8 items at capacity 2: producers park on a full buffer and
/// consumers on an empty one, many times. Every item is received exactly once, none refused.
fn many_to_many_exactly_once() {
    let (tx, rx) = buffer(2);
    let producers = spawn_producers(&tx, 3, 8);
    drop(tx);
    let consumers = spawn_consumers(&rx, &[None, None, None], 2);
    drop(rx);
    assert_eq!(joined(producers), Vec::<Item>::new(), "nothing refused");
    assert_eq!(joined(consumers), every_item(3, 8), "each item once");
}

#[test]
fn random_3x3x8_capacity_2_exactly_once() {
    check_random(many_to_many_exactly_once);
}

#[test]
fn pct_3x3x8_capacity_2_exactly_once() {
    check_pct(many_to_many_exactly_once);
}

/// 2 producers x 9 items in batches of 3, 2 consumers receiving batches of up to 3, at
/// capacity 2: a batch send takes the slots that are free and waits for the rest. Every item
/// is received exactly once.
fn batches_exactly_once() {
    let (tx, rx) = buffer(2);
    let producers: Vec<_> = (0..2)
        .map(|producer| {
            let tx = tx.clone();
            thread::spawn(move || {
                let items: Vec<Item> = (0..9).map(|seq| (producer, seq)).collect();
                for chunk in items.chunks(3) {
                    tx.send_batch(chunk.to_vec())
                        .expect("the consumers are alive");
                }
                Vec::new()
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                while rx.recv_batch(&mut got, 3).is_ok() {
                    assert!(rx.len() <= 2, "more than the capacity buffered");
                }
                got
            })
        })
        .collect();
    drop(rx);
    joined(producers);
    assert_eq!(joined(consumers), every_item(2, 9), "each item once");
}

#[test]
fn random_batches_exactly_once() {
    check_random(batches_exactly_once);
}

#[test]
fn pct_batches_exactly_once() {
    check_pct(batches_exactly_once);
}

/// 2 producers x 10 items at capacity 6, three consumers, one of which leaves after 2 items
/// with whatever its last steal left in its deque: the others take that over. Every item is
/// received exactly once.
fn consumer_leaving_hands_back() {
    let (tx, rx) = buffer(6);
    let producers = spawn_producers(&tx, 2, 10);
    drop(tx);
    let consumers = spawn_consumers(&rx, &[Some(2), None, None], 6);
    drop(rx);
    assert_eq!(joined(producers), Vec::<Item>::new(), "nothing refused");
    assert_eq!(joined(consumers), every_item(2, 10), "each item once");
}

#[test]
fn random_consumer_leaving_hands_back() {
    check_random(consumer_leaving_hands_back);
}

#[test]
fn pct_consumer_leaving_hands_back() {
    check_pct(consumer_leaving_hands_back);
}

/// 2 producers x 6 items at capacity 1, two consumers, and a thread that closes the buffer
/// at a point the schedule picks. Every producer and consumer finishes (close woke them all);
/// every item is either received once or handed back to its producer, never both.
fn close_wakes_everyone() {
    let (tx, rx) = buffer(1);
    let producers = spawn_producers(&tx, 2, 6);
    let consumers = spawn_consumers(&rx, &[None, None], 1);
    let closer = thread::spawn(move || tx.close());
    drop(rx);
    let refused = joined(producers);
    let received = joined(consumers);
    closer.join().expect("the closer");
    let mut all: Vec<Item> = refused.iter().chain(&received).copied().collect();
    all.sort_unstable();
    assert_eq!(all, every_item(2, 6), "each item received or refused, once");
}

#[test]
fn random_close_wakes_everyone() {
    check_random(close_wakes_everyone);
}

#[test]
fn pct_close_wakes_everyone() {
    check_pct(close_wakes_everyone);
}

/// 2 producers x 6 items at capacity 1 and one consumer that leaves after 2 items: the
/// producers parked on the full buffer are woken and refused, and every later send too.
fn last_consumer_leaving_wakes_producers() {
    let (tx, rx) = buffer(1);
    let producers = spawn_producers(&tx, 2, 6);
    let consumers = spawn_consumers(&rx, &[Some(2)], 1);
    drop(rx);
    let received = joined(consumers);
    let refused = joined(producers);
    assert_eq!(received.len(), 2, "the consumer took its two");
    assert!(refused.len() <= 12 - 2, "an item received and refused");
    assert_eq!(
        tx.send((9, 9)),
        Err(SendError((9, 9))),
        "no consumer is left"
    );
}

#[test]
fn random_last_consumer_leaving_wakes_producers() {
    check_random(last_consumer_leaving_wakes_producers);
}

#[test]
fn pct_last_consumer_leaving_wakes_producers() {
    check_pct(last_consumer_leaving_wakes_producers);
}
