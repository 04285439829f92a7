//! Drop accounting and memory: every item is dropped exactly once, by whoever owns it at the
//! end; the buffer keeps no more than its capacity alive; a payload whose `Drop` panics or calls
//! back into the buffer breaks nothing.

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::close::{
    assert_all_dropped, drain_ids, fill, fork, id_range, ids, in_checked_order, joined,
    recv_claimed,
};
use crate::support::{
    DropCounter, SLACK, Tracked, new_buffer, quietly, scaled, seeded_rng, spawn_probe,
};
use buffer_api::{
    Backend, BufferedDrop, Consumer, Handle, Producer, SendBatchError, SendError, SendTimeoutError,
    TryRecvError, TrySendError,
};

/// Every item is dropped exactly once.
///
/// `scaled(100)` times, 1-2 producers and 1-2 consumers move a random 0..=`scaled(3000)` items
/// through capacity 50 and leave a random 0..=50 more buffered. With the handles still alive the
/// counter has dropped exactly the received items and `len()` is the rest; then the handles drop
/// in random order and the counter shows the buffered items dropped exactly when
/// `B::CAPABILITIES.buffered_drop` says (with the last consumer, or with the last handle), so
/// that at the end dropped equals created: none twice, none leaked.
pub fn every_item_dropped_once<B: Backend>() {
    const CAPACITY: usize = 50;
    let (seed, mut rng) = seeded_rng();
    for rep in 0..scaled(100) {
        let counter = DropCounter::new();
        let moved = rng.usize(..=scaled(3_000));
        let left = rng.usize(..=CAPACITY);
        let (producers, consumers) = (rng.usize(1..=2), rng.usize(1..=2));
        let context = format!("seed {seed}, rep {rep}, {moved} moved, {left} left");
        let (p, q) = new_buffer::<B, Tracked>(CAPACITY);
        let unclaimed = AtomicUsize::new(moved);
        thread::scope(|s| {
            for me in 0..producers {
                let share =
                    (moved + left) / producers + usize::from(me < (moved + left) % producers);
                let (p, counter) = (p.clone(), &counter);
                s.spawn(move || {
                    for seq in 0..share as u64 {
                        if let Err(e) = p.send(counter.item(me, seq)) {
                            panic!("{}: send with every handle alive failed: {e}", B::NAME);
                        }
                    }
                });
            }
            for _ in 0..consumers {
                let (q, mut rng, unclaimed) = (q.clone(), fork(&mut rng), &unclaimed);
                s.spawn(move || {
                    let mut items = Vec::new();
                    // Exactly `moved` items leave the buffer.
                    let what = "disconnected while handles are alive";
                    while recv_claimed::<B>(&q, &mut rng, unclaimed, &mut items, what) {
                        items.clear();
                    }
                });
            }
        });
        assert_eq!(
            (counter.created(), counter.dropped(), q.len()),
            (moved + left, moved, left),
            "{}: (created, dropped, len) with the handles alive ({context})",
            B::NAME
        );
        let consumer_first = rng.bool();
        if consumer_first {
            drop(q);
            let expected = match B::CAPABILITIES.buffered_drop {
                BufferedDrop::OnLastConsumer => moved + left,
                BufferedDrop::OnLastHandle => moved,
            };
            assert_eq!(
                counter.dropped(),
                expected,
                "{}: dropped after the last consumer went, {} declared ({context})",
                B::NAME,
                B::CAPABILITIES.buffered_drop
            );
            drop(p);
        } else {
            drop(p);
            assert_eq!(
                counter.dropped(),
                moved,
                "{}: the last producer dropping dropped buffered items ({context})",
                B::NAME
            );
            drop(q);
        }
        assert_all_dropped::<B>(&counter, &format!("every handle gone, {context}"));
    }
}

