//! Close and disconnect: `close()` wakes every blocked thread on both sides and refuses every
//! later send with the item handed back, what was accepted before is still received, and
//! dropping the last handle of one side disconnects the other.
//!
//! The random send and receive forms, and the small checks that the concurrent behaviours of
//! the suite share, live here too, so that every race is met by every form of the operation.

use std::collections::HashSet;
use std::fmt;
use std::hint;
use std::ops::Range;
use std::panic;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::thread::{self, ScopedJoinHandle};
use std::time::{Duration, Instant};

use crate::fifo::assert_per_producer_order;
use crate::support::{
    DropCounter, Probe, SLACK, Tracked, new_buffer, scaled, seeded_reps, seeded_rng, spawn_probe,
};
use buffer_api::{
    Backend, BufferedDrop, Consumer, Handle, Producer, RecvError, RecvTimeoutError, SendBatchError,
    SendError, SendTimeoutError, TryRecvError, TrySendError,
};

/// Longer than any legitimate wait in these items and shorter than the watchdog: a wait for a
/// wake-up that reaches it has lost the wake-up.
pub(super) const LOST_WAKEUP: Duration = Duration::from_secs(20);

/// The timeout of the "short timeout, retried" forms.
const SHORT: Duration = Duration::from_millis(1);

/// The most spin-loop iterations of a random delay: up to tens of microseconds, enough to land a
/// close anywhere from "before the others start" to "after they are parked".
pub(super) const MAX_SPIN: usize = 20_000;

/// Busy-waits `spins` iterations: a random delay that only makes races more likely.
pub(super) fn spin(spins: usize) {
    for _ in 0..spins {
        hint::spin_loop();
    }
}

/// A fresh random generator seeded from `rng`, for one thread of a test.
pub(super) fn fork(rng: &mut fastrand::Rng) -> fastrand::Rng {
    fastrand::Rng::with_seed(rng.u64(..))
}

/// Joins a scoped thread and re-raises its panic unchanged, so its own message is reported.
pub(super) fn joined<R>(handle: ScopedJoinHandle<'_, R>) -> R {
    handle
        .join()
        .unwrap_or_else(|payload| panic::resume_unwind(payload))
}

/// The identities of `items`, in order.
pub(super) fn ids(items: &[Tracked]) -> Vec<(usize, u64)> {
    items.iter().map(Tracked::id).collect()
}

/// The identities `(producer, from..to)`.
pub(super) fn id_range(producer: usize, from: u64, to: u64) -> Vec<(usize, u64)> {
    (from..to).map(|seq| (producer, seq)).collect()
}

/// Closes through the producer or the consumer handle.
fn close_by<B: Backend>(
    by_producer: bool,
    p: &B::Producer<Tracked>,
    q: &B::Consumer<Tracked>,
) -> bool {
    if by_producer { p.close() } else { q.close() }
}

/// Puts `producer`'s items `seqs` into a buffer that has room for all of them.
///
/// # Panics
///
/// If a `try_send` is refused.
pub(super) fn fill<B: Backend>(
    p: &B::Producer<Tracked>,
    counter: &DropCounter,
    producer: usize,
    seqs: Range<u64>,
) {
    for seq in seqs {
        if let Err(e) = p.try_send(counter.item(producer, seq)) {
            panic!("{}: try_send below capacity failed: {e}", B::NAME);
        }
    }
}

/// Takes everything `try_recv` still gives and returns the identities, in the order received.
pub(super) fn drain_ids<B: Backend>(q: &B::Consumer<Tracked>) -> Vec<(usize, u64)> {
    let mut drained = Vec::new();
    while let Ok(item) = q.try_recv() {
        drained.push(item.id());
    }
    drained
}

/// Checks what one `try_recv` on `q` gives, by identity; `what` says what is checked.
pub(super) fn assert_try_recv<B: Backend>(
    q: &B::Consumer<Tracked>,
    expected: Result<(usize, u64), TryRecvError>,
    what: &str,
) {
    assert_eq!(
        q.try_recv().map(|v| v.id()),
        expected,
        "{}: {what}",
        B::NAME
    );
}

/// Checks what one blocking `recv` on `q` gives, by identity; `what` says what is checked.
pub(super) fn assert_recv<B: Backend>(
    q: &B::Consumer<Tracked>,
    expected: Result<(usize, u64), RecvError>,
    what: &str,
) {
    assert_eq!(q.recv().map(|v| v.id()), expected, "{}: {what}", B::NAME);
}

/// Receives with blocking `recv` until `Disconnected` and returns the identities, in the order
/// received.
fn recv_ids<B: Backend>(q: &B::Consumer<Tracked>) -> Vec<(usize, u64)> {
    let mut got = Vec::new();
    while let Ok(item) = q.recv() {
        got.push(item.id());
    }
    got
}

/// `ids` as received where the backend keeps producer order, sorted where it does not: one
/// comparison with the sorted identities sent then fits every discipline.
pub(super) fn in_checked_order<B: Backend>(mut ids: Vec<(usize, u64)>) -> Vec<(usize, u64)> {
    if !B::CAPABILITIES.preserves_producer_order() {
        ids.sort_unstable();
    }
    ids
}

/// Checks that every item `counter` created has been dropped: none leaked, none twice.
pub(super) fn assert_all_dropped<B: Backend>(counter: &DropCounter, context: &str) {
    assert_eq!(
        counter.dropped(),
        counter.created(),
        "{}: drop count ({context})",
        B::NAME
    );
}

/// A producer parked in one blocking send form: what its send gave and when it returned.
pub(super) type ParkedSend = Probe<(Result<(), Tracked>, Instant)>;

/// Starts one producer in each form of [`SendForm::PARKING`] on the full buffer of `p`, the
/// producer at position `i` offering the item `(i + 1, 0)`.
pub(super) fn park_senders<B: Backend>(
    p: &B::Producer<Tracked>,
    counter: &DropCounter,
) -> Vec<ParkedSend> {
    SendForm::PARKING
        .iter()
        .enumerate()
        .map(|(i, &form)| {
            let (p, item) = (p.clone(), counter.item(i + 1, 0));
            spawn_probe(move || (form.send::<B>(&p, item), Instant::now()))
        })
        .collect()
}

/// Checks that every producer of [`park_senders`] is still parked after
/// [`EPSILON`](crate::EPSILON); `when` says what has happened so far.
pub(super) fn assert_parked<B: Backend>(probes: &[ParkedSend], when: &str) {
    probes[0].assert_blocked(&format!("send on a full buffer {when}"));
    for (probe, form) in probes.iter().zip(SendForm::PARKING) {
        assert!(
            !probe.is_done(),
            "{}: {form:?} returned on a full buffer {when}",
            B::NAME
        );
    }
}

/// Joins the producers of [`park_senders`] and checks that each was refused with its own item
/// within [`SLACK`] of `started`, when `cause` happened. Returns the items handed back, which
/// the caller owns.
pub(super) fn join_refused<B: Backend>(
    probes: Vec<ParkedSend>,
    started: Instant,
    cause: &str,
) -> Vec<Tracked> {
    let parked = probes.into_iter().zip(SendForm::PARKING).enumerate();
    parked
        .map(|(i, (probe, form))| {
            let (result, at) = probe.join();
            let Err(item) = result else {
                panic!("{}: {form:?} was accepted after {cause}", B::NAME);
            };
            let outcome = (Err::<(), _>(item.id()), at);
            assert_woken_in_time::<B, _>(form, outcome, Err((i + 1, 0)), (started, cause));
            item
        })
        .collect()
}

/// Checks one blocked operation that `cause`, at `since`, must have woken: the thread in
/// `form` came back at `at` with `got`, which must be `expected` (its way of saying
/// `Disconnected`), within [`SLACK`] of `since`.
pub(super) fn assert_woken_in_time<B: Backend, R: PartialEq + fmt::Debug>(
    form: impl fmt::Debug,
    (got, at): (R, Instant),
    expected: R,
    (since, cause): (Instant, &str),
) {
    assert_eq!(
        got,
        expected,
        "{}: {form:?} woken by {cause} must give Disconnected, with its own item for a send",
        B::NAME
    );
    let took = at.saturating_duration_since(since);
    assert!(
        took <= SLACK,
        "{}: {form:?} took {took:?} to see {cause}",
        B::NAME
    );
}

