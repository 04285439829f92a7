//! Timed operations. Lower bounds on timeouts are hard; upper bounds are
//! soft ([`SLACK`]); a sleep only makes a race more likely, the verdict is the returned variant.

use std::thread;
use std::time::{Duration, Instant};

use crate::expect_same_items;
use crate::support::{DropCounter, EPSILON, SLACK, Tracked, new_buffer, scaled, spawn_probe};
use buffer_api::{
    Backend, Consumer, Handle, Producer, RecvTimeoutError, SendTimeoutError, TryRecvError,
};

/// Checks that `recv_timeout(d)` on `q`, which has nothing to receive (`what` says why), gives
/// `Timeout` no sooner than `d` and less than [`SLACK`] after it.
pub(super) fn assert_recv_times_out<B: Backend>(q: &B::Consumer<Tracked>, d: Duration, what: &str) {
    let started = Instant::now();
    assert_eq!(
        q.recv_timeout(d).map(|t| t.id()),
        Err(RecvTimeoutError::Timeout),
        "{}: recv_timeout({d:?}) {what}",
        B::NAME
    );
    assert_timed_out_on_time::<B>(started, d, &format!("recv_timeout({d:?}) {what}"));
}

/// Checks that a wait `op` begun at `started` with timeout `d` lasted at least `d` (a hard
/// bound) and less than [`SLACK`] more (a soft one).
fn assert_timed_out_on_time<B: Backend>(started: Instant, d: Duration, op: &str) {
    let took = started.elapsed();
    assert!(
        took >= d,
        "{}: {op} returned early, after {took:?}",
        B::NAME
    );
    assert!(took < d + SLACK, "{}: {op} took {took:?}", B::NAME);
}

/// Checks that `send_timeout(item, d)` on `p`, which has no room for it (`what` says why), gives
/// `Timeout` with that same item, no sooner than `d` and less than [`SLACK`] after it.
pub(super) fn assert_send_times_out<B: Backend>(
    p: &B::Producer<Tracked>,
    item: Tracked,
    d: Duration,
    what: &str,
) {
    let (id, started) = (item.id(), Instant::now());
    match p.send_timeout(item, d) {
        Err(SendTimeoutError::Timeout(back)) => assert_eq!(
            back.id(),
            id,
            "{}: send_timeout({d:?}) {what}: Timeout carried another item",
            B::NAME
        ),
        other => panic!("{}: send_timeout({d:?}) {what} gave {other:?}", B::NAME),
    }
    assert_timed_out_on_time::<B>(started, d, &format!("send_timeout({d:?}) {what}"));
}

/// `recv_timeout(d)` on an idle empty buffer returns `Timeout` after at least `d`, for
/// 1, 10 and 100 ms; `send_timeout(v, d)` on a full buffer returns `Timeout(v)` with the same
/// item, never early, and leaves the buffer unchanged. The `_deadline` forms alike.
pub fn timeouts_never_early<B: Backend>() {
    let counter = DropCounter::new();
    let (tx, rx) = new_buffer::<B, Tracked>(2);
    for ms in [1, 10, 100] {
        let d = Duration::from_millis(ms);
        assert_recv_times_out::<B>(&rx, d, "on an idle empty buffer");

        let started = Instant::now();
        assert_eq!(
            rx.recv_deadline(started + d).map(|t| t.id()),
            Err(RecvTimeoutError::Timeout)
        );
        assert!(
            started.elapsed() >= d,
            "{}: recv_deadline returned early",
            B::NAME
        );
    }
    tx.send(counter.item(0, 0)).expect("open");
    tx.send(counter.item(0, 1)).expect("open");
    for ms in [1u64, 10, 100] {
        let d = Duration::from_millis(ms);
        assert_send_times_out::<B>(&tx, counter.item(1, ms), d, "on a full buffer");
        let started = Instant::now();
        match tx.send_deadline(counter.item(2, ms), started + d) {
            Err(SendTimeoutError::Timeout(item)) => assert_eq!(item.id(), (2, ms)),
            other => panic!("{}: send_deadline on a full buffer gave {other:?}", B::NAME),
        }
        assert!(
            started.elapsed() >= d,
            "{}: send_deadline returned early",
            B::NAME
        );
    }
    assert_eq!(
        rx.len(),
        2,
        "{}: a timed-out send changed the buffer",
        B::NAME
    );
    let got: Vec<(usize, u64)> = (0..2)
        .map(|_| rx.try_recv().expect("buffered").id())
        .collect();
    expect_same_items::<B, _>(&got, &[(0, 0), (0, 1)], "contents after timed-out sends");
    assert_eq!(counter.alive(), 0);
}