/// Items handed back in errors belong to the caller.
///
/// For `Full` from `try_send`, `Timeout` from `send_timeout`, `Disconnected` from `send`,
/// `try_send`, `send_timeout` and `send_batch` after a close, and `Disconnected` handed to a
/// producer parked when the last consumer dropped: the error carries the very item; dropping the
/// error drops it exactly once (the counter moves by exactly the number of items in it, and by
/// nothing before); `into_inner` lets the caller keep it past the buffer's end; and when every
/// handle is gone the counter equals the items created, so the buffer never dropped them again.
pub fn handed_back_items_belong_to_caller<B: Backend>() {
    let counter = DropCounter::new();
    let (p, q) = new_buffer::<B, Tracked>(2);
    fill::<B>(&p, &counter, 0, 0..2);
    let full = p.try_send(counter.item(1, 0));
    assert!(
        matches!(&full, Err(TrySendError::Full(v)) if v.id() == (1, 0)),
        "{}: try_send on a full buffer must give Full with the same item",
        B::NAME
    );
    drop_owned::<B, _>(&counter, "Full", 1, full);

    let timeout = p.send_timeout(counter.item(1, 1), Duration::from_millis(1));
    assert!(
        matches!(&timeout, Err(SendTimeoutError::Timeout(v)) if v.id() == (1, 1)),
        "{}: send_timeout on a full buffer must give Timeout with the same item",
        B::NAME
    );
    drop_owned::<B, _>(&counter, "Timeout", 1, timeout);

    let kept = match p.try_send(counter.item(1, 2)) {
        Err(e @ TrySendError::Full(_)) => e.into_inner(),
        other => panic!("{}: try_send on a full buffer gave {other:?}", B::NAME),
    };
    assert_eq!(
        kept.id(),
        (1, 2),
        "{}: into_inner gave another item",
        B::NAME
    );

    if B::CAPABILITIES.closes() {
        refused_after_close::<B>(&p, &counter);
    }

    let mut drained = drain_ids::<B>(&q);
    drained.sort_unstable();
    assert_eq!(
        drained,
        id_range(0, 0, 2),
        "{}: the refused items got into the buffer",
        B::NAME
    );
    drop((p, q));
    assert_eq!(
        counter.dropped() + 1,
        counter.created(),
        "{}: with the buffer gone only the kept item is alive",
        B::NAME
    );
    assert_eq!(kept.id(), (1, 2), "{}: the kept item", B::NAME);
    drop(kept);
    assert_all_dropped::<B>(&counter, "items handed back");
    parked_send_keeps_its_item::<B>();
}

/// A producer parked on a full buffer when the last consumer drops gets `Disconnected` with its
/// item, which the buffer never drops: the counter counts the buffered item once, when the
/// backend declares, and the handed-back one only when its owner drops the error.
fn parked_send_keeps_its_item<B: Backend>() {
    let counter = DropCounter::new();
    let (p, q) = new_buffer::<B, Tracked>(1);
    fill::<B>(&p, &counter, 0, 0..1);
    let parked = {
        let (p, item) = (p.clone(), counter.item(1, 0));
        spawn_probe(move || p.send(item))
    };
    parked.assert_blocked("send on a full buffer");
    drop(q);
    let woken = parked.join();
    assert!(
        matches!(&woken, Err(SendError(v)) if v.id() == (1, 0)),
        "{}: the parked send must come back with Disconnected and its item",
        B::NAME
    );
    let buffered_dropped =
        usize::from(B::CAPABILITIES.buffered_drop == BufferedDrop::OnLastConsumer);
    assert_eq!(
        counter.dropped(),
        buffered_dropped,
        "{}: after the last consumer dropped",
        B::NAME
    );
    drop(p);
    assert_eq!(
        counter.dropped(),
        1,
        "{}: after every handle dropped",
        B::NAME
    );
    drop(woken);
    assert_eq!(
        counter.dropped(),
        2,
        "{}: the handed-back item is dropped once, by its owner",
        B::NAME
    );
}

/// Drops `owner`, which owns `items` tracked items, and checks that exactly those are dropped.
fn drop_owned<B: Backend, E>(counter: &DropCounter, what: &str, items: usize, owner: E) {
    let before = counter.dropped();
    drop(owner);
    assert_eq!(
        counter.dropped(),
        before + items,
        "{}: dropping the {what} error must drop its {items} item(s), once",
        B::NAME
    );
}

/// After `close()`, every form of send is refused with `Disconnected` and
/// hands back the very item it was given, which the caller then owns and drops.
fn refused_after_close<B: Backend>(p: &B::Producer<Tracked>, counter: &DropCounter) {
    p.close();
    let send = p.send(counter.item(1, 3));
    assert!(
        matches!(&send, Err(SendError(v)) if v.id() == (1, 3)),
        "{}: send after close must give Disconnected with the same item",
        B::NAME
    );
    drop_owned::<B, _>(counter, "send's Disconnected", 1, send);
    let try_send = p.try_send(counter.item(1, 4));
    assert!(
        matches!(&try_send, Err(TrySendError::Disconnected(v)) if v.id() == (1, 4)),
        "{}: try_send after close must give Disconnected with the same item",
        B::NAME
    );
    drop_owned::<B, _>(counter, "try_send's Disconnected", 1, try_send);
    let timed = p.send_timeout(counter.item(1, 5), Duration::ZERO);
    assert!(
        matches!(&timed, Err(SendTimeoutError::Disconnected(v)) if v.id() == (1, 5)),
        "{}: send_timeout after close must give Disconnected with the same item",
        B::NAME
    );
    drop_owned::<B, _>(counter, "send_timeout's Disconnected", 1, timed);
    let batch = p.send_batch((6..9).map(|seq| counter.item(1, seq)));
    match &batch {
        Err(SendBatchError { sent: 0, unsent }) => assert_eq!(
            ids(unsent),
            id_range(1, 6, 9),
            "{}: send_batch after close handed back other items",
            B::NAME
        ),
        other => panic!("{}: send_batch after close gave {other:?}", B::NAME),
    }
    drop_owned::<B, _>(counter, "send_batch's", 3, batch);
}