/// The ways a test thread offers one item, picked at random so that each meets the races.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SendForm {
    /// `send`.
    Blocking,
    /// `try_send`, retried while `Full`.
    Try,
    /// `send_timeout` with a short timeout, retried while it times out.
    ShortTimeout,
    /// `send_deadline` far in the future.
    LongDeadline,
    /// `send_timeout(Duration::MAX)`.
    Forever,
    /// `send_batch` of the one item.
    Batch,
}

impl SendForm {
    /// Every form.
    pub(super) const ALL: [Self; 6] = [
        Self::Blocking,
        Self::Try,
        Self::ShortTimeout,
        Self::LongDeadline,
        Self::Forever,
        Self::Batch,
    ];

    /// The forms that park the thread until something happens (no polling).
    pub(super) const PARKING: [Self; 4] = [
        Self::Blocking,
        Self::LongDeadline,
        Self::Forever,
        Self::Batch,
    ];

    /// Any form, at random.
    pub(super) fn pick(rng: &mut fastrand::Rng) -> Self {
        Self::ALL[rng.usize(..Self::ALL.len())]
    }

    /// Offers `item` until it is accepted (`Ok`) or refused for good (`Err` with the item).
    ///
    /// `Full` and `Timeout` are retried, so the only refusal is a disconnect. Every item that
    /// comes back is checked to be the one offered.
    pub(super) fn send<B: Backend>(
        self,
        p: &B::Producer<Tracked>,
        item: Tracked,
    ) -> Result<(), Tracked> {
        let id = item.id();
        let back = |back: Tracked, how: &str| {
            assert_eq!(
                back.id(),
                id,
                "{}: {how} handed back another item than the one offered",
                B::NAME
            );
            back
        };
        match self {
            Self::Blocking => p.send(item).map_err(|SendError(v)| back(v, "send")),
            Self::Try => {
                let mut item = item;
                loop {
                    match p.try_send(item) {
                        Ok(()) => return Ok(()),
                        Err(TrySendError::Full(v)) => {
                            item = back(v, "try_send (Full)");
                            thread::yield_now();
                        }
                        Err(TrySendError::Disconnected(v)) => {
                            return Err(back(v, "try_send (Disconnected)"));
                        }
                    }
                }
            }
            Self::ShortTimeout => {
                let mut item = item;
                loop {
                    match p.send_timeout(item, SHORT) {
                        Ok(()) => return Ok(()),
                        Err(SendTimeoutError::Timeout(v)) => item = back(v, "send_timeout"),
                        Err(SendTimeoutError::Disconnected(v)) => {
                            return Err(back(v, "send_timeout (Disconnected)"));
                        }
                    }
                }
            }
            Self::LongDeadline | Self::Forever => {
                let result = if self == Self::Forever {
                    p.send_timeout(item, Duration::MAX)
                } else {
                    p.send_deadline(item, Instant::now() + LOST_WAKEUP)
                };
                match result {
                    Ok(()) => Ok(()),
                    Err(SendTimeoutError::Disconnected(v)) => Err(back(v, "timed send")),
                    Err(SendTimeoutError::Timeout(_)) => panic!(
                        "{}: {self:?} send timed out after {LOST_WAKEUP:?}: a wake-up was lost",
                        B::NAME
                    ),
                }
            }
            Self::Batch => match p.send_batch([item]) {
                Ok(()) => Ok(()),
                Err(SendBatchError { sent, mut unsent }) => {
                    assert_eq!(
                        (sent, unsent.len()),
                        (0, 1),
                        "{}: a refused batch of one reported (sent, unsent.len())",
                        B::NAME
                    );
                    Err(back(unsent.remove(0), "send_batch"))
                }
            },
        }
    }
}

/// Claims one of the `unclaimed` items, then receives it into `items` by a random single-item
/// form. Returns `false` once nothing is left to claim. Claiming before receiving makes exactly
/// the claimed number of items leave the buffer, however the consumers interleave.
///
/// # Panics
///
/// If the buffer reports `Disconnected` while an item is still claimed (`what` names the case).
pub(super) fn recv_claimed<B: Backend>(
    q: &B::Consumer<Tracked>,
    rng: &mut fastrand::Rng,
    unclaimed: &AtomicUsize,
    items: &mut Vec<Tracked>,
    what: &str,
) -> bool {
    if unclaimed
        .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
        .is_err()
    {
        return false;
    }
    let form = match RecvForm::pick(rng, 1) {
        RecvForm::Batch(_) => RecvForm::Batch(1),
        form => form,
    };
    assert!(form.recv::<B>(q, items), "{}: {what}", B::NAME);
    true
}

/// The ways a test thread receives, picked at random so that each meets the races.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RecvForm {
    /// `recv`.
    Blocking,
    /// `try_recv`, retried while `Empty`.
    Try,
    /// `recv_timeout` with a short timeout, retried while it times out.
    ShortTimeout,
    /// `recv_deadline` far in the future.
    LongDeadline,
    /// `recv_timeout(Duration::MAX)`.
    Forever,
    /// `recv_batch` of at most this many items.
    Batch(usize),
}

impl RecvForm {
    /// Any form, at random; batches of at most `max_batch` items.
    pub(super) fn pick(rng: &mut fastrand::Rng, max_batch: usize) -> Self {
        match rng.usize(..6) {
            0 => Self::Blocking,
            1 => Self::Try,
            2 => Self::ShortTimeout,
            3 => Self::LongDeadline,
            4 => Self::Forever,
            _ => Self::Batch(rng.usize(1..=max_batch)),
        }
    }

    /// A form that parks the thread until something happens (no polling), at random.
    pub(super) fn pick_parking(rng: &mut fastrand::Rng, max_batch: usize) -> Self {
        match rng.usize(..4) {
            0 => Self::Blocking,
            1 => Self::LongDeadline,
            2 => Self::Forever,
            _ => Self::Batch(rng.usize(1..=max_batch)),
        }
    }

    /// Receives at least one item into `into` and returns `true`, or returns `false` once the
    /// buffer is empty and disconnected. `Empty` and `Timeout` are retried.
    pub(super) fn recv<B: Backend>(
        self,
        q: &B::Consumer<Tracked>,
        into: &mut Vec<Tracked>,
    ) -> bool {
        match self {
            Self::Blocking => match q.recv() {
                Ok(item) => into.push(item),
                Err(RecvError) => return false,
            },
            Self::Try => loop {
                match q.try_recv() {
                    Ok(item) => break into.push(item),
                    Err(TryRecvError::Empty) => thread::yield_now(),
                    Err(TryRecvError::Disconnected) => return false,
                }
            },
            Self::ShortTimeout => loop {
                match q.recv_timeout(SHORT) {
                    Ok(item) => break into.push(item),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return false,
                }
            },
            Self::LongDeadline | Self::Forever => {
                let result = if self == Self::Forever {
                    q.recv_timeout(Duration::MAX)
                } else {
                    q.recv_deadline(Instant::now() + LOST_WAKEUP)
                };
                match result {
                    Ok(item) => into.push(item),
                    Err(RecvTimeoutError::Disconnected) => return false,
                    Err(RecvTimeoutError::Timeout) => panic!(
                        "{}: {self:?} receive timed out after {LOST_WAKEUP:?}: a wake-up was lost",
                        B::NAME
                    ),
                }
            }
            Self::Batch(max) => {
                let before = into.len();
                match q.recv_batch(into, max) {
                    Ok(n) => {
                        assert_eq!(
                            n,
                            into.len() - before,
                            "{}: recv_batch returned another count than it appended",
                            B::NAME
                        );
                        assert!(
                            (1..=max).contains(&n),
                            "{}: recv_batch(max {max}) returned {n} items",
                            B::NAME
                        );
                    }
                    Err(RecvError) => {
                        assert_eq!(
                            into.len(),
                            before,
                            "{}: recv_batch changed its buffer and reported Disconnected",
                            B::NAME
                        );
                        return false;
                    }
                }
            }
        }
        true
    }
}

