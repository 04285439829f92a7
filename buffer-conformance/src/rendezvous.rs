//! Zero capacity: on a backend that declares rendezvous, `bounded(0)` builds a buffer that
//! holds nothing and hands each item from a sender straight to a receiver; on any other backend
//! it is refused with the documented error.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use crate::close::{
    RecvForm, SendForm, assert_all_dropped, assert_recv, assert_try_recv, fork, joined,
    spawn_consumers,
};
use crate::fifo::assert_delivered;
use crate::support::{
    DropCounter, EPSILON, Tracked, new_buffer, scaled, seeded_reps, spawn_probe, stop_sending,
};
use crate::timeouts::{assert_recv_times_out, assert_send_times_out};
use buffer_api::{
    Backend, CapacityError, Consumer, Handle, Producer, RecvTimeoutError, SendTimeoutError,
    TryRecvError, TrySendError,
};

/// Whether `B` declares rendezvous. Checks the declaration either way: with it, `bounded(0)`
/// must build a buffer; without it, it must fail with
/// [`CapacityError::RendezvousUnsupported`] naming the backend.
fn rendezvous_declared<B: Backend>() -> bool {
    let built = B::bounded::<Tracked>(0);
    if B::CAPABILITIES.rendezvous {
        if let Err(e) = built {
            panic!(
                "{}: declares rendezvous, but bounded(0) failed: {e}",
                B::NAME
            );
        }
        true
    } else {
        match built {
            Err(e) => assert_eq!(
                e,
                CapacityError::RendezvousUnsupported { backend: B::NAME },
                "{}: declares no rendezvous, so bounded(0) must give the documented error",
                B::NAME
            ),
            Ok(_) => panic!(
                "{}: declares no rendezvous, but bounded(0) built a buffer",
                B::NAME
            ),
        }
        false
    }
}

/// Zero capacity, the `try_` forms. Without rendezvous declared, `bounded(0)` must give
/// [`CapacityError::RendezvousUnsupported`] and nothing else is checked.
///
/// With no partner waiting, `try_send` gives `Full` with the same item, `try_recv` gives `Empty`,
/// and the timed forms time out no earlier than their timeout, handing the item back. With a
/// receiver parked in `recv`, a retried `try_send` succeeds and that receiver gets the item;
/// with a sender parked in `send`, a retried `try_recv` gets its item. `capacity()` and `len()`
/// are 0 and `is_full()` true throughout; after a close both `try_` forms say `Disconnected`.
pub fn zero_capacity_try_ops<B: Backend>() {
    if !rendezvous_declared::<B>() {
        return;
    }
    let counter = DropCounter::new();
    let (p, q) = new_buffer::<B, Tracked>(0);
    assert_holds_nothing::<B>(&p, &q, "new");
    try_ops_without_partner::<B>(&p, &q, &counter);
    assert_holds_nothing::<B>(&p, &q, "after the try forms");
    try_send_meets_parked_receiver::<B>(&p, &q, &counter);
    try_recv_meets_parked_sender::<B>(&p, &q, &counter);
    assert_holds_nothing::<B>(&p, &q, "after the hand-overs");
    if B::CAPABILITIES.closes() {
        p.close();
        match p.try_send(counter.item(0, 4)) {
            Err(TrySendError::Disconnected(v)) => {
                assert_eq!(v.id(), (0, 4), "{}: the item", B::NAME)
            }
            other => panic!("{}: try_send after close gave {other:?}", B::NAME),
        }
        assert_try_recv::<B>(&q, Err(TryRecvError::Disconnected), "try_recv after close");
    }
    drop((p, q));
    assert_all_dropped::<B>(&counter, "zero-capacity try forms");
}

/// A zero-capacity buffer reports capacity 0, length 0, empty and full from both handles.
fn assert_holds_nothing<B: Backend>(
    p: &B::Producer<Tracked>,
    q: &B::Consumer<Tracked>,
    when: &str,
) {
    assert_eq!(
        (
            p.capacity(),
            q.capacity(),
            p.len(),
            q.len(),
            q.is_empty(),
            p.is_full()
        ),
        (0, 0, 0, 0, true, true),
        "{}: (capacity, capacity, len, len, is_empty, is_full) at capacity 0, {when}",
        B::NAME
    );
}