/// Bounded memory, measured in live items.
///
/// There is no allocator hook, so the suite counts what the buffer can keep alive: one producer
/// and one consumer move `scaled(100_000)` items through capacity 16. The producer is the only
/// creator and the consumer the only dropper, so the live count each of them reads is exact (or,
/// for the producer, an underestimate) at the moment of reading: after every accepted send and
/// after every dropped receive it must be at most the capacity plus the one item the other side
/// may hold. Then `scaled(50)` bursts fill a capacity-64 buffer to full (the next `try_send`
/// gives `Full` with its item) and drain it: after each cycle nothing is alive and `len()` is 0.
///
/// This proves the buffer never holds more than its capacity of items, frees every slot's item
/// when it is received, and accumulates nothing from cycle to cycle. It does not see memory the
/// backend keeps without items in it, such as spare capacity of a grown queue.
pub fn bounded_memory<B: Backend>() {
    steady_stream_stays_within_capacity::<B>();
    bursts_leave_nothing_alive::<B>();
}

/// One producer and one consumer move `scaled(100_000)` items through capacity 16, each
/// checking after every operation that at most the capacity plus one item is alive.
fn steady_stream_stays_within_capacity<B: Backend>() {
    const CAPACITY: usize = 16;
    let counter = DropCounter::new();
    let fifo = B::CAPABILITIES.preserves_producer_order();
    let pairs = scaled(100_000) as u64;
    let (p, q) = new_buffer::<B, Tracked>(CAPACITY);
    thread::scope(|s| {
        s.spawn(|| {
            for seq in 0..pairs {
                if let Err(e) = p.send(counter.item(0, seq)) {
                    panic!("{}: send with every handle alive failed: {e}", B::NAME);
                }
                let alive = counter.alive();
                assert!(
                    alive <= CAPACITY + 1,
                    "{}: {alive} items alive after send {seq}, capacity {CAPACITY}",
                    B::NAME
                );
            }
        });
        s.spawn(|| {
            for seq in 0..pairs {
                let item = match q.recv() {
                    Ok(item) => item,
                    Err(e) => panic!("{}: recv with every handle alive failed: {e}", B::NAME),
                };
                if fifo {
                    assert_eq!(item.id(), (0, seq), "{}: FIFO order", B::NAME);
                }
                drop(item);
                let alive = counter.alive();
                assert!(
                    alive <= CAPACITY + 1,
                    "{}: {alive} items alive after receive {seq}, capacity {CAPACITY}",
                    B::NAME
                );
            }
        });
    });
    assert_eq!(
        (counter.alive(), q.len()),
        (0, 0),
        "{}: (alive, len) after the steady state",
        B::NAME
    );
}

/// `scaled(50)` cycles fill a capacity-64 buffer until `try_send` says `Full` and drain it:
/// after each cycle nothing is alive and `len()` is 0.
fn bursts_leave_nothing_alive<B: Backend>() {
    const BURST: usize = 64;
    let counter = DropCounter::new();
    let (p, q) = new_buffer::<B, Tracked>(BURST);
    for cycle in 0..scaled(50) as u64 {
        let first = cycle * 1_000;
        fill::<B>(&p, &counter, 0, first..first + BURST as u64);
        match p.try_send(counter.item(1, cycle)) {
            Err(TrySendError::Full(v)) => {
                assert_eq!(v.id(), (1, cycle), "{}: Full's item", B::NAME)
            }
            other => panic!("{}: try_send on a full buffer gave {other:?}", B::NAME),
        }
        assert_eq!(
            counter.alive(),
            BURST,
            "{}: alive with the buffer full, cycle {cycle}",
            B::NAME
        );
        assert_eq!(
            in_checked_order::<B>(drain_ids::<B>(&q)),
            id_range(0, first, first + BURST as u64),
            "{}: drain of cycle {cycle}",
            B::NAME
        );
        assert_eq!(
            (counter.alive(), q.len()),
            (0, 0),
            "{}: (alive, len) after cycle {cycle}",
            B::NAME
        );
    }
}