/// Starts `count` consumers in `s`, each on its own generator forked from `rng`, that receive
/// with forms drawn by `pick` until the buffer is empty and disconnected; each thread returns
/// what it received, in order.
pub(super) fn spawn_consumers<'scope, B: Backend>(
    s: &'scope thread::Scope<'scope, '_>,
    q: &B::Consumer<Tracked>,
    count: usize,
    rng: &mut fastrand::Rng,
    pick: fn(&mut fastrand::Rng) -> RecvForm,
) -> Vec<ScopedJoinHandle<'scope, Vec<(usize, u64)>>>
where
    B::Consumer<Tracked>: 'scope,
{
    (0..count)
        .map(|_| {
            let (q, mut rng) = (q.clone(), fork(rng));
            s.spawn(move || {
                let mut items = Vec::new();
                while pick(&mut rng).recv::<B>(&q, &mut items) {}
                ids(&items)
            })
        })
        .collect()
}

/// Runs a close behaviour: `check` on a fresh counter, where `B` offers close, and then the
/// check that every item it created was dropped (`what` names the behaviour). A backend without
/// close is held to `close_unsupported` instead.
fn close_behaviour<B: Backend>(what: &str, check: impl FnOnce(&DropCounter)) {
    if !B::CAPABILITIES.closes() {
        return;
    }
    let counter = DropCounter::new();
    check(&counter);
    assert_all_dropped::<B>(&counter, what);
}

/// `close()` wakes every blocked consumer (M >= 3), which returns `Disconnected` promptly.
///
/// First with consumers certainly parked in each blocking receive form, then `scaled(200)` times
/// with 3 to 5 consumers, a close from either side at a random moment and consumers arriving at
/// random moments: some after the close, some parked, some between a `try_recv` that saw `Empty`
/// and the wait that follows it. Every consumer must come back with `Disconnected` and no item,
/// never before the close started and within [`SLACK`] after it. A lost wake-up hangs, and the
/// watchdog names it.
pub fn close_wakes_consumers<B: Backend>() {
    if !B::CAPABILITIES.closes() {
        // A close behaviour: a backend without close is held to `close_unsupported` instead.
        return;
    }
    close_wakes_parked_consumers::<B>();
    seeded_reps(scaled(200), close_among_arriving_consumers::<B>);
}

/// Consumers certainly parked in each blocking receive form all get `Disconnected` from one
/// `close()`, within [`SLACK`].
fn close_wakes_parked_consumers<B: Backend>() {
    let (p, q) = new_buffer::<B, Tracked>(2);
    let forms = [
        RecvForm::Blocking,
        RecvForm::LongDeadline,
        RecvForm::Forever,
        RecvForm::Batch(3),
    ];
    let probes: Vec<_> = forms
        .iter()
        .map(|&form| {
            let q = q.clone();
            spawn_probe(move || {
                let mut got = Vec::new();
                let connected = form.recv::<B>(&q, &mut got);
                (connected, ids(&got), Instant::now())
            })
        })
        .collect();
    probes[0].assert_blocked("recv on an empty open buffer");
    for (probe, form) in probes.iter().zip(forms) {
        assert!(
            !probe.is_done(),
            "{}: {form:?} returned on an empty open buffer",
            B::NAME
        );
    }
    let started = Instant::now();
    p.close();
    for (probe, form) in probes.into_iter().zip(forms) {
        let (connected, got, at) = probe.join();
        let outcome = ((connected, got), at);
        assert_woken_in_time::<B, _>(form, outcome, (false, vec![]), (started, "close()"));
    }
}

/// One run of 3 to 5 consumers of random forms arriving at random moments around a close from
/// either side: each gets `Disconnected` and no item, within [`SLACK`] of the close.
fn close_among_arriving_consumers<B: Backend>(rng: &mut fastrand::Rng, context: &str) {
    let consumers = rng.usize(3..=5);
    let (p, q) = new_buffer::<B, Tracked>(rng.usize(1..=4));
    let closing = AtomicBool::new(false);
    let barrier = Barrier::new(consumers + 1);
    thread::scope(|s| {
        let waiters: Vec<_> = (0..consumers)
            .map(|_| {
                let (q, form, delay) = (q.clone(), RecvForm::pick(rng, 4), rng.usize(..MAX_SPIN));
                let (closing, barrier) = (&closing, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    spin(delay);
                    empty_until_closed::<B>(&q, closing, context);
                    let mut got = Vec::new();
                    let connected = form.recv::<B>(&q, &mut got);
                    (form, connected, ids(&got), Instant::now())
                })
            })
            .collect();
        let (by_producer, delay) = (rng.bool(), rng.usize(..MAX_SPIN));
        barrier.wait();
        spin(delay);
        closing.store(true, SeqCst);
        let started = Instant::now();
        close_by::<B>(by_producer, &p, &q);
        let cause = format!("close() ({context})");
        for waiter in waiters {
            let (form, connected, got, at) = joined(waiter);
            let outcome = ((connected, got), at);
            assert_woken_in_time::<B, _>(form, outcome, (false, vec![]), (started, &cause));
        }
    });
}

/// The `try_recv` a consumer makes right before it waits: `Empty`, or `Disconnected` once the
/// close has begun (`closing`); nobody sends, so never an item.
fn empty_until_closed<B: Backend>(q: &B::Consumer<Tracked>, closing: &AtomicBool, context: &str) {
    match q.try_recv() {
        Err(TryRecvError::Empty) => {}
        Err(TryRecvError::Disconnected) => assert!(
            closing.load(SeqCst),
            "{}: try_recv saw Disconnected before close() ({context})",
            B::NAME
        ),
        Ok(item) => panic!(
            "{}: try_recv returned {item:?} that nobody sent ({context})",
            B::NAME
        ),
    }
}

/// `close()` wakes every blocked producer (P >= 3), each with `Disconnected` carrying its own
/// item, and none of those items is ever delivered.
///
/// First with producers certainly parked on a full buffer in each blocking send form, then
/// `scaled(100)` times with 3 to 5 producers of random forms arriving at random moments around a
/// close from either side. Every send must fail with its own item, within [`SLACK`] of the close;
/// draining afterwards yields exactly the items buffered before, then `Disconnected`.
pub fn close_wakes_producers<B: Backend>() {
    close_behaviour::<B>("producers woken by close", |counter| {
        close_wakes_parked_producers::<B>(counter);
        seeded_reps(scaled(100), |rng, context| {
            close_among_arriving_producers::<B>(counter, rng, context);
        });
    });
}

/// Producers certainly parked on a full buffer in each blocking send form all get their own
/// item back from one `close()`, and the buffer then yields only what it held before.
fn close_wakes_parked_producers<B: Backend>(counter: &DropCounter) {
    let (p, q) = new_buffer::<B, Tracked>(1);
    fill::<B>(&p, counter, 0, 0..1);
    let probes = park_senders::<B>(&p, counter);
    assert_parked::<B>(&probes, "before the close");
    let started = Instant::now();
    q.close();
    drop(join_refused::<B>(probes, started, "close()"));
    assert_try_recv::<B>(&q, Ok((0, 0)), "drain after close");
    assert_try_recv::<B>(
        &q,
        Err(TryRecvError::Disconnected),
        "a woken producer's item was delivered",
    );
}