/// With work available, a zero timeout or a past deadline still succeeds: the
/// operation is tried once before the clock is read.
pub fn zero_timeout_with_work<B: Backend>() {
    let (tx, rx) = new_buffer::<B, u64>(2);
    let past = Instant::now();
    thread::sleep(Duration::from_millis(2));
    assert_eq!(
        tx.send_timeout(1, Duration::ZERO),
        Ok(()),
        "{}: send_timeout(0) with room",
        B::NAME
    );
    assert_eq!(
        tx.send_deadline(2, past),
        Ok(()),
        "{}: send_deadline(past) with room",
        B::NAME
    );
    let mut got = [rx.recv_timeout(Duration::ZERO), rx.recv_deadline(past)];
    if !B::CAPABILITIES.preserves_producer_order() {
        // The order is the discipline's business (`discipline_one_thread` and
        // `discipline_concurrent_fill` check it); both must come out.
        got.sort_by_key(|r| r.map_or(u64::MAX, |i| i));
    }
    assert_eq!(
        got,
        [Ok(1), Ok(2)],
        "{}: recv_timeout(0), then recv_deadline(past), with items buffered",
        B::NAME
    );
    assert_eq!(
        rx.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Timeout)
    );
    tx.send(3).expect("open");
    tx.send(4).expect("open");
    assert_eq!(
        tx.send_timeout(5, Duration::ZERO),
        Err(SendTimeoutError::Timeout(5))
    );
}

/// A pending `recv_timeout` returns the item when a send happens while it waits, and a
/// pending `send_timeout` on a full buffer completes when a recv makes room; neither waits for
/// its timeout.
pub fn timeout_early_wake<B: Backend>() {
    let (tx, rx) = new_buffer::<B, u64>(1);
    let receiver = rx.clone();
    let waiting = Instant::now();
    let probe = spawn_probe(move || receiver.recv_timeout(SLACK));
    thread::sleep(Duration::from_millis(100));
    tx.send(42).expect("open");
    assert_eq!(
        probe.join(),
        Ok(42),
        "{}: the pending recv_timeout gets the item",
        B::NAME
    );
    assert!(
        waiting.elapsed() < SLACK,
        "{}: recv_timeout waited for its timeout",
        B::NAME
    );

    tx.send(1).expect("open");
    let sender = tx.clone();
    let waiting = Instant::now();
    let probe = spawn_probe(move || sender.send_timeout(2, SLACK));
    thread::sleep(Duration::from_millis(100));
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(
        probe.join(),
        Ok(()),
        "{}: the pending send_timeout completes",
        B::NAME
    );
    assert!(
        waiting.elapsed() < SLACK,
        "{}: send_timeout waited for its timeout",
        B::NAME
    );
    assert_eq!(rx.recv(), Ok(2));
}

/// `Duration::MAX` timeouts neither panic nor return early: they behave like the
/// blocking calls and still wake on a send, a recv or a close.
pub fn huge_timeouts<B: Backend>() {
    let (tx, rx) = new_buffer::<B, u64>(1);
    let receiver = rx.clone();
    let probe = spawn_probe(move || receiver.recv_timeout(Duration::MAX));
    probe.assert_blocked("recv_timeout(Duration::MAX) on an empty buffer");
    tx.send(7).expect("open");
    assert_eq!(
        probe.join(),
        Ok(7),
        "{}: recv_timeout(MAX) wakes on a send",
        B::NAME
    );

    tx.send(8).expect("open");
    let sender = tx.clone();
    let probe = spawn_probe(move || sender.send_timeout(9, Duration::MAX));
    probe.assert_blocked("send_timeout(Duration::MAX) on a full buffer");
    assert_eq!(rx.recv(), Ok(8));
    assert_eq!(
        probe.join(),
        Ok(()),
        "{}: send_timeout(MAX) wakes on a recv",
        B::NAME
    );

    if !B::CAPABILITIES.closes() {
        // The rest wakes huge timeouts with close().
        return;
    }
    let sender = tx.clone();
    let probe = spawn_probe(move || sender.send_timeout(10, Duration::MAX));
    probe.assert_blocked("send_timeout(Duration::MAX) on a full buffer");
    assert!(rx.close(), "{}: close() on an open buffer", B::NAME);
    assert_eq!(
        probe.join(),
        Err(SendTimeoutError::Disconnected(10)),
        "{}: send_timeout(MAX) wakes on close",
        B::NAME
    );
    assert_eq!(
        rx.recv_timeout(Duration::MAX),
        Ok(9),
        "{}: the accepted item is still received",
        B::NAME
    );
    assert_eq!(
        rx.recv_timeout(Duration::MAX),
        Err(RecvTimeoutError::Disconnected)
    );

    let (tx, rx) = new_buffer::<B, u64>(1);
    let probe = spawn_probe(move || rx.recv_timeout(Duration::MAX));
    probe.assert_blocked("recv_timeout(Duration::MAX) on an empty buffer");
    tx.close();
    assert_eq!(
        probe.join(),
        Err(RecvTimeoutError::Disconnected),
        "{}: recv_timeout(MAX) wakes on close",
        B::NAME
    );
}