/// The message of a [`Bomb`]'s panic, to tell it from any other panic.
const BOMB: &str = "conformance: a payload's Drop panicked on purpose";

/// A payload for the panicking-drop behaviours: counts its drops per id, may call back into the
/// buffer from `Drop`, and may panic in `Drop`.
struct Bomb {
    id: usize,
    armed: bool,
    drops: Arc<[AtomicUsize]>,
    on_drop: Option<Box<dyn FnOnce() + Send>>,
}

impl Bomb {
    fn new(id: usize, armed: bool, drops: &Arc<[AtomicUsize]>) -> Self {
        Self {
            id,
            armed,
            drops: Arc::clone(drops),
            on_drop: None,
        }
    }
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, SeqCst);
        if let Some(hook) = self.on_drop.take() {
            hook();
        }
        if self.armed {
            panic!("{BOMB}");
        }
    }
}

/// Whether a caught panic is a [`Bomb`]'s.
fn is_bomb(payload: &(dyn std::any::Any + Send)) -> bool {
    payload.downcast_ref::<&str>().is_some_and(|s| *s == BOMB)
        || payload.downcast_ref::<String>().is_some_and(|s| s == BOMB)
}

/// A buffered payload whose `Drop` panics causes no double drop and no deadlock, and the
/// buffer does not drop user values while holding its lock.
///
/// A full buffer of four payloads, one of them panicking in `Drop`; a producer parked on it.
/// Where the buffer drops its items with the last consumer, the first item's `Drop` also calls
/// back into the buffer through a producer clone (`is_closed`, `len`, `try_send`) and drops that
/// clone: a backend that drops user values under its own lock deadlocks there, and the watchdog
/// names it. When the handle whose drop drops the items goes, a panic, if one comes out, is the
/// payload's own; the panicking item was dropped exactly once and no item twice (items after the
/// panicking one may leak, as Rust allows); the parked producer still gets `Disconnected` with
/// its item, and later sends too, so a panic half-way through the drop lost no wake-up; the
/// callback ran to its end.
pub fn panicking_buffered_drop_drops_once_without_deadlock<B: Backend>() {
    let drops: Arc<[AtomicUsize]> = (0..8).map(|_| AtomicUsize::new(0)).collect();
    let on_last_consumer = B::CAPABILITIES.buffered_drop == BufferedDrop::OnLastConsumer;
    let callback = Arc::new(Mutex::new(None));
    let (p, q) = bombs_in_full_buffer::<B>(&drops, on_last_consumer.then_some(&callback));
    let parked = {
        let (p, bomb) = (p.clone(), Bomb::new(4, false, &drops));
        spawn_probe(move || p.send(bomb).map_err(|SendError(b)| b))
    };
    parked.assert_blocked("send on a full buffer");
    let count = |id: usize| drops[id].load(SeqCst);
    dropped_quietly::<B, _>("last consumer", q);
    if on_last_consumer {
        assert_eq!(
            count(ARMED),
            1,
            "{}: the panicking item must be dropped, once, with the last consumer",
            B::NAME
        );
    } else {
        assert_eq!(
            count(ARMED),
            0,
            "{}: declares OnLastHandle, but items dropped with the last consumer",
            B::NAME
        );
    }
    let woken = parked.join();
    let started = std::time::Instant::now();
    assert!(
        matches!(&woken, Err(b) if b.id == 4),
        "{}: the parked producer must get Disconnected with its item after the panicking drop",
        B::NAME
    );
    match p.try_send(Bomb::new(5, false, &drops)) {
        Err(TrySendError::Disconnected(b)) => assert_eq!(b.id, 5, "{}: try_send's item", B::NAME),
        Err(TrySendError::Full(_)) => panic!("{}: try_send without consumers gave Full", B::NAME),
        Ok(()) => panic!("{}: try_send without consumers gave Ok", B::NAME),
    }
    assert!(
        started.elapsed() <= SLACK,
        "{}: sends after the panicking drop were slow",
        B::NAME
    );
    drop(woken);
    dropped_quietly::<B, _>("last producer", p);
    assert_eq!(
        count(ARMED),
        1,
        "{}: the panicking item must be dropped exactly once",
        B::NAME
    );
    if on_last_consumer && count(0) == 1 {
        let seen = *callback.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(
            seen,
            Some((true, true, true)),
            "{}: the callback from Drop must see (is_closed, len <= capacity, try_send refused)",
            B::NAME
        );
    }
    assert_no_double_drop::<B>(&drops);
}