/// One run of 3 to 5 producers of random forms arriving at random moments around a close of a
/// full buffer from either side: each is refused with its own item within [`SLACK`], and the
/// buffer yields exactly what it held before.
fn close_among_arriving_producers<B: Backend>(
    counter: &DropCounter,
    rng: &mut fastrand::Rng,
    context: &str,
) {
    let producers = rng.usize(3..=5);
    let capacity = rng.usize(1..=3);
    let (p, q) = new_buffer::<B, Tracked>(capacity);
    fill::<B>(&p, counter, 0, 0..capacity as u64);
    let barrier = Barrier::new(producers + 1);
    thread::scope(|s| {
        let senders: Vec<_> = (1..=producers)
            .map(|i| {
                let (p, item) = (p.clone(), counter.item(i, 0));
                let (form, delay) = (SendForm::pick(rng), rng.usize(..MAX_SPIN));
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    spin(delay);
                    let result = form.send::<B>(&p, item).map_err(|v| v.id());
                    (form, result, Instant::now())
                })
            })
            .collect();
        let (by_producer, delay) = (rng.bool(), rng.usize(..MAX_SPIN));
        barrier.wait();
        spin(delay);
        let started = Instant::now();
        close_by::<B>(by_producer, &p, &q);
        let cause = format!("a close of the full buffer ({context})");
        for (i, sender) in (1..=producers).zip(senders) {
            let (form, result, at) = joined(sender);
            assert_woken_in_time::<B, _>(form, (result, at), Err((i, 0)), (started, &cause));
        }
    });
    let mut drained = drain_ids::<B>(&q);
    drained.sort_unstable();
    assert_eq!(
        drained,
        id_range(0, 0, capacity as u64),
        "{}: after close the buffer must yield exactly what it held ({context})",
        B::NAME
    );
    assert_try_recv::<B>(&q, Err(TryRecvError::Disconnected), "after the drain");
}

/// Drain after close. For C in {1, 3, 8}, every k <= C, and a close from the producer, the
/// consumer or a clone on another thread: the k buffered items come out (in order for FIFO
/// backends; as a set otherwise) through every receive form, with `len()` counting down, and
/// then every receive form on every handle reports `Disconnected`, repeatedly and at once.
pub fn drain_after_close<B: Backend>() {
    close_behaviour::<B>("drain after close", |counter| {
        for capacity in [1, 3, 8] {
            for k in 0..=capacity {
                for closer in 0..3 {
                    let (p, q) = new_buffer::<B, Tracked>(capacity);
                    fill::<B>(&p, counter, 0, 0..k as u64);
                    close_first::<B>(closer, &p, &q);
                    assert_eq!(q.len(), k, "{}: close changed len()", B::NAME);
                    drain_by_every_form::<B>(&q, k, capacity);
                    let q2 = q.clone();
                    for _round in 0..2 {
                        assert_drained_and_closed::<B>(&q);
                        assert_drained_and_closed::<B>(&q2);
                    }
                    assert_eq!(
                        (q.len(), q.is_empty()),
                        (0, true),
                        "{}: len() after drain",
                        B::NAME
                    );
                }
            }
        }
    });
}

/// Closes an open buffer through the producer (`closer` 0), the consumer (1) or a consumer
/// clone on another thread (2), and checks that this first `close()` says so and that both
/// handles then report the buffer closed.
fn close_first<B: Backend>(closer: usize, p: &B::Producer<Tracked>, q: &B::Consumer<Tracked>) {
    let first = match closer {
        0 => p.close(),
        1 => q.close(),
        _ => {
            let q2 = q.clone();
            thread::scope(|s| joined(s.spawn(move || q2.close())))
        }
    };
    assert!(first, "{}: the first close() returned false", B::NAME);
    assert!(
        p.is_closed() && q.is_closed(),
        "{}: is_closed after close",
        B::NAME
    );
}

/// Receives the `k` items a closed buffer of `capacity` holds, cycling through `recv`,
/// `try_recv`, `recv_timeout(0)` and `recv_batch(1)`, with `len()` counting down: they come out
/// in order for FIFO backends, as a set otherwise.
fn drain_by_every_form<B: Backend>(q: &B::Consumer<Tracked>, k: usize, capacity: usize) {
    let mut got = Vec::new();
    for i in 0..k {
        let item = match i % 4 {
            0 => q.recv().ok(),
            1 => q.try_recv().ok(),
            2 => q.recv_timeout(Duration::ZERO).ok(),
            _ => {
                let mut batch = Vec::new();
                match q.recv_batch(&mut batch, 1) {
                    Ok(1) => batch.pop(),
                    other => panic!("{}: recv_batch(1) after close gave {other:?}", B::NAME),
                }
            }
        };
        let Some(item) = item else {
            panic!(
                "{}: receive {i} of {k} buffered items failed after close (C = {capacity})",
                B::NAME
            );
        };
        got.push(item.id());
        assert_eq!(q.len(), k - i - 1, "{}: len() while draining", B::NAME);
    }
    assert_eq!(
        in_checked_order::<B>(got),
        id_range(0, 0, k as u64),
        "{}: drain after close (C = {capacity})",
        B::NAME
    );
}

/// Every receive form on `q`, whose buffer is closed and empty, reports `Disconnected` at once,
/// and a failed `recv_batch` appends nothing.
fn assert_drained_and_closed<B: Backend>(q: &B::Consumer<Tracked>) {
    let id = |v: Tracked| v.id();
    assert_eq!(
        q.recv().map(id),
        Err(RecvError),
        "{}: recv after drain",
        B::NAME
    );
    assert_eq!(
        q.try_recv().map(id),
        Err(TryRecvError::Disconnected),
        "{}: try_recv after drain",
        B::NAME
    );
    assert_eq!(
        q.recv_timeout(Duration::ZERO).map(id),
        Err(RecvTimeoutError::Disconnected),
        "{}: recv_timeout(0) after drain",
        B::NAME
    );
    let started = Instant::now();
    assert_eq!(
        q.recv_timeout(Duration::MAX).map(id),
        Err(RecvTimeoutError::Disconnected),
        "{}: recv_timeout(MAX) after drain",
        B::NAME
    );
    assert_eq!(
        q.recv_deadline(Instant::now() + LOST_WAKEUP).map(id),
        Err(RecvTimeoutError::Disconnected),
        "{}: recv_deadline after drain",
        B::NAME
    );
    assert!(
        started.elapsed() <= SLACK,
        "{}: receives after drain waited instead of failing at once",
        B::NAME
    );
    let mut batch = Vec::new();
    assert_eq!(
        q.recv_batch(&mut batch, 4),
        Err(RecvError),
        "{}: recv_batch after drain",
        B::NAME
    );
    assert!(
        batch.is_empty(),
        "{}: a failed recv_batch appended items",
        B::NAME
    );
}

/// Send after close. With the buffer partly filled and full, closed from either side, every
/// send form (`send`, `try_send`, `send_timeout` of zero, long and `Duration::MAX`,
/// `send_deadline` past and future, `send_batch`, on a clone and on another thread) returns
/// `Disconnected` at once with the identical item, never `Full` or `Timeout`; the buffer still
/// holds exactly what was accepted before, and yields it before `Disconnected`.
pub fn send_after_close<B: Backend>() {
    close_behaviour::<B>("sends after close", |counter| {
        for buffered in [1, 3] {
            for by_producer in [true, false] {
                let (p, q) = new_buffer::<B, Tracked>(3);
                fill::<B>(&p, counter, 0, 0..buffered);
                close_by::<B>(by_producer, &p, &q);
                let started = Instant::now();
                refuse_every_send_form::<B>(&p, counter, &format!("{buffered} of 3 buffered"));
                assert!(
                    started.elapsed() <= SLACK,
                    "{}: sends after close waited instead of failing at once",
                    B::NAME
                );
                assert_eq!(
                    q.len(),
                    buffered as usize,
                    "{}: refused sends changed len()",
                    B::NAME
                );
                assert_eq!(
                    in_checked_order::<B>(drain_ids::<B>(&q)),
                    id_range(0, 0, buffered),
                    "{}: drain after close",
                    B::NAME
                );
                assert_try_recv::<B>(&q, Err(TryRecvError::Disconnected), "after the drain");
            }
        }
    });
}

/// The item `send` handed back with `Disconnected`, or what it gave instead.
fn refused_send(result: Result<(), SendError<Tracked>>) -> Result<Tracked, String> {
    match result {
        Err(SendError(v)) => Ok(v),
        Ok(()) => Err("Ok".to_owned()),
    }
}

