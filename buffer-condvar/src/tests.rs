//! Tests of what is specific to this backend: the rendezvous hand-off under deadlines and
//! disconnects, native batches, and user values never dropped under the lock. The generic
//! behaviour is checked by the conformance suite in `tests/conformance.rs`.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use buffer_api::{
    Backend, Consumer, Handle, Producer, RecvError, RecvTimeoutError, SendBatchError, SendError,
    SendTimeoutError, TryRecvError, TrySendError,
};

use crate::shared::{Shared, State};
use crate::{CondvarConsumer, CondvarFifo, CondvarProducer};

/// How long one test may run before it counts as hung.
const WATCHDOG: Duration = Duration::from_secs(60);

/// `n` times `BUFFER_CONFORMANCE_SCALE` (default 1), the suite's soak multiplier.
fn scaled(n: usize) -> usize {
    let scale = std::env::var("BUFFER_CONFORMANCE_SCALE")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(1);
    n * scale.max(1)
}

/// Runs `test` on its own thread and fails if it hangs; a panic is re-raised. The test harness
/// names the test that failed.
fn watchdog(test: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        test();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(WATCHDOG) {
        Ok(()) => handle.join().expect("the test finished"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(()) => unreachable!("the test ended without reporting"),
            Err(payload) => panic::resume_unwind(payload),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hung for more than {WATCHDOG:?}"),
    }
}

fn buffer<T: Send + 'static>(capacity: usize) -> (CondvarProducer<T>, CondvarConsumer<T>) {
    CondvarFifo::bounded(capacity).expect("a valid capacity")
}

/// Reads the locked state, for tests that must know where other threads stand.
fn peek<T, C, R>(shared: &Shared<T, C>, f: impl FnOnce(&State<T, C>) -> R) -> R {
    f(&shared.state.lock())
}

/// Yields until `cond` holds.
fn until(cond: impl Fn() -> bool) {
    while !cond() {
        thread::yield_now();
    }
}

/// Parks a receiver on `rx` (it is counted in `recv_waiters`), then hands it `item` with
/// `send`, which must succeed, and asserts that the receiver wakes with it: nothing but that
/// send's notification can wake it.
fn assert_a_parked_receiver_gets(
    tx: &CondvarProducer<u32>,
    rx: &CondvarConsumer<u32>,
    item: u32,
    send: impl FnOnce(u32) -> Result<(), u32>,
) {
    thread::scope(|s| {
        let receiver = s.spawn(|| rx.recv());
        until(|| peek(&tx.shared, |st| st.recv_waiters) == 1);
        assert_eq!(send(item), Ok(()));
        assert_eq!(receiver.join().expect("no panic"), Ok(item));
    });
}

/// Runs `check` under the [`watchdog`] on a fresh buffer of `T` at `capacity`, then asserts
/// that the buffer is quiescent: `check` must leave no thread or item behind.
fn quiescent_after<T: Send + 'static>(
    capacity: usize,
    check: impl FnOnce(&CondvarProducer<T>, &CondvarConsumer<T>) + Send + 'static,
) {
    watchdog(move || {
        let (tx, rx) = buffer::<T>(capacity);
        check(&tx, &rx);
        assert_quiescent(&tx.shared);
    });
}

/// Asserts that a quiescent buffer has no thread or item left in its bookkeeping.
fn assert_quiescent<T, C>(shared: &Shared<T, C>) {
    peek(shared, |st| {
        assert_eq!(st.send_waiters, 0, "send_waiters");
        assert_eq!(st.recv_waiters, 0, "recv_waiters");
        assert_eq!(st.demand, 0, "demand");
        assert_eq!(st.offers.len(), 0, "offers");
        assert_eq!(st.handoff.len(), 0, "handoff");
    });
}