/// The payload that panics in `Drop` among the four of [`bombs_in_full_buffer`].
const ARMED: usize = 1;

/// What the callback in a payload's `Drop` saw: (`is_closed`, `len <= capacity`, `try_send`
/// refused with `Disconnected`).
type CallbackReport = Arc<Mutex<Option<(bool, bool, bool)>>>;

/// A buffer of capacity 4 filled with payloads 0 to 3, payload [`ARMED`] panicking in `Drop`.
/// With `callback`, payload 0's `Drop` calls back into the buffer through a producer clone and
/// reports there what it saw.
fn bombs_in_full_buffer<B: Backend>(
    drops: &Arc<[AtomicUsize]>,
    callback: Option<&CallbackReport>,
) -> (B::Producer<Bomb>, B::Consumer<Bomb>) {
    let (p, q) = new_buffer::<B, Bomb>(4);
    for id in 0..4 {
        let mut bomb = Bomb::new(id, id == ARMED, drops);
        if let (0, Some(report)) = (id, callback) {
            // Only where the buffer drops its items with the last consumer: where it outlives
            // its consumers, the clone inside the item would keep the buffer, and so the item,
            // alive forever.
            let (p, report, spare) = (p.clone(), Arc::clone(report), Bomb::new(7, false, drops));
            bomb.on_drop = Some(Box::new(move || {
                let refused = matches!(p.try_send(spare), Err(TrySendError::Disconnected(_)));
                let seen = (p.is_closed(), p.len() <= p.capacity(), refused);
                drop(p);
                *report.lock().unwrap_or_else(|e| e.into_inner()) = Some(seen);
            }));
        }
        if p.try_send(bomb).is_err() {
            panic!("{}: try_send below capacity failed", B::NAME);
        }
    }
    (p, q)
}

/// Drops `handle`, the last `what`; a panic, if one comes out, must be a payload's own.
fn dropped_quietly<B: Backend, H>(what: &str, handle: H) {
    if let Err(payload) = quietly(move || drop(handle)) {
        assert!(
            is_bomb(&*payload),
            "{}: dropping the {what} panicked with something else than the payload's panic",
            B::NAME
        );
    }
}

/// No payload was dropped twice, and the handed-back payloads 4 and 5 exactly once, by their
/// owner.
fn assert_no_double_drop<B: Backend>(drops: &[AtomicUsize]) {
    let count = |id: usize| drops[id].load(SeqCst);
    for id in 0..drops.len() {
        assert!(
            count(id) <= 1,
            "{}: payload {id} was dropped {} times",
            B::NAME,
            count(id)
        );
    }
    for id in [4, 5] {
        assert_eq!(
            count(id),
            1,
            "{}: handed-back payload {id} must be dropped once, by its owner",
            B::NAME
        );
    }
}

/// A received payload whose `Drop` panics on the consumer's thread leaves the buffer working:
/// the panic is the payload's own, and the next items go through, on one thread and across
/// two.
pub fn panicking_received_drop_keeps_buffer_usable<B: Backend>() {
    let drops: Arc<[AtomicUsize]> = (0..8).map(|_| AtomicUsize::new(0)).collect();
    let (p, q) = new_buffer::<B, Bomb>(2);
    if p.try_send(Bomb::new(0, true, &drops)).is_err() {
        panic!("{}: try_send into an empty buffer failed", B::NAME);
    }
    let first = quietly(|| drop(q.recv()));
    assert!(
        first.as_ref().is_err_and(|payload| is_bomb(&**payload)),
        "{}: the payload's panic",
        B::NAME
    );
    if p.try_send(Bomb::new(1, false, &drops)).is_err() {
        panic!("{}: try_send after a payload panicked failed", B::NAME);
    }
    let rest = [q.try_recv().map(|b| b.id), q.try_recv().map(|b| b.id)];
    assert_eq!(
        rest,
        [Ok(1), Err(TryRecvError::Empty)],
        "{}: the buffer after a payload panicked on the consumer's thread",
        B::NAME
    );
    thread::scope(|s| {
        let receiver = s.spawn(|| q.recv().map(|b| b.id));
        if p.send(Bomb::new(6, false, &drops)).is_err() {
            panic!("{}: send after a payload panicked failed", B::NAME);
        }
        assert_eq!(
            joined(receiver),
            Ok(6),
            "{}: hand-over after a payload panicked",
            B::NAME
        );
    });
}