/// The item `try_send` handed back with `Disconnected`, or what it gave instead.
fn refused_try_send(result: Result<(), TrySendError<Tracked>>) -> Result<Tracked, String> {
    match result {
        Err(TrySendError::Disconnected(v)) => Ok(v),
        other => Err(format!("{other:?}")),
    }
}

/// The item a timed send handed back with `Disconnected`, or what it gave instead.
fn refused_timed_send(result: Result<(), SendTimeoutError<Tracked>>) -> Result<Tracked, String> {
    match result {
        Err(SendTimeoutError::Disconnected(v)) => Ok(v),
        other => Err(format!("{other:?}")),
    }
}

/// Offers producer 1's seqs 1, 2, ... to a closed buffer through every send form, on `p`, on
/// a clone and on another thread, and checks that each is refused with `Disconnected` and its
/// own item; `context` says how full the buffer is.
fn refuse_every_send_form<B: Backend>(
    p: &B::Producer<Tracked>,
    counter: &DropCounter,
    context: &str,
) {
    let mut seq = 0;
    let mut next = || {
        seq += 1;
        counter.item(1, seq)
    };
    let p2 = p.clone();
    let future = || Instant::now() + LOST_WAKEUP;
    let refusals = [
        ("send", refused_send(p.send(next()))),
        ("try_send", refused_try_send(p.try_send(next()))),
        (
            "send_timeout(0)",
            refused_timed_send(p.send_timeout(next(), Duration::ZERO)),
        ),
        (
            "send_timeout(long)",
            refused_timed_send(p.send_timeout(next(), LOST_WAKEUP)),
        ),
        (
            "send_timeout(MAX)",
            refused_timed_send(p.send_timeout(next(), Duration::MAX)),
        ),
        (
            "send_deadline(past)",
            refused_timed_send(p.send_deadline(next(), Instant::now())),
        ),
        (
            "send_deadline(future)",
            refused_timed_send(p.send_deadline(next(), future())),
        ),
        ("try_send on a clone", refused_try_send(p2.try_send(next()))),
        ("send on another thread", {
            let item = next();
            refused_send(thread::scope(|s| joined(s.spawn(|| p2.send(item)))))
        }),
    ];
    for (expected, (what, back)) in (1..).zip(refusals) {
        match back {
            Ok(item) => assert_eq!(
                item.id(),
                (1, expected),
                "{}: {what} after close handed back another item",
                B::NAME
            ),
            Err(other) => panic!(
                "{}: {what} after close ({context}) gave {other}, expected Disconnected with the \
                 item",
                B::NAME
            ),
        }
    }
    match p.send_batch(vec![next(), next(), next()]) {
        Err(SendBatchError { sent: 0, unsent }) => assert_eq!(
            ids(&unsent),
            id_range(1, 10, 13),
            "{}: send_batch after close handed back other items",
            B::NAME
        ),
        other => panic!("{}: send_batch after close gave {other:?}", B::NAME),
    }
}

/// Sends racing a close keep what was accepted: `scaled(20)` times a producer sends until
/// refused while a consumer drains and a close from either side lands at a random moment. The
/// consumer receives exactly the items whose send returned `Ok`, once each (in order for FIFO
/// backends), and the refused one is the next in sequence.
pub fn close_racing_sends_keeps_accepted_items<B: Backend>() {
    close_behaviour::<B>("sends racing close", |counter| {
        let (seed, mut rng) = seeded_rng();
        let limit = scaled(1_000) as u64;
        for rep in 0..scaled(20) {
            let (p, q) = new_buffer::<B, Tracked>(rng.usize(1..=3));
            let (by_producer, delay) = (rng.bool(), rng.usize(..MAX_SPIN * 4));
            let barrier = Barrier::new(3);
            let (accepted, refused, received) = thread::scope(|s| {
                let producer = s.spawn(|| {
                    barrier.wait();
                    for seq in 0..limit {
                        if let Err(SendError(v)) = p.send(counter.item(0, seq)) {
                            return (seq, Some(v.id()));
                        }
                    }
                    (limit, None)
                });
                let consumer = s.spawn(|| {
                    barrier.wait();
                    recv_ids::<B>(&q)
                });
                barrier.wait();
                spin(delay);
                close_by::<B>(by_producer, &p, &q);
                let (accepted, refused) = joined(producer);
                (accepted, refused, in_checked_order::<B>(joined(consumer)))
            });
            let context = format!("seed {seed}, rep {rep}");
            assert_received_exactly_accepted::<B>(&received, accepted, &context);
            if accepted < limit {
                assert_eq!(
                    refused,
                    Some((0, accepted)),
                    "{}: the refused item",
                    B::NAME
                );
            }
        }
    });
}

/// Checks that `received` (in the order [`in_checked_order`] gives) is exactly producer 0's
/// items `0..accepted`: every item whose send returned `Ok` before the close, once.
fn assert_received_exactly_accepted<B: Backend>(
    received: &[(usize, u64)],
    accepted: u64,
    context: &str,
) {
    let mut sorted = received.to_vec();
    sorted.sort_unstable();
    let missing: Vec<_> = (0..accepted)
        .filter(|&seq| sorted.binary_search(&(0, seq)).is_err())
        .collect();
    assert_eq!(
        (received.len() as u64, missing),
        (accepted, vec![]),
        "{}: (received, accepted seqs never received): every item whose send returned Ok \
         before the close must be received, once ({context})",
        B::NAME
    );
    assert_eq!(
        received,
        id_range(0, 0, accepted),
        "{}: the received items",
        B::NAME
    );
}

/// `close()` is idempotent and callable from any handle.
///
/// On one thread, the first `close()` (from either side) returns `true` and every later one,
/// from any handle or clone, `false`; every handle then reports `is_closed`. A buffer whose
/// producers or consumers have all gone is closed already, so `close()` on it returns `false`.
pub fn close_idempotent<B: Backend>() {
    if !B::CAPABILITIES.closes() {
        // A close behaviour: a backend without close is held to `close_unsupported` instead.
        return;
    }
    for first_by_producer in [true, false] {
        let (p, q) = new_buffer::<B, Tracked>(2);
        let (p2, q2) = (p.clone(), q.clone());
        assert!(
            !p.is_closed() && !q.is_closed(),
            "{}: a new buffer reports is_closed",
            B::NAME
        );
        assert!(
            close_by::<B>(first_by_producer, &p, &q),
            "{}: the first close() returned false",
            B::NAME
        );
        let again = [
            p.close(),
            q.close(),
            p2.close(),
            q2.close(),
            p.close(),
            q.close(),
        ];
        assert_eq!(
            again,
            [false; 6],
            "{}: a later close() returned true",
            B::NAME
        );
        let closed = [p.is_closed(), q.is_closed(), p2.is_closed(), q2.is_closed()];
        assert_eq!(
            closed,
            [true; 4],
            "{}: is_closed on every handle after close",
            B::NAME
        );
    }
    // A buffer that lost one side is closed already: close() has nothing left to do.
    let (p, q) = new_buffer::<B, Tracked>(2);
    drop(q);
    assert_closed_by_departure::<B>(&p, "the last consumer went");
    let (p, q) = new_buffer::<B, Tracked>(2);
    drop(p);
    assert_closed_by_departure::<B>(&q, "the last producer went");
}

/// Checks that `survivor`, the handle left after `gone`, reports the buffer closed, and that
/// its `close()` has nothing left to do.
fn assert_closed_by_departure<B: Backend>(survivor: &impl Handle, gone: &str) {
    assert!(survivor.is_closed(), "{}: is_closed after {gone}", B::NAME);
    assert!(
        !survivor.close(),
        "{}: close() after {gone} returned true",
        B::NAME
    );
}