#[test]
fn rendezvous_send_timeout_takes_its_item_back() {
    quiescent_after::<String>(0, |tx, rx| {
        let start = Instant::now();
        let result = tx.send_timeout("mine".to_owned(), Duration::from_millis(10));
        assert!(start.elapsed() >= Duration::from_millis(10));
        assert_eq!(result, Err(SendTimeoutError::Timeout("mine".to_owned())));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(tx.len(), 0);
    });
}

#[test]
fn rendezvous_recv_timeout_leaves_no_demand() {
    quiescent_after::<u32>(0, |tx, rx| {
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(10)),
            Err(RecvTimeoutError::Timeout)
        );
        assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    });
}

#[test]
fn rendezvous_try_recv_takes_a_blocked_senders_item() {
    quiescent_after::<u32>(0, |tx, rx| {
        thread::scope(|s| {
            let sender = s.spawn(|| tx.send(5));
            let got = loop {
                match rx.try_recv() {
                    Ok(v) => break v,
                    Err(e) => assert_eq!(e, TryRecvError::Empty),
                }
                thread::yield_now();
            };
            assert_eq!(got, 5);
            assert_eq!(sender.join().expect("no panic"), Ok(()));
        });
    });
}

/// A hand-off at capacity 0 wakes the receiver it is for, even when that receiver has
/// finished spinning and parked: nothing else would ever wake it.
#[test]
fn rendezvous_a_hand_off_wakes_a_parked_receiver() {
    quiescent_after::<u32>(0, |tx, rx| {
        assert_a_parked_receiver_gets(tx, rx, 9, |item| tx.try_send(item).map_err(|_| item));
    });
}

#[test]
fn rendezvous_try_send_reaches_a_blocked_receiver() {
    quiescent_after::<u32>(0, |tx, rx| {
        thread::scope(|s| {
            let receiver = s.spawn(|| rx.recv());
            let mut item = 9;
            loop {
                match tx.try_send(item) {
                    Ok(()) => break,
                    Err(TrySendError::Full(v)) => item = v,
                    Err(TrySendError::Disconnected(_)) => panic!("disconnected"),
                }
                thread::yield_now();
            }
            assert_eq!(receiver.join().expect("no panic"), Ok(9));
        });
    });
}

/// Spins (without yielding, to hit `target` closely) until `target` has passed.
fn spin_until(target: Instant) {
    while Instant::now() < target {
        std::hint::spin_loop();
    }
}

/// A point near `deadline`, from 300 µs before to 300 µs after it, varying with `round`.
fn near(deadline: Instant, round: usize) -> Instant {
    let offset = Duration::from_micros((round % 7) as u64 * 100);
    (deadline + offset)
        .checked_sub(Duration::from_micros(300))
        .expect("deadline is in the future")
}

/// A timed receiver and a `try_send` racing its deadline: the send succeeds exactly when the
/// receiver gets the item, never leaving it with nobody.
#[test]
fn rendezvous_timed_receiver_never_strands_an_item() {
    watchdog(|| {
        let (mut handed, mut timed_out) = (0, 0);
        for round in 0..scaled(300) {
            let (tx, rx) = buffer::<usize>(0);
            let deadline = Instant::now() + Duration::from_millis(2);
            thread::scope(|s| {
                let receiver = s.spawn(|| rx.recv_deadline(deadline));
                until(|| peek(&tx.shared, |st| st.demand) == 1 || receiver.is_finished());
                spin_until(near(deadline, round));
                let sent = tx.try_send(round);
                let got = receiver.join().expect("no panic");
                match sent {
                    Ok(()) => {
                        assert_eq!(got, Ok(round));
                        handed += 1;
                    }
                    Err(TrySendError::Full(v)) => {
                        assert_eq!(v, round);
                        assert_eq!(got, Err(RecvTimeoutError::Timeout));
                        timed_out += 1;
                    }
                    Err(TrySendError::Disconnected(_)) => panic!("disconnected"),
                }
            });
            assert_quiescent(&tx.shared);
        }
        assert_eq!(handed + timed_out, scaled(300));
    });
}