/// With no partner waiting, `try_send` gives `Full` with its item, `try_recv` gives `Empty`,
/// and both timed forms time out no earlier than asked, the send handing its item back.
fn try_ops_without_partner<B: Backend>(
    p: &B::Producer<Tracked>,
    q: &B::Consumer<Tracked>,
    counter: &DropCounter,
) {
    match p.try_send(counter.item(0, 0)) {
        Err(TrySendError::Full(v)) => assert_eq!(v.id(), (0, 0), "{}: Full's item", B::NAME),
        other => panic!("{}: try_send without a receiver gave {other:?}", B::NAME),
    }
    assert_try_recv::<B>(q, Err(TryRecvError::Empty), "try_recv without a sender");
    assert_send_times_out::<B>(p, counter.item(0, 1), EPSILON, "without a receiver");
    assert_recv_times_out::<B>(q, EPSILON, "without a sender");
}

/// A `try_send` retried while `Full` (with its own item and `len()` 0 each time) reaches a
/// receiver parked in `recv`, which gets the item.
fn try_send_meets_parked_receiver<B: Backend>(
    p: &B::Producer<Tracked>,
    q: &B::Consumer<Tracked>,
    counter: &DropCounter,
) {
    thread::scope(|s| {
        let receiver = s.spawn(|| q.recv().map(|v| v.id()));
        let mut item = counter.item(0, 2);
        loop {
            match p.try_send(item) {
                Ok(()) => break,
                Err(TrySendError::Full(v)) => {
                    assert_eq!(v.id(), (0, 2), "{}: Full's item", B::NAME);
                    assert_eq!(p.len(), 0, "{}: len() at capacity 0", B::NAME);
                    item = v;
                    thread::yield_now();
                }
                Err(TrySendError::Disconnected(_)) => {
                    panic!("{}: try_send gave Disconnected", B::NAME)
                }
            }
        }
        assert_eq!(
            joined(receiver),
            Ok((0, 2)),
            "{}: the parked receiver's item",
            B::NAME
        );
    });
}

/// A `try_recv` retried while `Empty` (with `len()` 0 each time) takes the item of a sender
/// parked in `send`, whose send then returns `Ok`.
fn try_recv_meets_parked_sender<B: Backend>(
    p: &B::Producer<Tracked>,
    q: &B::Consumer<Tracked>,
    counter: &DropCounter,
) {
    thread::scope(|s| {
        let sender = s.spawn(|| p.send(counter.item(0, 3)).map_err(|e| e.into_inner().id()));
        let got = loop {
            match q.try_recv() {
                Ok(v) => break v.id(),
                Err(TryRecvError::Empty) => {
                    assert_eq!(q.len(), 0, "{}: len() at capacity 0", B::NAME);
                    thread::yield_now();
                }
                Err(TryRecvError::Disconnected) => {
                    panic!("{}: try_recv gave Disconnected", B::NAME)
                }
            }
        };
        assert_eq!(got, (0, 3), "{}: try_recv from a parked sender", B::NAME);
        assert_eq!(joined(sender), Ok(()), "{}: the parked sender", B::NAME);
    });
}

/// Zero capacity, `send` and `recv` on different threads complete pairwise. Without
/// rendezvous declared, `bounded(0)` must give [`CapacityError::RendezvousUnsupported`].
///
/// SPSC, `scaled(2000)` items: received in order, and when the consumer holds item k the
/// producer has completed at most k + 1 sends (a send finishes only once its item is taken, so a
/// hidden slot shows up as k + 2). Then 4 producers and 4 consumers with random forms (receivers
/// never poll, or two pollers could never meet) move `scaled(500)` items each: exactly once, in
/// per-producer order for FIFO backends, `len()` 0 whenever sampled, and the drop counter
/// balances.
pub fn zero_capacity_pairs<B: Backend>() {
    if !rendezvous_declared::<B>() {
        return;
    }
    let counter = DropCounter::new();
    one_pair_at_a_time::<B>(&counter);
    let seed = fastrand::u64(..);
    let per_producer = scaled(500) as u64;
    let received = four_by_four_pairs::<B>(&counter, seed, per_producer);
    let context = format!("4x4 at capacity 0, seed {seed}");
    assert_delivered::<B>(&received, &[per_producer; 4], &context);
    assert_all_dropped::<B>(&counter, "zero-capacity pairs");
}