/// Concurrent `close()` calls have one winner: `scaled(100)` times, 2 to 8 threads close
/// through their own clone at the same moment while a producer is parked on the full buffer and
/// a consumer drains it. Exactly one `close()` returns `true`, every handle then reports the
/// buffer closed, the producer's item is either received or handed back to it, and the consumer
/// ends with `Disconnected`.
pub fn concurrent_close_returns_true_once<B: Backend>() {
    close_behaviour::<B>("concurrent close", |counter| {
        let (seed, mut rng) = seeded_rng();
        for rep in 0..scaled(100) {
            let closers = rng.usize(2..=8);
            let (p, q) = new_buffer::<B, Tracked>(1);
            fill::<B>(&p, counter, 0, 0..1);
            let CloseRace {
                wins,
                sent,
                received,
            } = race_closers::<B>(&p, &q, counter, &mut rng, closers);
            let context = format!("seed {seed}, rep {rep}");
            assert_eq!(
                wins,
                1,
                "{}: {closers} concurrent close() calls must return true exactly once ({context})",
                B::NAME
            );
            assert_eq!(
                [p.is_closed(), q.is_closed()],
                [true; 2],
                "{}: is_closed after concurrent close",
                B::NAME
            );
            let mut expected = vec![(0, 0)];
            match sent {
                Ok(()) => expected.push((1, 0)),
                Err(id) => assert_eq!(
                    id,
                    (1, 0),
                    "{}: a refused send handed back another item",
                    B::NAME
                ),
            }
            let mut received = received;
            received.sort_unstable();
            assert_eq!(
                received,
                expected,
                "{}: the consumer must receive the buffered item and the accepted send ({context})",
                B::NAME
            );
        }
    });
}

/// What one race of closers against a producer and a consumer came to.
struct CloseRace {
    /// How many `close()` calls returned `true`.
    wins: usize,
    /// The producer's send: the identity handed back, if refused.
    sent: Result<(), (usize, u64)>,
    /// What the consumer received, in order.
    received: Vec<(usize, u64)>,
}

/// Starts `closers` threads that close through their own clone after a short random delay, a
/// producer sending `(1, 0)` into the full buffer and a consumer receiving until
/// `Disconnected`, all at once, and reports how it went.
fn race_closers<B: Backend>(
    p: &B::Producer<Tracked>,
    q: &B::Consumer<Tracked>,
    counter: &DropCounter,
    rng: &mut fastrand::Rng,
    closers: usize,
) -> CloseRace {
    let barrier = Barrier::new(closers + 2);
    thread::scope(|s| {
        let close_threads: Vec<_> = (0..closers)
            .map(|_| {
                let (by_producer, delay) = (rng.bool(), rng.usize(..MAX_SPIN / 4));
                let (p, q, barrier) = (p.clone(), q.clone(), &barrier);
                s.spawn(move || {
                    barrier.wait();
                    spin(delay);
                    close_by::<B>(by_producer, &p, &q)
                })
            })
            .collect();
        let producer = s.spawn(|| {
            barrier.wait();
            p.send(counter.item(1, 0)).map_err(|SendError(v)| v.id())
        });
        let consumer = s.spawn(|| {
            barrier.wait();
            recv_ids::<B>(q)
        });
        let wins = close_threads
            .into_iter()
            .map(joined)
            .filter(|&won| won)
            .count();
        CloseRace {
            wins,
            sent: joined(producer),
            received: joined(consumer),
        }
    })
}

/// Who closes the buffer in one run of `close_under_load`.
#[derive(Clone, Copy, Debug)]
enum CloseRole {
    /// The consumer whose receive makes the delivered count reach this number, on its own handle.
    Consumer(usize),
    /// This producer, once this many of its sends were accepted, on its own handle.
    Producer(usize, u64),
    /// A separate thread after a random delay, through a producer (`true`) or consumer clone.
    Outsider(bool, usize),
}

/// What the threads of one run of `close_under_load` share.
struct LoadRun<'a> {
    role: CloseRole,
    per_producer: u64,
    counter: &'a DropCounter,
    /// Set once a `close()` has returned.
    closed: &'a AtomicBool,
    delivered: &'a AtomicUsize,
    context: &'a str,
}

/// What one producer of `close_under_load` saw.
struct ProducerLog {
    /// Its seqs `0..accepted` were accepted.
    accepted: u64,
    /// The items refused with `Disconnected`, in order: the seqs right after the accepted ones.
    handed_back: Vec<Tracked>,
}

impl LoadRun<'_> {
    /// One producer of `close_under_load`: sends its seqs in order with random forms and
    /// batches until one is refused, closing the buffer itself if its role says so.
    fn produce<B: Backend>(
        &self,
        me: usize,
        p: &B::Producer<Tracked>,
        rng: &mut fastrand::Rng,
    ) -> ProducerLog {
        let mut close_at = match self.role {
            CloseRole::Producer(who, after) if who == me => Some(after),
            _ => None,
        };
        let mut log = ProducerLog {
            accepted: 0,
            handed_back: Vec::new(),
        };
        while log.accepted < self.per_producer && log.handed_back.is_empty() {
            if close_at.is_some_and(|after| log.accepted >= after) {
                close_at = None;
                p.close();
                self.closed.store(true, SeqCst);
            }
            let was_closed = self.closed.load(SeqCst);
            let from = log.accepted;
            let chunk = if rng.usize(..4) == 0 {
                rng.u64(2..=4).min(self.per_producer - from)
            } else {
                1
            };
            if chunk == 1 {
                match SendForm::pick(rng).send::<B>(p, self.counter.item(me, from)) {
                    Ok(()) => log.accepted += 1,
                    Err(v) => log.handed_back.push(v),
                }
            } else {
                let batch = (from..from + chunk).map(|seq| self.counter.item(me, seq));
                match p.send_batch(batch) {
                    Ok(()) => log.accepted += chunk,
                    Err(SendBatchError { sent, unsent }) => {
                        assert_eq!(
                            ids(&unsent),
                            id_range(me, from + sent as u64, from + chunk),
                            "{}: send_batch handed back another tail ({})",
                            B::NAME,
                            self.context
                        );
                        log.accepted += sent as u64;
                        log.handed_back = unsent;
                    }
                }
            }
            assert!(
                !was_closed || log.accepted == from,
                "{}: a send that started after close() returned was accepted ({})",
                B::NAME,
                self.context
            );
        }
        if close_at.is_some() {
            // A batch jumped to the end past the closing point.
            p.close();
            self.closed.store(true, SeqCst);
        }
        if !log.handed_back.is_empty() {
            let next = log.accepted + log.handed_back.len() as u64;
            match p.try_send(self.counter.item(me, next)) {
                Err(TrySendError::Disconnected(v)) => assert_eq!(v.id(), (me, next)),
                other => panic!(
                    "{}: a send after a refused one gave {other:?}, not Disconnected ({})",
                    B::NAME,
                    self.context
                ),
            }
        }
        log
    }

    /// One consumer of `close_under_load`: receives with random forms until `Disconnected`,
    /// closing the buffer itself if its delivery reaches the role's count. Returns the ids in
    /// order.
    fn consume<B: Backend>(
        &self,
        q: &B::Consumer<Tracked>,
        rng: &mut fastrand::Rng,
    ) -> Vec<(usize, u64)> {
        let mut got = Vec::new();
        let mut items = Vec::new();
        while RecvForm::pick(rng, 4).recv::<B>(q, &mut items) {
            for item in items.drain(..) {
                got.push(item.id());
                let count = self.delivered.fetch_add(1, SeqCst) + 1;
                if matches!(self.role, CloseRole::Consumer(at) if at == count) {
                    q.close();
                    self.closed.store(true, SeqCst);
                }
            }
        }
        assert_eq!(
            q.try_recv().map(|v| v.id()),
            Err(TryRecvError::Disconnected),
            "{}: a disconnected buffer delivered again ({})",
            B::NAME,
            self.context
        );
        got
    }

    /// Runs `producers` producers and `consumers` consumers through a new buffer of `capacity`,
    /// with an outside closer if the role says so, all released at once. Every thread gets its
    /// own handle up front and the originals go before the run, so nothing but the close ends
    /// it early. Returns each producer's log and each consumer's ids.
    fn run<B: Backend>(
        &self,
        (producers, consumers, capacity): (usize, usize, usize),
        rng: &mut fastrand::Rng,
    ) -> (Vec<ProducerLog>, Vec<Vec<(usize, u64)>>) {
        let (p, q) = new_buffer::<B, Tracked>(capacity);
        let producer_handles: Vec<_> = (0..producers).map(|_| p.clone()).collect();
        let consumer_handles: Vec<_> = (0..consumers).map(|_| q.clone()).collect();
        let outsider = match self.role {
            CloseRole::Outsider(by_producer, delay) => {
                Some((by_producer, delay, p.clone(), q.clone()))
            }
            _ => None,
        };
        drop((p, q));
        let barrier = Barrier::new(producers + consumers + 1);
        thread::scope(|s| {
            let barrier = &barrier;
            let producer_threads: Vec<_> = producer_handles
                .into_iter()
                .enumerate()
                .map(|(me, p)| {
                    let mut rng = fork(rng);
                    s.spawn(move || {
                        barrier.wait();
                        self.produce::<B>(me, &p, &mut rng)
                    })
                })
                .collect();
            let consumer_threads: Vec<_> = consumer_handles
                .into_iter()
                .map(|q| {
                    let mut rng = fork(rng);
                    s.spawn(move || {
                        barrier.wait();
                        self.consume::<B>(&q, &mut rng)
                    })
                })
                .collect();
            if let Some((by_producer, delay, p, q)) = outsider {
                s.spawn(move || {
                    barrier.wait();
                    spin(delay);
                    close_by::<B>(by_producer, &p, &q);
                    self.closed.store(true, SeqCst);
                });
            } else {
                barrier.wait();
            }
            let logs: Vec<_> = producer_threads.into_iter().map(joined).collect();
            let received: Vec<_> = consumer_threads.into_iter().map(joined).collect();
            (logs, received)
        })
    }

    /// The verdicts on one run: every accepted item delivered exactly once, every refused one
    /// handed back to its own producer in sequence and never delivered, per-producer order in
    /// each consumer where FIFO is declared, the close done, and the drop counter balanced once
    /// the handed-back items go.
    fn check<B: Backend>(&self, logs: Vec<ProducerLog>, received: &[Vec<(usize, u64)>]) {
        let context = self.context;
        let mut delivered_once = HashSet::new();
        for got in received {
            for &id in got {
                assert!(
                    delivered_once.insert(id),
                    "{}: {id:?} was delivered twice ({context})",
                    B::NAME
                );
            }
        }
        if B::CAPABILITIES.preserves_producer_order() {
            assert_per_producer_order::<B>(received, context);
        }
        for (me, log) in logs.iter().enumerate() {
            for seq in 0..log.accepted {
                assert!(
                    delivered_once.remove(&(me, seq)),
                    "{}: ({me}, {seq}) was accepted but never delivered ({context})",
                    B::NAME
                );
            }
            let end = log.accepted + log.handed_back.len() as u64;
            assert_eq!(
                ids(&log.handed_back),
                id_range(me, log.accepted, end),
                "{}: producer {me} got back other items than the ones refused ({context})",
                B::NAME
            );
        }
        assert!(
            delivered_once.is_empty(),
            "{}: delivered although refused or never offered: {delivered_once:?} ({context})",
            B::NAME
        );
        assert!(
            self.closed.load(SeqCst),
            "{}: the run ended without its close ({context})",
            B::NAME
        );
        drop(logs);
        assert_all_dropped::<B>(self.counter, context);
    }
}

