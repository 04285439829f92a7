//! FIFO order, exactly-once delivery under N:M concurrency, mixed
//! operations, churn and visibility. Also the N:M driver other behaviours reuse.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use crate::support::{DropCounter, Tracked, new_buffer, scaled};
use buffer_api::{
    Backend, Consumer, Handle, Producer, RecvError, RecvTimeoutError, SendTimeoutError,
    TryRecvError, TrySendError,
};

/// Asserts that `got` holds the items of `expected`: in the same order for a FIFO backend, as
/// the same multiset otherwise.
///
/// # Panics
///
/// On a mismatch, naming the backend and `what`.
pub fn expect_same_items<B: Backend, T: Ord + Clone + Debug>(
    got: &[T],
    expected: &[T],
    what: &str,
) {
    if B::CAPABILITIES.preserves_producer_order() {
        assert_eq!(got, expected, "{}: {what}: items or order differ", B::NAME);
    } else {
        let (mut g, mut e) = (got.to_vec(), expected.to_vec());
        g.sort();
        e.sort();
        assert_eq!(g, e, "{}: {what}: items differ", B::NAME);
    }
}

/// How the threads of [`run_mpmc`] call the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calls {
    /// Only `send` and `recv`.
    Blocking,
    /// Per item, at random: blocking, `try_` retried, or `_timeout` retried.
    Mixed,
}