/// SPSC at capacity 0: items arrive in order, and when the consumer holds item k the producer
/// has completed at most k + 1 sends, so no item was buffered.
fn one_pair_at_a_time<B: Backend>(counter: &DropCounter) {
    let n = scaled(2_000) as u64;
    let (p, q) = new_buffer::<B, Tracked>(0);
    let completed = AtomicU64::new(0);
    thread::scope(|s| {
        let completed = &completed;
        s.spawn(move || {
            for seq in 0..n {
                if let Err(e) = p.send(counter.item(0, seq)) {
                    panic!("{}: send with a consumer alive failed: {e}", B::NAME);
                }
                completed.store(seq + 1, SeqCst);
            }
        });
        s.spawn(move || {
            for seq in 0..n {
                let item = match q.recv() {
                    Ok(item) => item,
                    Err(e) => panic!("{}: recv with a producer alive failed: {e}", B::NAME),
                };
                assert_eq!(item.id(), (0, seq), "{}: SPSC order at capacity 0", B::NAME);
                let done = completed.load(SeqCst);
                assert!(
                    done <= seq + 1,
                    "{}: {done} sends completed while the consumer holds item {seq}: an item was \
                     buffered",
                    B::NAME
                );
            }
            assert_recv::<B>(
                &q,
                Err(buffer_api::RecvError),
                "recv after the producer went",
            );
        });
    });
}

/// 4 producers of random forms and 4 consumers of random parking forms move `per_producer`
/// items each through capacity 0 while a sampler checks that `len()` stays 0. Returns what each
/// consumer received, in order.
fn four_by_four_pairs<B: Backend>(
    counter: &DropCounter,
    seed: u64,
    per_producer: u64,
) -> Vec<Vec<(usize, u64)>> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let (p, q) = new_buffer::<B, Tracked>(0);
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        for me in 0..4 {
            let (p, mut rng) = (p.clone(), fork(&mut rng));
            s.spawn(move || {
                for seq in 0..per_producer {
                    if let Err(v) = SendForm::pick(&mut rng).send::<B>(&p, counter.item(me, seq)) {
                        panic!(
                            "{}: {v:?} refused with consumers alive (seed {seed})",
                            B::NAME
                        );
                    }
                }
            });
        }
        let pick = |rng: &mut fastrand::Rng| RecvForm::pick_parking(rng, 3);
        let consumers = spawn_consumers::<B>(s, &q, 4, &mut rng, pick);
        drop(p);
        let sampler = s.spawn(|| {
            while !done.load(SeqCst) {
                assert_eq!(q.len(), 0, "{}: len() at capacity 0 under load", B::NAME);
                thread::yield_now();
            }
        });
        let received = consumers.into_iter().map(joined).collect();
        done.store(true, SeqCst);
        joined(sampler);
        received
    })
}

/// Zero capacity, hand-off: `send(v)` returns only after a receiver owns `v`. Without
/// rendezvous declared, `bounded(0)` must give [`CapacityError::RendezvousUnsupported`].
///
/// With nobody receiving, a `send` is still blocked after [`EPSILON`] and `len()` stays 0; a
/// `recv` then gets its item and only then does the `send` return `Ok`. A `send_timeout` that
/// times out hands its item back and it is never received. Then `scaled(100)` times a producer
/// sends a few items with random forms (blocking or short timeouts) to 1-3 receivers that give up
/// after random short timeouts, and closes the buffer the moment its last send returns: an item
/// whose send returned `Ok` was already owned by a receiver, so every one of them is received,
/// exactly once, and no timed-out item ever is, whatever the close and the timeouts interrupted.
pub fn zero_capacity_hand_off<B: Backend>() {
    if !rendezvous_declared::<B>() {
        return;
    }
    let counter = DropCounter::new();
    send_waits_for_its_receiver::<B>(&counter);
    seeded_reps(scaled(100), |rng, context| {
        hand_offs_against_impatient_receivers::<B>(&counter, rng, context);
    });
    assert_all_dropped::<B>(&counter, "zero-capacity hand-off");
}