/// Close under load, the check that catches an inexact close.
///
/// Topologies from 1:1 to 8:2, 2:8 and an oversubscribed 4·cores : 4·cores, capacities 1 to
/// 16, `scaled(30)` runs each. Producers send their seqs with random forms (single sends of
/// every form and batches of 2-4) until one is refused; consumers receive with random forms until
/// `Disconnected`. A close comes at a random moment from a consumer (at a random delivered count),
/// a producer (after a random number of its own sends) or an outside thread, through either side.
/// The test keeps no handle of its own, so nothing but the close ends a run early.
///
/// Verdicts, per run: every item whose send returned `Ok` is delivered exactly once; every
/// refused item comes back to its own producer, is the next in its sequence, and is never
/// delivered; no send that started after `close()` returned succeeds; once refused, a producer
/// stays refused; per-producer order holds in each consumer for FIFO backends; and the drop
/// counter balances at the end.
pub fn close_under_load<B: Backend>() {
    if !B::CAPABILITIES.closes() {
        // A close behaviour: a backend without close is held to `close_unsupported` instead.
        return;
    }
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    let topologies = [
        (1, 1, 1),
        (1, 1, 8),
        (2, 2, 1),
        (4, 4, 2),
        (8, 2, 16),
        (2, 8, 4),
        (4 * cores, 4 * cores, 3),
    ];
    let (seed, mut rng) = seeded_rng();
    for (producers, consumers, capacity) in topologies {
        let per_producer = (scaled(400) / producers).max(20) as u64;
        let total = per_producer as usize * producers;
        for rep in 0..scaled(30) {
            let role = match rng.usize(..3) {
                0 => CloseRole::Consumer(rng.usize(1..=total)),
                1 => CloseRole::Producer(rng.usize(..producers), rng.u64(..per_producer)),
                _ => CloseRole::Outsider(rng.bool(), rng.usize(..MAX_SPIN * 8)),
            };
            let context = format!(
                "seed {seed}, {producers}:{consumers}, C = {capacity}, rep {rep}, {role:?}"
            );
            let counter = DropCounter::new();
            let (closed, delivered) = (AtomicBool::new(false), AtomicUsize::new(0));
            let run = LoadRun {
                role,
                per_producer,
                counter: &counter,
                closed: &closed,
                delivered: &delivered,
                context: &context,
            };
            let (logs, received) = run.run::<B>((producers, consumers, capacity), &mut rng);
            run.check::<B>(logs, &received);
        }
    }
}

/// Dropping the last producer handle disconnects; dropping one of two clones does not.
///
/// On one thread: after one of two producer clones drops, the items of both are still received
/// and the buffer reports `Empty`, not `Disconnected`, and is not closed; the other clone still
/// sends; once it drops too, the rest is drained and then every receive form says
/// `Disconnected`. With a consumer parked in `recv`: dropping one clone (on another thread) leaves
/// it parked, dropping the last wakes it with `Disconnected`. Then `scaled(50)` times 1 to 4
/// producer clones each send 0-2 items and drop on their own threads while 3 consumers receive
/// with random forms: every item is delivered exactly once and every consumer ends with
/// `Disconnected`.
pub fn last_producer_drop_disconnects<B: Backend>() {
    let counter = DropCounter::new();
    producer_drops_on_one_thread::<B>(&counter);
    last_producer_drop_wakes_parked_consumer::<B>();
    seeded_reps(scaled(50), |rng, context| {
        producers_drop_while_consumers_receive::<B>(&counter, rng, context);
    });
    assert_all_dropped::<B>(&counter, "producer drops");
}

/// On one thread: one of two producer clones drops and the buffer stays open, the other drops
/// and the buffer disconnects once drained.
fn producer_drops_on_one_thread<B: Backend>(counter: &DropCounter) {
    let (p, q) = new_buffer::<B, Tracked>(4);
    let p2 = p.clone();
    for (handle, seq) in [(&p, 0), (&p2, 1), (&p, 2)] {
        fill::<B>(handle, counter, 0, seq..seq + 1);
    }
    drop(p);
    assert!(
        !q.is_closed(),
        "{}: dropping one of two producers closed the buffer",
        B::NAME
    );
    let mut got = Vec::new();
    for _ in 0..3 {
        match q.try_recv() {
            Ok(item) => got.push(item.id()),
            Err(e) => panic!("{}: draining after one producer dropped: {e:?}", B::NAME),
        }
    }
    let got = in_checked_order::<B>(got);
    assert_eq!(got, id_range(0, 0, 3), "{}: items of both clones", B::NAME);
    assert_try_recv::<B>(
        &q,
        Err(TryRecvError::Empty),
        "one producer clone is still alive",
    );
    if let Err(e) = p2.send(counter.item(0, 3)) {
        panic!("{}: the remaining clone cannot send: {e}", B::NAME);
    }
    drop(p2);
    assert!(
        q.is_closed(),
        "{}: is_closed after the last producer dropped",
        B::NAME
    );
    assert_recv::<B>(&q, Ok((0, 3)), "drain after disconnect");
    assert_drained_and_closed::<B>(&q);
}