/// No stealing after a timeout: after `recv_timeout` gave `Timeout`, the next send goes
/// to the next recv; after `send_timeout` gave `Timeout(v)`, `v` is not in the buffer.
pub fn no_stealing_after_timeout<B: Backend>() {
    let (tx, rx) = new_buffer::<B, u64>(2);
    for round in 0..scaled(20) as u64 {
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(1)),
            Err(RecvTimeoutError::Timeout)
        );
        tx.send(round).expect("open");
        assert_eq!(
            rx.try_recv(),
            Ok(round),
            "{}: the item after a timed-out recv",
            B::NAME
        );
    }
    tx.send(100).expect("open");
    tx.send(101).expect("open");
    for v in 200..200 + scaled(5) as u64 {
        assert_eq!(
            tx.send_timeout(v, Duration::from_millis(1)),
            Err(SendTimeoutError::Timeout(v))
        );
    }
    let got = vec![
        rx.try_recv().expect("buffered"),
        rx.try_recv().expect("buffered"),
    ];
    expect_same_items::<B, _>(&got, &[100, 101], "contents after timed-out sends");
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "{}: a timed-out item was buffered",
        B::NAME
    );
}

/// A timed wait racing `close()` returns `Disconnected` promptly, not `Timeout` at the
/// end of its wait; a blocked `send_timeout` gets its own item back.
pub fn timeout_racing_close<B: Backend>() {
    if !B::CAPABILITIES.closes() {
        // A close behaviour: a backend without close is held to `close_unsupported` instead.
        return;
    }
    let (tx, rx) = new_buffer::<B, u64>(1);
    let receiver = rx.clone();
    let probe = spawn_probe(move || receiver.recv_timeout(SLACK));
    probe.assert_blocked("recv_timeout on an empty buffer");
    let closed_at = Instant::now();
    assert!(tx.close());
    assert_eq!(
        probe.join(),
        Err(RecvTimeoutError::Disconnected),
        "{}: recv_timeout racing close",
        B::NAME
    );
    assert!(
        closed_at.elapsed() < SLACK,
        "{}: recv_timeout was not woken by close",
        B::NAME
    );

    let (tx, rx) = new_buffer::<B, u64>(1);
    tx.send(1).expect("open");
    let sender = tx.clone();
    let probe = spawn_probe(move || sender.send_timeout(2, SLACK));
    probe.assert_blocked("send_timeout on a full buffer");
    assert!(rx.close());
    assert_eq!(
        probe.join(),
        Err(SendTimeoutError::Disconnected(2)),
        "{}: send_timeout racing close",
        B::NAME
    );
    assert_eq!(rx.recv_timeout(SLACK), Ok(1));
    assert_eq!(rx.recv_timeout(SLACK), Err(RecvTimeoutError::Disconnected));
}

/// 100 items through capacity 2, both sides retrying with 10 ms timeouts and pausing
/// every other item: all arrive exactly once, in order (for FIFO).
pub fn timed_stress<B: Backend>() {
    let n = scaled(100) as u64;
    let (tx, rx) = new_buffer::<B, u64>(2);
    let got = thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n {
                let mut item = i;
                loop {
                    match tx.send_timeout(item, Duration::from_millis(10)) {
                        Ok(()) => break,
                        Err(SendTimeoutError::Timeout(back)) => {
                            assert_eq!(back, i, "{}: Timeout carried another item", B::NAME);
                            item = back;
                        }
                        Err(e) => panic!("{}: send_timeout refused: {e}", B::NAME),
                    }
                }
                if i % 2 == 0 {
                    thread::sleep(EPSILON / 10);
                }
            }
        });
        let mut got = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(v) => {
                    got.push(v);
                    if v % 2 == 1 {
                        thread::sleep(EPSILON / 10);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break got,
            }
        }
    });
    let expected: Vec<u64> = (0..n).collect();
    expect_same_items::<B, _>(&got, &expected, "timed stress");
}
