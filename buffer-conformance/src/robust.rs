//! Robustness and introspection: panicking threads hang nobody, `len` stays in range under
//! load, the batch operations keep the single-item guarantees, and fairness is measured and
//! reported.

use std::panic;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::Instant;

use crate::close::{
    MAX_SPIN, RecvForm, SendForm, assert_all_dropped, assert_woken_in_time, drain_ids, fill, fork,
    id_range, ids, in_checked_order, joined, recv_claimed, spawn_consumers, spin,
};
use crate::fifo::{assert_delivered, assert_exactly_once};
use crate::support::{
    DropCounter, Tracked, new_buffer, quietly, scaled, seeded_rng, spawn_probe, stop_sending,
};
use buffer_api::{Backend, Consumer, Handle, Producer, SendBatchError};

/// The message of the suite's deliberate panics, to tell them from real failures.
const DELIBERATE: &str = "conformance: a test thread panicked on purpose";

/// Whether a caught panic is one of the suite's deliberate ones.
fn is_deliberate(payload: &(dyn std::any::Any + Send)) -> bool {
    payload
        .downcast_ref::<&str>()
        .is_some_and(|s| *s == DELIBERATE)
        || payload
            .downcast_ref::<String>()
            .is_some_and(|s| s == DELIBERATE)
}