/// Runs `producers` threads sending `per_producer` items each through one buffer of
/// `capacity`, and `consumers` threads receiving until `Disconnected`. Returns, per consumer,
/// the identities it received in order.
///
/// Every `Full` or `Timeout` is checked to carry back the very item that was offered.
///
/// # Panics
///
/// On a send refused as `Disconnected` (the consumers are alive) or a handed-back item that is
/// not the one offered.
pub fn run_mpmc<B: Backend>(
    producers: usize,
    consumers: usize,
    capacity: usize,
    per_producer: u64,
    calls: Calls,
    counter: &DropCounter,
) -> Vec<Vec<(usize, u64)>> {
    let (tx, rx) = new_buffer::<B, Tracked>(capacity);
    let start = Barrier::new(producers + consumers);
    thread::scope(|s| {
        for p in 0..producers {
            let tx = tx.clone();
            let start = &start;
            s.spawn(move || {
                let mut rng = fastrand::Rng::with_seed(p as u64);
                start.wait();
                for seq in 0..per_producer {
                    send_with::<B>(&tx, counter.item(p, seq), calls, &mut rng);
                }
            });
        }
        drop(tx);
        let receivers: Vec<_> = (0..consumers)
            .map(|c| {
                let rx = rx.clone();
                let start = &start;
                s.spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(1000 + c as u64);
                    let mut got = Vec::new();
                    start.wait();
                    while let Some(item) = recv_with::<B>(&rx, calls, &mut rng) {
                        got.push(item.id());
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        receivers
            .into_iter()
            .map(|h| h.join().expect("a consumer thread panicked"))
            .collect()
    })
}

fn send_with<B: Backend>(
    tx: &B::Producer<Tracked>,
    item: Tracked,
    calls: Calls,
    rng: &mut fastrand::Rng,
) {
    let id = item.id();
    let choice = if calls == Calls::Blocking {
        0
    } else {
        rng.u8(0..3)
    };
    match choice {
        0 => {
            if let Err(e) = tx.send(item) {
                panic!("{}: send {id:?} refused while consumers live: {e}", B::NAME);
            }
        }
        1 => {
            let mut item = item;
            loop {
                match tx.try_send(item) {
                    Ok(()) => break,
                    Err(TrySendError::Full(back)) => {
                        assert_eq!(back.id(), id, "{}: Full carried another item", B::NAME);
                        item = back;
                        thread::yield_now();
                    }
                    Err(e) => panic!("{}: try_send {id:?} refused: {e}", B::NAME),
                }
            }
        }
        _ => {
            let mut item = item;
            loop {
                match tx.send_timeout(item, Duration::from_millis(1)) {
                    Ok(()) => break,
                    Err(SendTimeoutError::Timeout(back)) => {
                        assert_eq!(back.id(), id, "{}: Timeout carried another item", B::NAME);
                        item = back;
                    }
                    Err(e) => panic!("{}: send_timeout {id:?} refused: {e}", B::NAME),
                }
            }
        }
    }
}

fn recv_with<B: Backend>(
    rx: &B::Consumer<Tracked>,
    calls: Calls,
    rng: &mut fastrand::Rng,
) -> Option<Tracked> {
    let choice = if calls == Calls::Blocking {
        0
    } else {
        rng.u8(0..3)
    };
    match choice {
        0 => rx.recv().ok(),
        1 => loop {
            match rx.try_recv() {
                Ok(item) => return Some(item),
                Err(TryRecvError::Empty) => thread::yield_now(),
                Err(TryRecvError::Disconnected) => return None,
            }
        },
        _ => loop {
            match rx.recv_timeout(Duration::from_millis(1)) {
                Ok(item) => return Some(item),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        },
    }
}

/// Asserts every `(producer, seq)` with `seq < sent[producer]` was received exactly once, and
/// nothing else.
///
/// # Panics
///
/// Naming the first lost, duplicated or unknown item.
pub fn assert_exactly_once<B: Backend>(received: &[Vec<(usize, u64)>], sent: &[u64], what: &str) {
    let mut seen: HashMap<(usize, u64), usize> = HashMap::new();
    for id in received.iter().flatten() {
        *seen.entry(*id).or_default() += 1;
    }
    for (p, &count) in sent.iter().enumerate() {
        for seq in 0..count {
            match seen.remove(&(p, seq)) {
                Some(1) => {}
                Some(n) => panic!("{}: {what}: item ({p}, {seq}) delivered {n} times", B::NAME),
                None => panic!("{}: {what}: item ({p}, {seq}) lost", B::NAME),
            }
        }
    }
    assert!(
        seen.is_empty(),
        "{}: {what}: unknown items delivered: {:?}",
        B::NAME,
        seen.keys().take(5).collect::<Vec<_>>()
    );
}

/// Asserts that each consumer saw each producer's items in strictly increasing `seq` order;
/// the caller applies it only where the backend preserves producer order.
///
/// # Panics
///
/// Naming the first consumer, producer and pair of seqs out of order, with their positions.
pub fn assert_per_producer_order<B: Backend>(received: &[Vec<(usize, u64)>], what: &str) {
    for (c, got) in received.iter().enumerate() {
        let mut last: HashMap<usize, (usize, u64)> = HashMap::new();
        for (at, &(p, seq)) in got.iter().enumerate() {
            if let Some((before, prev)) = last.insert(p, (at, seq)) {
                assert!(
                    prev < seq,
                    "{}: {what}: consumer {c} got producer {p}'s seq {seq} at position {at} \
                     after seq {prev} at position {before}",
                    B::NAME
                );
            }
        }
    }
}

/// The two delivery verdicts of a concurrent run: [`assert_exactly_once`] against `sent`, and
/// [`assert_per_producer_order`] where the backend declares that it keeps producer order.
pub fn assert_delivered<B: Backend>(received: &[Vec<(usize, u64)>], sent: &[u64], what: &str) {
    assert_exactly_once::<B>(received, sent, what);
    if B::CAPABILITIES.preserves_producer_order() {
        assert_per_producer_order::<B>(received, what);
    }
}

/// SPSC at capacities 1, 3 and 1024: the consumer receives exactly `0..N`, in order.
pub fn spsc_fifo<B: Backend>() {
    let n = scaled(5_000) as u64;
    for capacity in [1, 3, 1024] {
        let counter = DropCounter::new();
        let received = run_mpmc::<B>(1, 1, capacity, n, Calls::Blocking, &counter);
        let seqs: Vec<u64> = received[0].iter().map(|&(_, seq)| seq).collect();
        let expected: Vec<u64> = (0..n).collect();
        expect_same_items::<B, _>(&seqs, &expected, &format!("SPSC at capacity {capacity}"));
        assert_eq!(counter.alive(), 0, "{}: items alive after the run", B::NAME);
    }
}

/// Runs one N:M case through [`run_mpmc`] and checks it: every item delivered exactly once,
/// per-producer order where the backend is FIFO, and every item created and dropped once.
fn check_mpmc<B: Backend>(
    (producers, consumers, capacity): (usize, usize, usize),
    per_producer: u64,
    calls: Calls,
) {
    let counter = DropCounter::new();
    let received = run_mpmc::<B>(
        producers,
        consumers,
        capacity,
        per_producer,
        calls,
        &counter,
    );
    let what = format!("{calls:?} calls, {producers}:{consumers} at capacity {capacity}");
    assert_delivered::<B>(&received, &vec![per_producer; producers], &what);
    assert_eq!(
        counter.created(),
        producers * per_producer as usize,
        "{}: {what}: items created",
        B::NAME
    );
    assert_eq!(
        counter.alive(),
        0,
        "{}: {what}: items alive after the run",
        B::NAME
    );
}

/// N:M, for every (consumer, producer) pair the seqs the consumer sees are strictly
/// increasing. FIFO disciplines only; other disciplines check exactly-once instead.
pub fn per_producer_order<B: Backend>() {
    let per_producer = scaled(1_000) as u64;
    for shape in [(4, 4, 2), (4, 1, 16), (1, 4, 16), (8, 8, 64)] {
        check_mpmc::<B>(shape, per_producer, Calls::Blocking);
    }
}

/// N:M exactly-once for P, M in {1, 2, 4, 8} and C in {1, 2, 16, 1024}, plus an
/// oversubscribed case with four threads per core.
pub fn exactly_once<B: Backend>() {
    let total = scaled(800) as u64;
    let mut shapes = Vec::new();
    for producers in [1, 2, 4, 8] {
        for consumers in [1, 2, 4, 8] {
            for capacity in [1, 2, 16, 1024] {
                shapes.push((producers, consumers, capacity));
            }
        }
    }
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    shapes.push((2 * cores, 2 * cores, 16));
    for shape in shapes {
        check_mpmc::<B>(shape, total.div_ceil(shape.0 as u64), Calls::Blocking);
    }
}

/// Each side picks blocking, `try_` or `_timeout` calls at random per item; every item
/// still arrives exactly once (in per-producer order for FIFO), and every `Full` or `Timeout`
/// carried back the very item offered.
pub fn mixed_operations<B: Backend>() {
    let per_producer = scaled(500) as u64;
    for shape in [(1, 1, 1), (4, 4, 2), (2, 3, 16)] {
        check_mpmc::<B>(shape, per_producer, Calls::Mixed);
    }
}

/// Many rounds of "new buffer of capacity 1, one send on one thread, one recv on
/// another, drop everything": no hang, and every item is dropped exactly once.
pub fn churn_of_short_lived_buffers<B: Backend>() {
    let rounds = scaled(2_000);
    let counter = DropCounter::new();
    for round in 0..rounds {
        let (tx, rx) = new_buffer::<B, Tracked>(1);
        let item = counter.item(0, round as u64);
        thread::scope(|s| {
            s.spawn(move || tx.send(item).map_err(|_| "send refused").unwrap());
            assert_eq!(
                rx.recv().map(|t| t.id()),
                Ok((0, round as u64)),
                "{}: churn round {round}",
                B::NAME
            );
        });
    }
    assert_eq!(counter.created(), rounds, "{}: items created", B::NAME);
    assert_eq!(counter.alive(), 0, "{}: items alive after churn", B::NAME);
}

/// T threads share a buffer of capacity T and loop "send, then `try_recv`". Each
/// thread's own send precedes its `try_recv`, so the buffer cannot be empty then: `try_recv`
/// never reports `Empty`. This catches a send whose effect is not yet visible to other threads.
pub fn own_send_visible_to_next_try_recv<B: Backend>() {
    let threads = 4;
    let rounds = scaled(2_000);
    let (tx, rx) = new_buffer::<B, u64>(threads);
    let start = Barrier::new(threads);
    thread::scope(|s| {
        for t in 0..threads {
            let (tx, rx, start) = (tx.clone(), rx.clone(), &start);
            s.spawn(move || {
                start.wait();
                for i in 0..rounds {
                    tx.send((t * rounds + i) as u64)
                        .expect("the buffer is open");
                    match rx.try_recv() {
                        Ok(_) => {}
                        Err(e) => panic!(
                            "{}: thread {t} round {i}: try_recv after its own send gave {e:?}",
                            B::NAME
                        ),
                    }
                }
            });
        }
    });
    assert_eq!(
        rx.len(),
        0,
        "{}: every thread took as many as it sent",
        B::NAME
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(
        rx.recv(),
        Err(RecvError),
        "{}: disconnected once producers drop",
        B::NAME
    );
}