/// A timed sender and a `try_recv` racing its deadline: the sender gets its own item back
/// exactly when the receiver did not take it.
#[test]
fn rendezvous_timed_sender_gets_back_exactly_what_was_not_taken() {
    watchdog(|| {
        for round in 0..scaled(300) {
            let (tx, rx) = buffer::<usize>(0);
            let deadline = Instant::now() + Duration::from_millis(2);
            thread::scope(|s| {
                let sender = s.spawn(|| tx.send_deadline(round, deadline));
                until(|| peek(&rx.shared, |st| st.offers.len()) == 1 || sender.is_finished());
                spin_until(near(deadline, round));
                let got = rx.try_recv();
                let sent = sender.join().expect("no panic");
                match got {
                    Ok(v) => {
                        assert_eq!(v, round);
                        assert_eq!(sent, Ok(()));
                    }
                    Err(e) => {
                        assert_eq!(e, TryRecvError::Empty);
                        assert_eq!(sent, Err(SendTimeoutError::Timeout(round)));
                    }
                }
            });
            assert_quiescent(&rx.shared);
        }
    });
}

/// Many senders and receivers at capacity 0, all with short deadlines and retrying: every item
/// is received exactly once, and every successful send matches one receipt.
#[test]
fn rendezvous_timed_many_to_many_is_exactly_once() {
    watchdog(|| {
        const SENDERS: usize = 4;
        const RECEIVERS: usize = 4;
        let per_sender = scaled(500);
        let (tx, rx) = buffer::<(usize, usize)>(0);
        let oks = AtomicUsize::new(0);
        let handed_back = AtomicUsize::new(0);
        let received = thread::scope(|s| {
            for p in 0..SENDERS {
                let tx = tx.clone();
                let (oks, handed_back) = (&oks, &handed_back);
                s.spawn(move || {
                    for seq in 0..per_sender {
                        let mut item = (p, seq);
                        let mut attempt = 0_u64;
                        loop {
                            let timeout = Duration::from_micros(attempt % 5 * 50);
                            attempt += 1;
                            let result = if attempt.is_multiple_of(3) {
                                tx.try_send(item).map_err(|e| {
                                    assert!(e.is_full());
                                    SendTimeoutError::Timeout(e.into_inner())
                                })
                            } else {
                                tx.send_timeout(item, timeout)
                            };
                            match result {
                                Ok(()) => break,
                                Err(SendTimeoutError::Timeout(v)) => {
                                    assert_eq!(v, (p, seq), "handed back a different item");
                                    handed_back.fetch_add(1, Ordering::Relaxed);
                                    item = v;
                                }
                                Err(SendTimeoutError::Disconnected(_)) => panic!("disconnected"),
                            }
                        }
                        oks.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            drop(tx);
            let receivers: Vec<_> = (0..RECEIVERS)
                .map(|r| {
                    let rx = rx.clone();
                    s.spawn(move || {
                        let mut got = Vec::new();
                        let mut attempt = r as u64;
                        loop {
                            attempt += 1;
                            let timeout = Duration::from_micros(attempt % 4 * 70);
                            match rx.recv_timeout(timeout) {
                                Ok(item) => got.push(item),
                                Err(RecvTimeoutError::Timeout) => {}
                                Err(RecvTimeoutError::Disconnected) => break got,
                            }
                        }
                    })
                })
                .collect();
            let mut all: Vec<(usize, usize)> = receivers
                .into_iter()
                .flat_map(|r| r.join().expect("no panic"))
                .collect();
            all.sort_unstable();
            all
        });
        let expected: Vec<(usize, usize)> = (0..SENDERS)
            .flat_map(|p| (0..per_sender).map(move |seq| (p, seq)))
            .collect();
        assert_eq!(received, expected);
        assert_eq!(oks.load(Ordering::Relaxed), SENDERS * per_sender);
        assert_quiescent(&rx.shared);
    });
}

/// Spawns `n` senders of the items `0..n` into the rendezvous buffer `tx`, and returns once
/// all of them are blocked with their offers pending.
fn spawn_offering_senders<'scope>(
    s: &'scope thread::Scope<'scope, '_>,
    tx: &'scope CondvarProducer<usize>,
    n: usize,
) -> Vec<thread::ScopedJoinHandle<'scope, Result<(), SendError<usize>>>> {
    let senders = (0..n).map(|i| s.spawn(move || tx.send(i))).collect();
    until(|| peek(&tx.shared, |st| st.offers.len()) == n);
    senders
}

/// Senders blocked at capacity 0 with offers pending get their own items back on close, and
/// none of those items is delivered afterwards.
#[test]
fn rendezvous_close_hands_pending_offers_back() {
    quiescent_after::<usize>(0, |tx, rx| {
        thread::scope(|s| {
            let senders = spawn_offering_senders(s, tx, 3);
            assert!(rx.close());
            for (i, sender) in senders.into_iter().enumerate() {
                assert_eq!(sender.join().expect("no panic").map_err(|e| e.0), Err(i));
            }
        });
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

/// A timed sender blocked at capacity 0 that a close wakes gets its item back as
/// `Disconnected`, not as `Timeout`: its deadline is still far off.
#[test]
fn rendezvous_close_hands_a_timed_senders_offer_back_as_disconnected() {
    quiescent_after::<u32>(0, |tx, rx| {
        thread::scope(|s| {
            let sender = s.spawn(|| tx.send_deadline(7, Instant::now() + WATCHDOG));
            until(|| peek(&tx.shared, |st| st.offers.len()) == 1);
            assert!(rx.close());
            assert_eq!(
                sender.join().expect("no panic"),
                Err(SendTimeoutError::Disconnected(7))
            );
        });
    });
}

/// A receiver registered at capacity 0 whose hand-off was filled still receives it when the
/// buffer closes before it wakes: the sender was told the item was received.
#[test]
fn rendezvous_close_after_handoff_still_delivers() {
    quiescent_after::<u32>(0, |tx, rx| {
        thread::scope(|s| {
            // Hold the lock so the receiver cannot pick its item up before the close.
            let receiver = s.spawn(|| rx.recv());
            until(|| peek(&tx.shared, |st| st.demand) == 1);
            let mut st = tx.shared.state.lock();
            // The same steps `try_send` takes, done here so the lock stays held.
            assert!(st.demand > st.handoff.len());
            st.handoff.push_back(3);
            st.disconnected = true;
            tx.shared.closed.store(true, Ordering::Release);
            drop(st);
            tx.shared.not_empty.notify_all();
            assert_eq!(receiver.join().expect("no panic"), Ok(3));
        });
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// A producer's next item must not overtake its previous one, still waiting in `handoff` for
/// a registered receiver: while `handoff` is not empty, offers stay where they are.
#[test]
fn rendezvous_offers_wait_while_a_handoff_is_pending() {
    quiescent_after::<u32>(0, |tx, rx| {
        thread::scope(|s| {
            // A registered receiver that has been handed item 1 and not yet picked it up.
            {
                let mut st = tx.shared.state.lock();
                st.demand = 1;
                st.handoff.push_back(1);
            }
            let sender = s.spawn(|| tx.send(2));
            until(|| peek(&tx.shared, |st| st.offers.len()) == 1);
            // Not even a try: the offer is there, but item 1 has not left `handoff`.
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            // That receiver picks item 1 up; now the offer may be taken.
            {
                let mut st = tx.shared.state.lock();
                assert_eq!(st.handoff.pop_front(), Some(1));
                st.demand -= 1;
            }
            assert_eq!(rx.try_recv(), Ok(2));
            assert_eq!(sender.join().expect("no panic"), Ok(()));
        });
    });
}

#[test]
fn rendezvous_recv_batch_takes_the_blocked_senders_offers() {
    quiescent_after::<usize>(0, |tx, rx| {
        thread::scope(|s| {
            let senders = spawn_offering_senders(s, tx, 3);
            let mut buf = Vec::new();
            assert_eq!(rx.recv_batch(&mut buf, 10), Ok(3));
            buf.sort_unstable();
            assert_eq!(buf, [0, 1, 2]);
            for sender in senders {
                assert_eq!(sender.join().expect("no panic"), Ok(()));
            }
        });
    });
}

#[test]
fn send_batch_hands_back_the_unsent_tail_on_close() {
    quiescent_after::<u32>(2, |tx, rx| {
        thread::scope(|s| {
            let sender = s.spawn(|| tx.send_batch(0..5));
            until(|| rx.len() == 2);
            assert!(rx.close());
            assert_eq!(
                sender.join().expect("no panic"),
                Err(SendBatchError {
                    sent: 2,
                    unsent: vec![2, 3, 4]
                })
            );
        });
        assert_eq!(rx.recv(), Ok(0));
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

#[test]
fn send_batch_larger_than_capacity_arrives_in_order() {
    watchdog(|| {
        let n = scaled(1000) as u32;
        let (tx, rx) = buffer::<u32>(3);
        let got = thread::scope(|s| {
            s.spawn(move || tx.send_batch(0..n).expect("the consumer is alive"));
            let mut got = Vec::new();
            let mut buf = Vec::new();
            while let Ok(k) = rx.recv_batch(&mut buf, 7) {
                assert!((1..=3).contains(&k), "took {k} from a buffer of 3");
                got.append(&mut buf);
            }
            got
        });
        assert_eq!(got, (0..n).collect::<Vec<_>>());
    });
}

/// `recv_batch` reserves room for what is buffered, not for what is asked: one item from a
/// buffer of capacity 2^20 with `max = usize::MAX` must not grow the caller's `Vec` to 2^20.
#[test]
fn recv_batch_reserves_what_is_there_not_what_is_asked() {
    watchdog(|| {
        let (tx, rx) = buffer::<u64>(1 << 20);
        tx.send(7).expect("open");
        let mut buf = Vec::new();
        assert_eq!(rx.recv_batch(&mut buf, usize::MAX), Ok(1));
        assert_eq!(buf, [7]);
        assert!(
            buf.capacity() < 1 << 10,
            "one item grew the Vec to {} slots",
            buf.capacity()
        );
    });
}

#[test]
fn recv_batch_takes_at_most_max_and_leaves_buf_alone_on_error() {
    watchdog(|| {
        let (tx, rx) = buffer::<u32>(8);
        tx.send_batch([10, 11, 12, 13, 14]).expect("room for five");
        assert_eq!(tx.len(), 5);
        let mut buf = vec![99];
        assert_eq!(rx.recv_batch(&mut buf, 0), Ok(0));
        assert_eq!(rx.recv_batch(&mut buf, 3), Ok(3));
        assert_eq!(buf, [99, 10, 11, 12]);
        assert_eq!(rx.len(), 2);
        assert_eq!(rx.recv_batch(&mut buf, 10), Ok(2));
        assert_eq!(buf, [99, 10, 11, 12, 13, 14]);
        assert!(tx.close());
        assert_eq!(rx.recv_batch(&mut buf, 10), Err(RecvError));
        assert_eq!(buf, [99, 10, 11, 12, 13, 14]);
        assert_eq!(
            tx.send_batch([1, 2]),
            Err(SendBatchError {
                sent: 0,
                unsent: vec![1, 2]
            })
        );
        assert_eq!(tx.send_batch(Vec::new()), Ok(()));
    });
}

#[test]
fn close_is_true_once_and_false_after_a_side_is_gone() {
    watchdog(|| {
        let (tx, rx) = buffer::<u8>(1);
        assert!(!tx.is_closed());
        assert!(tx.close());
        assert!(!rx.close());
        assert!(!tx.close());
        assert!(rx.is_closed() && tx.is_closed());

        let (tx, rx) = buffer::<u8>(1);
        let tx2 = tx.clone();
        drop(tx);
        assert!(!rx.is_closed());
        drop(tx2);
        assert!(rx.is_closed());
        assert!(!rx.close());
    });
}

/// A payload that, when dropped, takes the buffer's lock through `len()` on a handle of the
/// same buffer: dropped under the lock it would deadlock, which the watchdog reports.
struct Reentrant {
    probe: Option<CondvarProducer<Reentrant>>,
    drops: Arc<AtomicUsize>,
    panics: bool,
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        if let Some(probe) = self.probe.take() {
            assert!(probe.len() <= probe.capacity());
        }
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panics {
            panic!("a payload's Drop panicked on purpose");
        }
    }
}

fn reentrant(tx: &CondvarProducer<Reentrant>, drops: &Arc<AtomicUsize>, panics: bool) -> Reentrant {
    Reentrant {
        probe: Some(tx.clone()),
        drops: Arc::clone(drops),
        panics,
    }
}

/// Asserts that the last consumer's departure left `tx` closed and empty, and that a send it
/// refuses hands its item back to be dropped once, by the caller (`drops` counts one more).
fn assert_closed_and_empty_dropping_what_it_refuses(
    tx: &CondvarProducer<Reentrant>,
    drops: &Arc<AtomicUsize>,
) {
    assert!(tx.is_closed());
    assert_eq!(tx.len(), 0);
    let before = drops.load(Ordering::SeqCst);
    let refused = tx.try_send(reentrant(tx, drops, false));
    assert!(matches!(refused, Err(TrySendError::Disconnected(_))));
    drop(refused);
    assert_eq!(drops.load(Ordering::SeqCst), before + 1);
}

#[test]
fn buffered_items_are_dropped_outside_the_lock() {
    watchdog(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = buffer::<Reentrant>(4);
        for _ in 0..3 {
            assert!(tx.try_send(reentrant(&tx, &drops, false)).is_ok());
        }
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(rx);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
        assert_closed_and_empty_dropping_what_it_refuses(&tx, &drops);
    });
}

#[test]
fn handed_back_items_are_dropped_outside_the_lock() {
    watchdog(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        for capacity in [0, 1] {
            let (tx, rx) = buffer::<Reentrant>(capacity);
            if capacity == 1 {
                assert!(tx.try_send(reentrant(&tx, &drops, false)).is_ok());
            }
            // Full (capacity 1) or no receiver (capacity 0): the item times out and comes back.
            let timed_out = tx.send_timeout(reentrant(&tx, &drops, false), Duration::ZERO);
            assert!(matches!(timed_out, Err(SendTimeoutError::Timeout(_))));
            drop(timed_out);
            rx.close();
            let batch = [reentrant(&tx, &drops, false), reentrant(&tx, &drops, false)];
            match tx.send_batch(batch) {
                Err(e) => assert_eq!((e.sent, e.unsent.len()), (0, 2)),
                Ok(()) => panic!("sent into a closed buffer"),
            }
            drop((tx, rx));
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1 + 3 + 3);
    });
}

#[test]
fn a_panicking_drop_drops_each_item_once_and_leaves_the_buffer_usable() {
    watchdog(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = buffer::<Reentrant>(4);
        assert!(tx.try_send(reentrant(&tx, &drops, false)).is_ok());
        assert!(tx.try_send(reentrant(&tx, &drops, true)).is_ok());
        assert!(tx.try_send(reentrant(&tx, &drops, false)).is_ok());
        let outcome = panic::catch_unwind(AssertUnwindSafe(move || drop(rx)));
        assert!(
            outcome.is_err(),
            "the payload's panic comes out of the drop"
        );
        assert_eq!(drops.load(Ordering::SeqCst), 3);
        assert_closed_and_empty_dropping_what_it_refuses(&tx, &drops);
        assert_quiescent(&tx.shared);
    });
}

#[test]
fn waiter_counts_return_to_zero_after_contention() {
    watchdog(|| {
        for capacity in [1, 2, 16] {
            let (tx, rx) = buffer::<usize>(capacity);
            let n = scaled(2000);
            let total = thread::scope(|s| {
                for p in 0..3 {
                    let tx = tx.clone();
                    s.spawn(move || {
                        for i in 0..n {
                            if i % 10 == 0 {
                                tx.send_batch([p, p]).expect("consumers are alive");
                            } else {
                                tx.send(p).expect("consumers are alive");
                            }
                        }
                    });
                }
                let consumers: Vec<_> = (0..3)
                    .map(|c| {
                        let rx = rx.clone();
                        s.spawn(move || {
                            let mut count = 0;
                            let mut buf = Vec::new();
                            loop {
                                let got = if c == 0 {
                                    rx.recv_batch(&mut buf, 5)
                                } else {
                                    rx.recv().map(|_| 1)
                                };
                                match got {
                                    Ok(k) => count += k,
                                    Err(RecvError) => break count,
                                }
                            }
                        })
                    })
                    .collect();
                // Wait for the producers, then disconnect so the consumers drain and stop.
                until(|| tx.shared.producers.load(Ordering::SeqCst) == 1);
                drop(tx);
                consumers
                    .into_iter()
                    .map(|c| c.join().expect("no panic"))
                    .sum::<usize>()
            });
            assert_eq!(total, 3 * (n + n / 10));
            assert_quiescent(&rx.shared);
        }
    });
}

/// A batch send with no receiver parked sends no notification, so it must not mark one in
/// flight: the mark would silence the notification of the next single send, and a receiver
/// that parks in between would sleep beside its item.
#[test]
fn a_batch_send_that_wakes_nobody_marks_no_wakeup_in_flight() {
    quiescent_after::<u32>(4, |tx, rx| {
        assert_eq!(tx.send_batch([1]), Ok(()));
        assert!(!peek(&tx.shared, |st| st.recv_signalled));
        assert_eq!(rx.recv(), Ok(1));
        assert_a_parked_receiver_gets(tx, rx, 2, |item| tx.send(item).map_err(|_| item));
    });
}

/// The same for a batch receive with no sender parked, and the next single receive.
#[test]
fn a_batch_receive_that_wakes_nobody_marks_no_wakeup_in_flight() {
    quiescent_after::<u32>(4, |tx, rx| {
        assert_eq!(tx.send_batch([1, 2, 3, 4]), Ok(()));
        let mut buf = Vec::new();
        assert_eq!(rx.recv_batch(&mut buf, 1), Ok(1));
        assert!(!peek(&tx.shared, |st| st.send_signalled));
        assert_eq!(tx.send(5), Ok(()));
        thread::scope(|s| {
            let sender = s.spawn(|| tx.send(6));
            until(|| peek(&tx.shared, |st| st.send_waiters) == 1);
            assert_eq!(rx.recv(), Ok(2));
            assert_eq!(sender.join().expect("no panic"), Ok(()));
        });
        let mut rest = Vec::new();
        assert_eq!(rx.recv_batch(&mut rest, 8), Ok(4));
        assert_eq!(rest, [3, 4, 5, 6]);
    });
}

#[test]
fn debug_needs_no_debug_payload() {
    struct Opaque;
    let (tx, rx) = buffer::<Opaque>(2);
    assert_eq!(
        format!("{tx:?}"),
        "CondvarProducer { len: 0, capacity: 2, closed: false }"
    );
    assert_eq!(
        format!("{rx:?}"),
        "CondvarConsumer { len: 0, capacity: 2, closed: false }"
    );
}