/// A `send` with nobody receiving stays blocked with `len()` 0 and returns `Ok` only after a
/// `recv` took its item; a `send_timeout` that times out hands its item back and leaves nothing
/// behind.
fn send_waits_for_its_receiver<B: Backend>(counter: &DropCounter) {
    let (p, q) = new_buffer::<B, Tracked>(0);
    let parked = {
        let (p, item) = (p.clone(), counter.item(0, 0));
        spawn_probe(move || p.send(item).map_err(|e| e.into_inner().id()))
    };
    parked.assert_blocked("send at capacity 0 with no receiver");
    assert_eq!(
        q.len(),
        0,
        "{}: len() with a sender parked at capacity 0",
        B::NAME
    );
    assert_recv::<B>(&q, Ok((0, 0)), "recv from a parked sender");
    assert_eq!(
        parked.join(),
        Ok(()),
        "{}: the parked sender after the recv",
        B::NAME
    );
    assert_send_times_out::<B>(&p, counter.item(0, 1), EPSILON, "without a receiver");
    assert_try_recv::<B>(
        &q,
        Err(TryRecvError::Empty),
        "a timed-out send left its item behind",
    );
}

/// One run: a producer sends 1 to 8 items, blocking or with short timeouts, to 1-3 receivers
/// that give up after random short timeouts, and stops sending the moment its last send
/// returns: exactly the items whose send returned `Ok` are received, once each.
fn hand_offs_against_impatient_receivers<B: Backend>(
    counter: &DropCounter,
    rng: &mut fastrand::Rng,
    context: &str,
) {
    let receivers = rng.usize(1..=3);
    let items = rng.u64(1..=8);
    let (p, q) = new_buffer::<B, Tracked>(0);
    let barrier = Barrier::new(receivers + 1);
    let (accepted, mut received) = thread::scope(|s| {
        let receiver_threads: Vec<_> = (0..receivers)
            .map(|_| {
                let (q, mut rng, barrier) = (q.clone(), fork(rng), &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let mut got = Vec::new();
                    loop {
                        let patience = Duration::from_micros(rng.u64(..=1_000));
                        match q.recv_timeout(patience) {
                            Ok(item) => got.push(item.id()),
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Disconnected) => break got,
                        }
                    }
                })
            })
            .collect();
        barrier.wait();
        let mut accepted = Vec::new();
        for seq in 0..items {
            let item = counter.item(0, seq);
            let sent = if rng.bool() {
                p.send(item).map_err(|e| e.into_inner())
            } else {
                match p.send_timeout(item, Duration::from_micros(rng.u64(..=1_000))) {
                    Ok(()) => Ok(()),
                    Err(SendTimeoutError::Timeout(v)) => Err(v),
                    Err(SendTimeoutError::Disconnected(v)) => {
                        panic!("{}: {v:?} disconnected before the close", B::NAME)
                    }
                }
            };
            match sent {
                Ok(()) => accepted.push((0, seq)),
                Err(v) => assert_eq!(v.id(), (0, seq), "{}: a timed-out send's item", B::NAME),
            }
        }
        stop_sending::<B, _>(p, "after the hand-offs");
        let received: Vec<_> = receiver_threads.into_iter().flat_map(joined).collect();
        (accepted, received)
    });
    received.sort_unstable();
    assert_eq!(
        received,
        accepted,
        "{}: exactly the items whose send returned Ok must be received ({context})",
        B::NAME
    );
}