/// A consumer parked in `recv` stays parked when one of two producer clones drops on another
/// thread, and is woken with `Disconnected` within [`SLACK`] when the last one drops.
fn last_producer_drop_wakes_parked_consumer<B: Backend>() {
    let (p, q) = new_buffer::<B, Tracked>(2);
    let p2 = p.clone();
    let parked = spawn_probe(move || q.recv().map(|v| v.id()));
    thread::scope(|s| joined(s.spawn(move || drop(p))));
    parked.assert_blocked("recv after one of two producer clones dropped");
    let started = Instant::now();
    drop(p2);
    assert_eq!(
        parked.join(),
        Err(RecvError),
        "{}: a parked consumer must see Disconnected when the last producer drops",
        B::NAME
    );
    assert!(
        started.elapsed() <= SLACK,
        "{}: the disconnect took {:?}",
        B::NAME,
        started.elapsed()
    );
}

/// One run of 1 to 4 producer clones that each send 0-2 items and drop on their own threads
/// while 3 consumers receive with random forms: every item is delivered once, every consumer
/// ends with `Disconnected`, and the buffer reports closed.
fn producers_drop_while_consumers_receive<B: Backend>(
    counter: &DropCounter,
    rng: &mut fastrand::Rng,
    context: &str,
) {
    let producers = rng.usize(1..=4);
    let (p, q) = new_buffer::<B, Tracked>(4);
    let barrier = Barrier::new(producers + 3);
    let (sent, mut received) = thread::scope(|s| {
        let mut sent = Vec::new();
        for me in 0..producers {
            let count = rng.u64(..=2);
            sent.extend(id_range(me, 0, count));
            let (p, barrier) = (p.clone(), &barrier);
            s.spawn(move || {
                barrier.wait();
                for seq in 0..count {
                    if let Err(e) = p.send(counter.item(me, seq)) {
                        panic!("{}: send with every consumer alive failed: {e}", B::NAME);
                    }
                }
            });
        }
        drop(p);
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let (q, mut rng, barrier) = (q.clone(), fork(rng), &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let mut items = Vec::new();
                    while RecvForm::pick(&mut rng, 3).recv::<B>(&q, &mut items) {}
                    assert_try_recv::<B>(
                        &q,
                        Err(TryRecvError::Disconnected),
                        "try_recv after Disconnected",
                    );
                    ids(&items)
                })
            })
            .collect();
        let received: Vec<_> = consumers.into_iter().flat_map(joined).collect();
        (sent, received)
    });
    received.sort_unstable();
    assert_eq!(
        received,
        sent,
        "{}: every item sent before the producers dropped is delivered once ({context})",
        B::NAME
    );
    assert!(
        q.is_closed(),
        "{}: is_closed after every producer dropped",
        B::NAME
    );
}

/// Dropping the last consumer handle disconnects the producers, and buffered items are dropped
/// at the moment `B::CAPABILITIES.buffered_drop` declares.
///
/// A full buffer (3 items) with one producer parked in each blocking send form. Dropping one of
/// two consumer clones (on another thread) leaves them parked, drops nothing and does not close
/// the buffer. Dropping the last one wakes every producer with `Disconnected` and its own item
/// within [`SLACK`], and every later send form returns `Disconnected` with its item, never `Full`
/// or `Ok`, although with [`BufferedDrop::OnLastConsumer`] there is room again. The drop counter
/// proves the moment: right after the last consumer drops, exactly the 3 buffered items are
/// dropped with `OnLastConsumer` and none with `OnLastHandle`; dropping the last producer then
/// drops them with `OnLastHandle` and nothing more with `OnLastConsumer`. The handed-back items
/// are dropped only by the test, once.
pub fn last_consumer_drop_disconnects<B: Backend>() {
    let counter = DropCounter::new();
    let (p, q) = new_buffer::<B, Tracked>(3);
    fill::<B>(&p, &counter, 0, 0..3);
    let probes = park_senders::<B>(&p, &counter);
    let q2 = q.clone();
    thread::scope(|s| joined(s.spawn(move || drop(q))));
    assert_parked::<B>(&probes, "after one of two consumers dropped");
    assert!(
        !p.is_closed(),
        "{}: dropping one of two consumers closed the buffer",
        B::NAME
    );
    assert_eq!(
        counter.dropped(),
        0,
        "{}: dropping one of two consumers dropped items",
        B::NAME
    );
    let started = Instant::now();
    drop(q2);
    let buffered_now = counter.dropped();
    let handed_back = join_refused::<B>(probes, started, "the last consumer drop");
    assert!(
        p.is_closed(),
        "{}: is_closed after the last consumer dropped",
        B::NAME
    );
    let later_sends = refused_without_consumers::<B>(&p, &counter);
    buffered_dropped_as_declared::<B>(&counter, p, buffered_now, later_sends);
    drop(handed_back);
    assert_all_dropped::<B>(&counter, "last consumer drop");
}

/// Every send form on `p`, whose consumers are all gone, returns `Disconnected` with its own
/// item (producer 9's). Returns how many items were refused, all dropped by now.
fn refused_without_consumers<B: Backend>(p: &B::Producer<Tracked>, counter: &DropCounter) -> usize {
    let later = [
        p.send(counter.item(9, 0)).map_err(|SendError(v)| v.id()),
        match p.try_send(counter.item(9, 1)) {
            Err(TrySendError::Disconnected(v)) => Err(v.id()),
            other => panic!("{}: try_send without consumers gave {other:?}", B::NAME),
        },
        match p.send_timeout(counter.item(9, 2), LOST_WAKEUP) {
            Err(SendTimeoutError::Disconnected(v)) => Err(v.id()),
            other => panic!("{}: send_timeout without consumers gave {other:?}", B::NAME),
        },
        SendForm::Batch
            .send::<B>(p, counter.item(9, 3))
            .map_err(|v| v.id()),
    ];
    assert_eq!(
        later,
        [Err((9, 0)), Err((9, 1)), Err((9, 2)), Err((9, 3))],
        "{}: sends after the last consumer dropped",
        B::NAME
    );
    later.len()
}

/// The 3 buffered items drop when `B::CAPABILITIES.buffered_drop` says: `buffered_now` (the
/// count right after the last consumer went) is 3 for `OnLastConsumer` and 0 for
/// `OnLastHandle`, nothing but the `later_sends` refused items dropped since, and dropping `p`,
/// the last producer, drops the buffered items only for `OnLastHandle`.
fn buffered_dropped_as_declared<B: Backend>(
    counter: &DropCounter,
    p: B::Producer<Tracked>,
    buffered_now: usize,
    later_sends: usize,
) {
    match B::CAPABILITIES.buffered_drop {
        BufferedDrop::OnLastConsumer => assert_eq!(
            buffered_now,
            3,
            "{}: declares OnLastConsumer, so the 3 buffered items drop with the last consumer",
            B::NAME
        ),
        BufferedDrop::OnLastHandle => assert_eq!(
            buffered_now,
            0,
            "{}: declares OnLastHandle, but buffered items dropped with the last consumer",
            B::NAME
        ),
    }
    let before_last_producer = counter.dropped();
    assert_eq!(
        before_last_producer,
        buffered_now + later_sends,
        "{}: the buffer dropped a parked producer's handed-back item",
        B::NAME
    );
    drop(p);
    let expected_at_last_handle = match B::CAPABILITIES.buffered_drop {
        BufferedDrop::OnLastConsumer => before_last_producer,
        BufferedDrop::OnLastHandle => before_last_producer + 3,
    };
    assert_eq!(
        counter.dropped(),
        expected_at_last_handle,
        "{}: items dropped when the last producer went ({})",
        B::NAME,
        B::CAPABILITIES.buffered_drop
    );
}