/// Joins a thread that is meant to panic on purpose; any other outcome fails the item.
fn joined_deliberate<R>(name: &str, handle: thread::ScopedJoinHandle<'_, R>) {
    match handle.join() {
        Ok(_) => panic!("{name}: a thread meant to panic returned"),
        Err(payload) if is_deliberate(&*payload) => {}
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// A consumer that panics between two receives hangs nobody: its handle drops during the
/// unwinding, the other consumers keep going, and every item is delivered exactly once,
/// counting those the panicking one received. The drop counter balances at the end.
pub fn panicking_consumer_hangs_nobody<B: Backend>() {
    let (seed, mut rng) = seeded_rng();
    let per_producer = scaled(500) as u64;
    let counter = DropCounter::new();
    let (p, q) = new_buffer::<B, Tracked>(4);
    let panic_after = rng.usize(..(per_producer as usize / 2).max(1));
    let logs: Vec<Mutex<Vec<(usize, u64)>>> = (0..3).map(|_| Mutex::new(Vec::new())).collect();
    thread::scope(|s| {
        for me in 0..2 {
            let (p, counter) = (p.clone(), &counter);
            s.spawn(move || {
                for seq in 0..per_producer {
                    if let Err(e) = p.send(counter.item(me, seq)) {
                        panic!("{}: send with consumers alive failed: {e}", B::NAME);
                    }
                }
            });
        }
        drop(p);
        let consumers: Vec<_> = logs
            .iter()
            .enumerate()
            .map(|(i, log)| {
                let q = q.clone();
                s.spawn(move || {
                    while let Ok(item) = q.recv() {
                        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                        log.push(item.id());
                        if i == 0 && log.len() > panic_after {
                            drop(log);
                            // Holding a received item and the handle: both drop while unwinding.
                            let _in_hand = item;
                            panic!("{DELIBERATE}");
                        }
                    }
                    // The others took everything first: panic all the same.
                    if i == 0 {
                        panic!("{DELIBERATE}");
                    }
                })
            })
            .collect();
        drop(q);
        for (i, consumer) in consumers.into_iter().enumerate() {
            if i == 0 {
                joined_deliberate(B::NAME, consumer);
            } else {
                joined(consumer);
            }
        }
    });
    let logs: Vec<_> = logs
        .into_iter()
        .map(|log| log.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    let context = format!(
        "a consumer panicked after {} items, seed {seed}",
        panic_after + 1
    );
    assert_exactly_once::<B>(&logs, &[per_producer; 2], &context);
    assert_all_dropped::<B>(&counter, &context);
}

/// A producer that panics between two sends hangs nobody: the others keep going, everything it
/// sent is delivered exactly once (in per-producer order for FIFO backends), and its unwound
/// handle no longer keeps the consumers from seeing `Disconnected`. The drop counter balances.
pub fn panicking_producer_hangs_nobody<B: Backend>() {
    let (seed, mut rng) = seeded_rng();
    let per_producer = scaled(500) as u64;
    let counter = DropCounter::new();
    let (p, q) = new_buffer::<B, Tracked>(4);
    let panic_after = rng.u64(..per_producer);
    let received = thread::scope(|s| {
        let producers: Vec<_> = (0..3)
            .map(|me| {
                let (p, counter) = (p.clone(), &counter);
                s.spawn(move || {
                    for seq in 0..per_producer {
                        let item = counter.item(me, seq);
                        if me == 0 && seq == panic_after {
                            // Holding an unsent item and the handle: both drop while unwinding.
                            let _in_hand = item;
                            panic!("{DELIBERATE}");
                        }
                        if let Err(e) = p.send(item) {
                            panic!("{}: send with consumers alive failed: {e}", B::NAME);
                        }
                    }
                })
            })
            .collect();
        drop(p);
        let consumers = spawn_consumers::<B>(s, &q, 2, &mut rng, |rng| RecvForm::pick(rng, 4));
        for (me, producer) in producers.into_iter().enumerate() {
            if me == 0 {
                joined_deliberate(B::NAME, producer);
            } else {
                joined(producer);
            }
        }
        consumers.into_iter().map(joined).collect::<Vec<_>>()
    });
    let context = format!("a producer panicked before item {panic_after}, seed {seed}");
    let sent = [panic_after, per_producer, per_producer];
    assert_delivered::<B>(&received, &sent, &context);
    drop(q);
    assert_all_dropped::<B>(&counter, &context);
}

/// The only consumer panicking while producers are parked on a full buffer releases them: each
/// gets `Disconnected` with its own item within [`SLACK`](crate::SLACK) of the panic, and the buffer reports
/// closed. The drop counter balances.
pub fn panicking_last_consumer_releases_producers<B: Backend>() {
    let mut rng = fastrand::Rng::new();
    let counter = DropCounter::new();
    let (p, q) = new_buffer::<B, Tracked>(2);
    fill::<B>(&p, &counter, 0, 0..2);
    let barrier = Barrier::new(4);
    let panicked_at = Mutex::new(None);
    thread::scope(|s| {
        let producers: Vec<_> = (1..=3)
            .map(|me| {
                let (p, item, barrier) = (p.clone(), counter.item(me, 0), &barrier);
                let form = SendForm::PARKING[rng.usize(..SendForm::PARKING.len())];
                s.spawn(move || {
                    barrier.wait();
                    let result = form.send::<B>(&p, item).map_err(|v| v.id());
                    (form, result, Instant::now())
                })
            })
            .collect();
        let delay = rng.usize(..MAX_SPIN * 8);
        let (barrier, panicked_at) = (&barrier, &panicked_at);
        let consumer = s.spawn(move || {
            // The last consumer handle: it drops while this thread unwinds.
            let _last_consumer = q;
            barrier.wait();
            spin(delay);
            *panicked_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            panic!("{DELIBERATE}");
        });
        joined_deliberate(B::NAME, consumer);
        let panicked_at = panicked_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .expect("the consumer recorded its panic");
        let cause = "the last consumer's panic";
        for (me, producer) in (1..=3).zip(producers) {
            let (form, result, at) = joined(producer);
            let when = (panicked_at, cause);
            assert_woken_in_time::<B, _>(form, (result, at), Err((me, 0)), when);
        }
    });
    assert!(
        p.is_closed(),
        "{}: is_closed after the last consumer panicked",
        B::NAME
    );
    drop(p);
    assert_all_dropped::<B>(&counter, "the last consumer panicked");
}

/// A panic inside the iterator given to `send_batch` unwinds through the buffer's code and
/// breaks nothing: the panic reaches the caller, what the batch accepted is a prefix of it, in
/// order, the rest is dropped once, and the buffer keeps working across threads (no poisoned or
/// held lock). The drop counter balances.
pub fn panicking_batch_iterator_keeps_buffer_usable<B: Backend>() {
    let counter = DropCounter::new();
    let (p, q) = new_buffer::<B, Tracked>(8);
    let unwound = quietly(|| {
        p.send_batch((0..6).map(|seq| {
            if seq == 3 {
                panic!("{DELIBERATE}");
            }
            counter.item(0, seq)
        }))
    });
    assert!(
        unwound
            .as_ref()
            .is_err_and(|payload| is_deliberate(&**payload)),
        "{}: the iterator's panic must reach the caller of send_batch",
        B::NAME
    );
    let accepted = drain_ids::<B>(&q);
    assert!(
        accepted.len() <= 3,
        "{}: send_batch accepted {} items of an iterator that panicked at the fourth",
        B::NAME,
        accepted.len()
    );
    let prefix = id_range(0, 0, accepted.len() as u64);
    assert_eq!(
        in_checked_order::<B>(accepted),
        prefix,
        "{}: what a panicking batch accepted must be its prefix",
        B::NAME
    );
    assert_eq!(
        counter.alive(),
        0,
        "{}: the items of a panicking batch must be received or dropped once",
        B::NAME
    );
    let received = thread::scope(|s| {
        let consumer = s.spawn(|| {
            let mut got = Vec::new();
            while let Ok(item) = q.recv() {
                got.push(item.id());
            }
            got
        });
        let sender = s.spawn(|| {
            for seq in 10..20 {
                if let Err(e) = p.send(counter.item(0, seq)) {
                    panic!("{}: send after a panicking batch failed: {e}", B::NAME);
                }
            }
            stop_sending::<B, _>(p, "after a panicking batch");
        });
        joined(sender);
        joined(consumer)
    });
    assert_eq!(
        in_checked_order::<B>(received),
        id_range(0, 10, 20),
        "{}: the buffer after a panicking batch",
        B::NAME
    );
    drop(q);
    assert_all_dropped::<B>(&counter, "a panicking batch");
}

/// Concurrent `len`, `is_empty`, `is_full` during an exactly-once run.
///
/// For (P, M, C) in (1, 1, 1), (2, 2, 4), (4, 2, 64) and (2, 4, 3), producers send
/// `scaled(1000)` items in all with random forms while consumers take all but a random 0..=C of
/// them, and a sampler reads `len()`, `is_empty()`, `is_full()` and `capacity()` from both sides
/// the whole time: every sampled `len` is in `0..=C` and `capacity()` never changes. At
/// quiescence `len()` equals accepted sends minus receives exactly, `is_empty` and `is_full`
/// match it, and draining yields the rest so that every item is delivered once.
pub fn concurrent_len<B: Backend>() {
    let (seed, mut rng) = seeded_rng();
    for (producers, consumers, capacity) in [(1, 1, 1), (2, 2, 4), (4, 2, 64), (2, 4, 3)] {
        let counter = DropCounter::new();
        let per_producer = (scaled(1_000) / producers) as u64;
        let total = per_producer as usize * producers;
        let left = rng.usize(..=capacity);
        let context = format!("seed {seed}, {producers}:{consumers}, C = {capacity}, {left} left");
        let (p, q) = new_buffer::<B, Tracked>(capacity);
        let unclaimed = AtomicUsize::new(total - left);
        let done = AtomicBool::new(false);
        let (logs, samples) = thread::scope(|s| {
            let producer_threads: Vec<_> = (0..producers)
                .map(|me| {
                    let (p, mut rng, counter) = (p.clone(), fork(&mut rng), &counter);
                    s.spawn(move || {
                        for seq in 0..per_producer {
                            if let Err(v) =
                                SendForm::pick(&mut rng).send::<B>(&p, counter.item(me, seq))
                            {
                                panic!("{}: {v:?} refused with every handle alive", B::NAME);
                            }
                        }
                    })
                })
                .collect();
            let consumer_threads: Vec<_> = (0..consumers)
                .map(|_| {
                    let (q, mut rng, unclaimed) = (q.clone(), fork(&mut rng), &unclaimed);
                    s.spawn(move || {
                        let mut items = Vec::new();
                        let what = "disconnected under load";
                        while recv_claimed::<B>(&q, &mut rng, unclaimed, &mut items, what) {}
                        ids(&items)
                    })
                })
                .collect();
            let sampler = s.spawn(|| sample_len_until::<B>(&p, &q, capacity, &done, &context));
            producer_threads.into_iter().for_each(joined);
            let logs: Vec<_> = consumer_threads.into_iter().map(joined).collect();
            done.store(true, SeqCst);
            (logs, joined(sampler))
        });
        assert!(samples > 0, "{}: the sampler took no sample", B::NAME);
        let mut logs = logs;
        logs.push(assert_quiescent_len::<B>(
            &p,
            &q,
            (capacity, left),
            &context,
        ));
        assert_exactly_once::<B>(&logs, &vec![per_producer; producers], &context);
        drop((p, q));
        assert_all_dropped::<B>(&counter, &context);
    }
}

/// Reads `len()`, `is_empty()`, `is_full()` and `capacity()` from both handles until `done`,
/// checking that every `len` is within `capacity` and `capacity()` always says `capacity`. Returns
/// how many samples it took.
fn sample_len_until<B: Backend>(
    p: &B::Producer<Tracked>,
    q: &B::Consumer<Tracked>,
    capacity: usize,
    done: &AtomicBool,
    context: &str,
) -> usize {
    let mut samples = 0_usize;
    loop {
        let stop = done.load(SeqCst);
        // `is_empty` and `is_full` are separate snapshots: they must answer, but
        // nothing ties them to a `len` read a moment apart.
        let _ = (p.is_empty(), p.is_full(), q.is_empty(), q.is_full());
        for (len, cap) in [(p.len(), p.capacity()), (q.len(), q.capacity())] {
            assert!(
                len <= capacity,
                "{}: sampled len {len} ({context})",
                B::NAME
            );
            assert_eq!(cap, capacity, "{}: capacity() changed under load", B::NAME);
        }
        samples += 1;
        if stop {
            break samples;
        }
        thread::yield_now();
    }
}

/// With every thread done and `left` items still buffered in `capacity`, `len()`, `is_empty()` and
/// `is_full()` are exact from both handles, and draining yields exactly `left` items, whose
/// identities it returns.
fn assert_quiescent_len<B: Backend>(
    p: &B::Producer<Tracked>,
    q: &B::Consumer<Tracked>,
    (capacity, left): (usize, usize),
    context: &str,
) -> Vec<(usize, u64)> {
    assert_eq!(
        (p.len(), q.len(), q.is_empty(), p.is_full()),
        (left, left, left == 0, left == capacity),
        "{}: (len, len, is_empty, is_full) at quiescence ({context})",
        B::NAME
    );
    let rest = drain_ids::<B>(q);
    assert_eq!(
        rest.len(),
        left,
        "{}: the drain at quiescence ({context})",
        B::NAME
    );
    rest
}

/// Batches keep the single-item guarantees.
///
/// `recv_batch` on an empty buffer is still blocked after [`EPSILON`](crate::EPSILON) and returns
/// exactly the one item sent then; with `max == 0` it returns `Ok(0)` at once, even on an empty
/// buffer; it appends after what `buf` held, takes 1..=`max` items per call, and successive calls
/// yield the buffered items in order; on a closed empty buffer it gives `RecvError` and leaves
/// `buf` unchanged. `send_batch` into a buffer of capacity 4 with no consumer accepts exactly 4
/// of 10 items, and on close hands back the other 6, in order, as `SendBatchError { sent: 4, .. }`;
/// on a closed buffer it hands back everything. Then 2 producers send random-sized batches
/// (empty, smaller and larger than the capacity) to 2 consumers taking random-sized batches:
/// every item once, in per-producer order for FIFO backends.
pub fn batches_bounded_ordered_and_complete<B: Backend>() {
    let counter = DropCounter::new();
    recv_batch_on_one_thread::<B>(&counter);
    if B::CAPABILITIES.closes() {
        batch_meets_close::<B>(&counter);
    }
    batch_under_load::<B>(&counter);
}

/// `recv_batch` on one thread: it waits for the first item and returns it, returns `Ok(0)` for
/// `max == 0`, appends to what `buf` held, takes 1..=`max` items per call, and successive calls
/// yield the buffered items in order.
fn recv_batch_on_one_thread<B: Backend>(counter: &DropCounter) {
    let (p, q) = new_buffer::<B, Tracked>(8);
    let waiting = {
        let q = q.clone();
        spawn_probe(move || {
            let mut buf = Vec::new();
            let n = q.recv_batch(&mut buf, 5);
            (n, ids(&buf))
        })
    };
    waiting.assert_blocked("recv_batch on an empty buffer");
    if let Err(e) = p.send(counter.item(0, 0)) {
        panic!("{}: send failed: {e}", B::NAME);
    }
    assert_eq!(
        waiting.join(),
        (Ok(1), vec![(0, 0)]),
        "{}: recv_batch must return once an item arrives, with that item",
        B::NAME
    );
    let mut buf = vec![counter.item(9, 9)];
    assert_eq!(
        q.recv_batch(&mut buf, 0),
        Ok(0),
        "{}: recv_batch(max 0) on an empty buffer",
        B::NAME
    );
    fill::<B>(&p, counter, 0, 1..8);
    assert_eq!(
        q.recv_batch(&mut buf, 0),
        Ok(0),
        "{}: recv_batch(max 0)",
        B::NAME
    );
    assert_eq!(buf.len(), 1, "{}: recv_batch(max 0) appended", B::NAME);
    while buf.len() < 8 {
        let before = buf.len();
        match q.recv_batch(&mut buf, 3) {
            Ok(n) => {
                assert!(
                    (1..=3).contains(&n),
                    "{}: recv_batch(max 3) returned {n}",
                    B::NAME
                );
                assert_eq!(
                    buf.len(),
                    before + n,
                    "{}: recv_batch's count against appended items",
                    B::NAME
                );
            }
            Err(e) => panic!("{}: recv_batch on a non-empty buffer failed: {e}", B::NAME),
        }
    }
    let mut got = ids(&buf);
    assert_eq!(
        got.remove(0),
        (9, 9),
        "{}: recv_batch must append, not overwrite",
        B::NAME
    );
    assert_eq!(
        in_checked_order::<B>(got),
        id_range(0, 1, 8),
        "{}: successive recv_batch calls",
        B::NAME
    );
    assert_eq!(q.len(), 0, "{}: len() after the batches", B::NAME);
}

/// A `send_batch` blocked on a full buffer is refused by `close()` with the
/// accepted count and the rest handed back, and every batch operation after it is refused.
fn batch_meets_close<B: Backend>(counter: &DropCounter) {
    let (p, q) = new_buffer::<B, Tracked>(4);
    let batch: Vec<_> = (0..10).map(|seq| counter.item(1, seq)).collect();
    let sending = {
        let p = p.clone();
        spawn_probe(move || p.send_batch(batch))
    };
    while q.len() < 4 {
        thread::yield_now();
    }
    sending.assert_blocked("send_batch of 10 into capacity 4");
    q.close();
    match sending.join() {
        Err(SendBatchError { sent, unsent }) => {
            assert_eq!(sent, 4, "{}: send_batch's accepted count", B::NAME);
            assert_eq!(
                ids(&unsent),
                id_range(1, 4, 10),
                "{}: send_batch's unsent tail",
                B::NAME
            );
        }
        Ok(()) => panic!(
            "{}: send_batch of 10 into capacity 4 completed with no consumer",
            B::NAME
        ),
    }
    let mut drained = Vec::new();
    let mut buf = Vec::new();
    while let Ok(n) = q.recv_batch(&mut buf, 10) {
        assert!(n >= 1, "{}: recv_batch returned 0 items", B::NAME);
        drained.extend(buf.drain(..).map(|v| v.id()));
    }
    assert!(buf.is_empty(), "{}: a failed recv_batch appended", B::NAME);
    drop(buf);
    assert_eq!(
        in_checked_order::<B>(drained),
        id_range(1, 0, 4),
        "{}: the accepted part of the batch",
        B::NAME
    );
    match p.send_batch((0..3).map(|seq| counter.item(2, seq))) {
        Err(SendBatchError { sent: 0, unsent }) => {
            assert_eq!(
                ids(&unsent),
                id_range(2, 0, 3),
                "{}: send_batch after close",
                B::NAME
            );
        }
        other => panic!("{}: send_batch after close gave {other:?}", B::NAME),
    }
    drop((p, q));
}

/// Two producers sending random batches, two consumers receiving random
/// batches; every item received exactly once, in producer order where FIFO is declared.
fn batch_under_load<B: Backend>(counter: &DropCounter) {
    let (seed, mut rng) = seeded_rng();
    let per_producer = scaled(2_000) as u64;
    let (p, q) = new_buffer::<B, Tracked>(4);
    let received = thread::scope(|s| {
        for me in 0..2 {
            let (p, mut rng, counter) = (p.clone(), fork(&mut rng), counter);
            s.spawn(move || {
                let mut seq = 0;
                while seq < per_producer {
                    let size = rng.u64(..=9).min(per_producer - seq);
                    if let Err(e) = p.send_batch((seq..seq + size).map(|seq| counter.item(me, seq)))
                    {
                        panic!("{}: send_batch with consumers alive failed: {e}", B::NAME);
                    }
                    seq += size;
                }
            });
        }
        drop(p);
        let pick = |rng: &mut fastrand::Rng| RecvForm::Batch(rng.usize(1..=9));
        let consumers = spawn_consumers::<B>(s, &q, 2, &mut rng, pick);
        consumers.into_iter().map(joined).collect::<Vec<_>>()
    });
    let context = format!("seed {seed}");
    assert_delivered::<B>(&received, &[per_producer; 2], &context);
    drop(q);
    assert_all_dropped::<B>(counter, &context);
}

/// Fairness is reported, not enforced.
///
/// P producers (4, and 4·cores) send as fast as they can into a buffer of capacity 1, so they are
/// parked on it nearly all the time, while one consumer takes `scaled(2000)` items and then
/// closes and drains. The share of each producer among the items taken is reported on stderr
/// with the min and max, and a producer below 1/(4P) is flagged as starved; only exact totals
/// are asserted: each producer's accepted sends equal the items received from it, and its
/// refused item is its own next one.
pub fn fairness_reported<B: Backend>() {
    if !B::CAPABILITIES.closes() {
        // Producers are stopped by close() while the consumer still drains; without close
        // there is no way to stop them and keep the consumer.
        return;
    }
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    let taken = scaled(2_000);
    for producers in [4, 4 * cores] {
        let counter = DropCounter::new();
        let (outcomes, shares, after_close) =
            producers_race_for_one_slot::<B>(&counter, producers, taken);
        for (me, &(accepted, refused)) in outcomes.iter().enumerate() {
            assert_eq!(
                accepted as usize,
                shares[me] + after_close[me],
                "{}: producer {me}'s accepted sends against items received from it",
                B::NAME
            );
            assert_eq!(
                refused,
                (me, accepted),
                "{}: producer {me}'s refused item",
                B::NAME
            );
        }
        assert_eq!(
            shares.iter().sum::<usize>(),
            taken,
            "{}: items taken",
            B::NAME
        );
        report_shares::<B>(&shares, taken);
        assert_all_dropped::<B>(&counter, &format!("fairness with {producers} producers"));
    }
}

/// Per producer: (accepted sends, identity of the refused item).
type FairnessOutcome = (u64, (usize, u64));

/// `producers` producers, released at once, send into a buffer of capacity 1 until refused,
/// while one consumer takes `taken` items, closes and drains. Returns each producer's outcome,
/// and per producer the items taken before the close and drained after it.
fn producers_race_for_one_slot<B: Backend>(
    counter: &DropCounter,
    producers: usize,
    taken: usize,
) -> (Vec<FairnessOutcome>, Vec<usize>, Vec<usize>) {
    let (p, q) = new_buffer::<B, Tracked>(1);
    // Everyone starts at once, so that no producer's share is skewed by a late start.
    let barrier = Barrier::new(producers + 1);
    thread::scope(|s| {
        let producer_threads: Vec<_> = (0..producers)
            .map(|me| {
                let (p, barrier) = (p.clone(), &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let mut seq = 0;
                    loop {
                        match p.send(counter.item(me, seq)) {
                            Ok(()) => seq += 1,
                            Err(e) => break (seq, e.into_inner().id()),
                        }
                    }
                })
            })
            .collect();
        drop(p);
        barrier.wait();
        let mut shares = vec![0_usize; producers];
        for _ in 0..taken {
            match q.recv() {
                Ok(item) => shares[item.producer] += 1,
                Err(e) => panic!("{}: recv with producers alive failed: {e}", B::NAME),
            }
        }
        q.close();
        let mut after_close = vec![0_usize; producers];
        while let Ok(item) = q.recv() {
            after_close[item.producer] += 1;
        }
        let outcomes: Vec<_> = producer_threads.into_iter().map(joined).collect();
        (outcomes, shares, after_close)
    })
}

/// Prints each producer's share of the `taken` items (min, max and the even share), and flags
/// a producer below 1/(4P) as starved. Nothing here is a verdict.
fn report_shares<B: Backend>(shares: &[usize], taken: usize) {
    let producers = shares.len();
    let (min, max) = (
        shares.iter().copied().min().unwrap_or(0),
        shares.iter().copied().max().unwrap_or(0),
    );
    let fraction = |n: usize| n as f64 / taken as f64;
    eprintln!(
        "{}: fairness, {producers} producers parked on capacity 1, {taken} items: min share \
         {:.3}, max share {:.3} (even: {:.3})",
        B::NAME,
        fraction(min),
        fraction(max),
        1.0 / producers as f64
    );
    for (me, &share) in shares.iter().enumerate() {
        if share * 4 * producers < taken {
            eprintln!(
                "{}: producer {me} of {producers} starved: share {:.4} < 1/(4P) = {:.4}",
                B::NAME,
                fraction(share),
                1.0 / (4 * producers) as f64
            );
        }
    }
}
