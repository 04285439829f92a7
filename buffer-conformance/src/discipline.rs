//! The order of the declared discipline, and `force_send` (the drop-oldest policy).
//! `discipline_one_thread` and `discipline_concurrent_fill` run on every backend and check the
//! discipline it declares, so a FIFO backend is held to FIFO here as a LIFO backend is held to
//! LIFO. `force_send_one_thread` and `force_send_exactly_once` check
//! `force_send` where [`Capabilities::drop_oldest`](buffer_api::Capabilities::drop_oldest) is
//! declared, and its refusal where it is not.
//!
//! Priority backends read priorities through a [`PriorityKey`]; instantiate the suite for one
//! with [`RankedKey`], which reads the suite's own payloads:
//!
//! ```text
//! buffer_conformance::conformance_suite!(buffer_condvar::CondvarPriority<buffer_conformance::RankedKey>);
//! ```

use std::any::Any;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::thread;

use crate::support::{DropCounter, Tracked, new_buffer, scaled, seeded_rng};
use buffer_api::{
    Backend, Consumer, Discipline, ForceSendError, Handle, PriorityKey, Producer, TryRecvError,
    TrySendError,
};

/// A payload with an explicit priority, for the discipline behaviours and
/// `force_send_one_thread`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ranked {
    /// Larger leaves first in a priority buffer.
    pub priority: u64,
    /// The producer that made it.
    pub producer: usize,
    /// Its position in that producer's sequence.
    pub seq: u64,
}

/// The [`PriorityKey`] the suite instantiates priority backends with.
///
/// It reads [`Ranked::priority`], and it gives the suite's other payloads priorities too, so
/// that every item of the suite (exactly-once, close, drops, ...) runs through a priority
/// buffer with a real mix of priorities rather than all-equal ones: a [`Tracked`] item ranks
/// `seq % 4`, a `u64` ranks its value `% 4`.
pub struct RankedKey;

impl PriorityKey for RankedKey {
    fn priority(item: &dyn Any) -> u64 {
        if let Some(ranked) = item.downcast_ref::<Ranked>() {
            ranked.priority
        } else if let Some(tracked) = item.downcast_ref::<Tracked>() {
            tracked.seq % 4
        } else if let Some(&value) = item.downcast_ref::<u64>() {
            value % 4
        } else {
            0
        }
    }
}

/// The reference model of a discipline: what a buffer holding these items must hand out next.
struct Model {
    discipline: Discipline,
    /// Buffered items in arrival order.
    items: VecDeque<Ranked>,
}

impl Model {
    fn new(discipline: Discipline) -> Self {
        Self {
            discipline,
            items: VecDeque::new(),
        }
    }

    /// The index of the item that leaves next, given the item the buffer handed out: the
    /// model predicts it for every ordered discipline and ignores `got`; for
    /// [`Discipline::Unordered`] any buffered item may leave, so the model takes `got` when it
    /// is buffered (and otherwise the oldest, which then fails the comparison).
    fn next_index(&self, got: Option<&Ranked>) -> Option<usize> {
        if self.items.is_empty() {
            return None;
        }
        Some(match self.discipline {
            Discipline::Fifo => 0,
            Discipline::Lifo => self.items.len() - 1,
            // The first (oldest) item of the highest priority.
            Discipline::Priority => {
                let top = self.items.iter().map(|r| r.priority).max()?;
                self.items.iter().position(|r| r.priority == top)?
            }
            Discipline::Unordered => self.position_of(got),
        })
    }

    /// The index of the item `force_send` evicts, given the item it handed back (used only
    /// for [`Discipline::Unordered`], as in [`next_index`](Self::next_index)).
    fn evict_index(&self, got: Option<&Ranked>) -> Option<usize> {
        if self.items.is_empty() {
            return None;
        }
        Some(match self.discipline {
            Discipline::Fifo | Discipline::Lifo => 0,
            // The oldest item of the lowest priority.
            Discipline::Priority => {
                let bottom = self.items.iter().map(|r| r.priority).min()?;
                self.items.iter().position(|r| r.priority == bottom)?
            }
            Discipline::Unordered => self.position_of(got),
        })
    }

    /// Where `got` is buffered, or 0 when it is not.
    fn position_of(&self, got: Option<&Ranked>) -> usize {
        got.and_then(|got| self.items.iter().position(|r| r == got))
            .unwrap_or(0)
    }

    /// Takes the item that leaves next; `got` is what the buffer handed out.
    fn pop(&mut self, got: Option<&Ranked>) -> Option<Ranked> {
        let index = self.next_index(got)?;
        self.items.remove(index)
    }

    /// Takes the item `force_send` evicts; `got` is what the buffer handed back.
    fn evict(&mut self, got: Option<&Ranked>) -> Option<Ranked> {
        let index = self.evict_index(got)?;
        self.items.remove(index)
    }
}

/// One thread, a random mix of `try_send`, `try_recv`, `recv_batch` and (where
/// declared) `force_send` at capacities 1, 2, 5 and 16, checked step by step against a
/// reference model of the declared discipline; then close, drain in the discipline's order,
/// and `Disconnected`.
pub fn discipline_one_thread<B: Backend>() {
    let steps = scaled(2_000);
    let (seed, mut rng) = seeded_rng();
    let discipline = B::CAPABILITIES.discipline;
    for capacity in [1, 2, 5, 16] {
        let what = format!("{}: capacity {capacity}, seed {seed}", B::NAME);
        let (tx, rx) = new_buffer::<B, Ranked>(capacity);
        let mut model = Model::new(discipline);
        let mut batch = Vec::new();
        for seq in 0..steps as u64 {
            let item = Ranked {
                priority: rng.u64(0..4),
                producer: 0,
                seq,
            };
            match rng.u8(0..8) {
                0..=2 => match tx.try_send(item) {
                    Ok(()) => {
                        assert!(model.items.len() < capacity, "{what}: accepted when full");
                        model.items.push_back(item);
                    }
                    Err(TrySendError::Full(back)) => {
                        assert_eq!(back, item, "{what}: Full handed back another item");
                        assert_eq!(model.items.len(), capacity, "{what}: Full with room");
                    }
                    Err(TrySendError::Disconnected(_)) => panic!("{what}: disconnected"),
                },
                3..=5 => {
                    let got = rx.try_recv();
                    assert_eq!(
                        got,
                        model.pop(got.as_ref().ok()).ok_or(TryRecvError::Empty),
                        "{what}: try_recv at step {seq}"
                    );
                }
                6 => {
                    if model.items.is_empty() {
                        continue;
                    }
                    let max = rng.usize(1..=capacity);
                    batch.clear();
                    let n = rx.recv_batch(&mut batch, max).expect("the buffer is open");
                    let expected: Vec<Ranked> = (0..max)
                        .map_while(|i| model.pop(batch.get(i)))
                        .collect::<Vec<_>>();
                    assert_eq!(n, expected.len(), "{what}: recv_batch count at step {seq}");
                    assert_eq!(batch, expected, "{what}: recv_batch order at step {seq}");
                }
                _ => {
                    if !B::CAPABILITIES.drop_oldest {
                        continue;
                    }
                    let got = tx.force_send(item);
                    let handed_back = got.as_ref().ok().and_then(Option::as_ref);
                    let expected = if model.items.len() == capacity {
                        model.evict(handed_back)
                    } else {
                        None
                    };
                    model.items.push_back(item);
                    assert_eq!(got, Ok(expected), "{what}: force_send at step {seq}");
                }
            }
            assert_eq!(tx.len(), model.items.len(), "{what}: len at step {seq}");
        }
        if B::CAPABILITIES.closes() {
            assert!(tx.close(), "{what}: close");
        } else {
            // Without close, dropping the only producer ends the buffer the same way.
            drop(tx);
        }
        while !model.items.is_empty() {
            let got = rx.try_recv();
            let expected = model.pop(got.as_ref().ok());
            assert_eq!(got.ok(), expected, "{what}: drain after close");
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected), "{what}");
    }
}

/// One consumer, several producers. Each round, producers fill the buffer
/// concurrently with items of random priorities while the consumer waits; then the consumer
/// drains it. Every item sent comes out once, in the declared discipline's order: FIFO keeps
/// each producer's order, LIFO reverses it, priority hands out non-increasing priorities and,
/// among equal priorities, each producer's items in the order sent; unordered, any order.
pub fn discipline_concurrent_fill<B: Backend>() {
    let rounds = scaled(50);
    let (seed, mut rng) = seeded_rng();
    let discipline = B::CAPABILITIES.discipline;
    let producers = 4;
    for round in 0..rounds {
        let capacity = rng.usize(4..=64);
        let what = format!(
            "{}: round {round}, capacity {capacity}, seed {seed}",
            B::NAME
        );
        let (tx, rx) = new_buffer::<B, Ranked>(capacity);
        let seeds: Vec<u64> = (0..producers).map(|_| rng.u64(..)).collect();
        thread::scope(|s| {
            for (producer, &seed) in seeds.iter().enumerate() {
                let tx = tx.clone();
                s.spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(seed);
                    // Each producer sends its share; the shares add up to the capacity.
                    let share = capacity / producers + usize::from(producer < capacity % producers);
                    for seq in 0..share as u64 {
                        let item = Ranked {
                            priority: rng.u64(0..3),
                            producer,
                            seq,
                        };
                        tx.send(item).expect("the consumer is alive");
                    }
                });
            }
        });
        assert_eq!(rx.len(), capacity, "{what}: filled");
        let drained: Vec<Ranked> = (0..capacity)
            .map(|_| rx.try_recv().expect("the buffer is full"))
            .collect();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{what}");
        let mut identities: Vec<(usize, u64)> =
            drained.iter().map(|r| (r.producer, r.seq)).collect();
        identities.sort_unstable();
        let sent: Vec<(usize, u64)> = (0..producers)
            .flat_map(|p| {
                let share = capacity / producers + usize::from(p < capacity % producers);
                (0..share as u64).map(move |seq| (p, seq))
            })
            .collect();
        assert_eq!(identities, sent, "{what}: the items drained");
        check_drain_order(discipline, &drained, &what);
    }
}

/// Checks an order drained from a buffer filled concurrently, where only each producer's own
/// order of arrival is known.
fn check_drain_order(discipline: Discipline, drained: &[Ranked], what: &str) {
    let mut last: BTreeMap<(usize, u64), u64> = BTreeMap::new();
    for (i, item) in drained.iter().enumerate() {
        if discipline == Discipline::Priority && i > 0 {
            assert!(
                drained[i - 1].priority >= item.priority,
                "{what}: priority {} handed out before priority {}",
                drained[i - 1].priority,
                item.priority
            );
        }
        // The previous item of the same producer (and, for priority, of the same priority).
        let class = match discipline {
            Discipline::Priority => (item.producer, item.priority),
            Discipline::Fifo | Discipline::Lifo => (item.producer, 0),
            // No order promised: the caller has checked that each item came out once.
            Discipline::Unordered => return,
        };
        if let Some(&previous) = last.get(&class) {
            let in_order = match discipline {
                Discipline::Fifo | Discipline::Priority => previous < item.seq,
                Discipline::Lifo => previous > item.seq,
                Discipline::Unordered => true,
            };
            assert!(
                in_order,
                "{what}: producer {} seq {} came after seq {previous}, against {discipline}",
                item.producer, item.seq
            );
        }
        last.insert(class, item.seq);
    }
}

/// `force_send` on one thread. Where `drop_oldest` is not declared, every call
/// refuses with `Unsupported` and the very item, leaving the buffer untouched. Where it is:
/// with room it inserts and evicts nothing; on a full buffer it evicts the item the
/// discipline names and keeps `len() == capacity()`; after close it refuses with
/// `Disconnected`; at capacity 0 it returns its own item unless a receiver is waiting, and
/// then the receiver gets it.
pub fn force_send_one_thread<B: Backend>() {
    let item = |priority, seq| Ranked {
        priority,
        producer: 0,
        seq,
    };
    let (tx, rx) = new_buffer::<B, Ranked>(2);
    if !B::CAPABILITIES.drop_oldest {
        tx.send(item(0, 0)).expect("room");
        for buffered in [1, 2] {
            assert_eq!(
                tx.force_send(item(1, 9)),
                Err(ForceSendError::Unsupported(item(1, 9))),
                "{}: force_send without drop_oldest",
                B::NAME
            );
            assert_eq!(tx.len(), buffered, "{}: force_send changed len", B::NAME);
            if buffered == 1 {
                tx.send(item(0, 1)).expect("room");
            }
        }
        let mut left = [rx.try_recv(), rx.try_recv()];
        left.sort_by_key(|r| r.map_or(u64::MAX, |r| r.seq));
        assert_eq!(left, [Ok(item(0, 0)), Ok(item(0, 1))], "{}: kept", B::NAME);
        return;
    }
    let name = B::NAME;
    // Priorities 2, 1, 1: the FIFO and LIFO victim is seq 0, the priority victim seq 1.
    assert_eq!(tx.force_send(item(2, 0)), Ok(None), "{name}: room");
    assert_eq!(tx.force_send(item(1, 1)), Ok(None), "{name}: room");
    let victim = match (B::CAPABILITIES.discipline, tx.force_send(item(1, 2))) {
        (Discipline::Fifo | Discipline::Lifo, evicted) => {
            assert_eq!(evicted, Ok(Some(item(2, 0))), "{name}: full");
            item(2, 0)
        }
        (Discipline::Priority, evicted) => {
            assert_eq!(evicted, Ok(Some(item(1, 1))), "{name}: full");
            item(1, 1)
        }
        // Either buffered item may go; it must be one of them.
        (Discipline::Unordered, evicted) => match evicted {
            Ok(Some(victim)) if [item(2, 0), item(1, 1)].contains(&victim) => victim,
            other => panic!("{name}: full, evicted {other:?}"),
        },
    };
    assert_eq!(tx.len(), 2, "{name}: len after an eviction");
    assert!(rx.close(), "{name}: close");
    assert_eq!(
        tx.force_send(item(3, 3)),
        Err(ForceSendError::Disconnected(item(3, 3))),
        "{name}: force_send after close"
    );
    let mut left = [rx.try_recv(), rx.try_recv()];
    left.sort_by_key(|r| r.map_or(u64::MAX, |r| r.seq));
    let kept = [item(2, 0), item(1, 1), item(1, 2)];
    let expected: Vec<_> = kept.into_iter().filter(|r| *r != victim).map(Ok).collect();
    assert_eq!(left.to_vec(), expected, "{name}: the items kept");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected), "{name}");

    if !B::CAPABILITIES.rendezvous {
        return;
    }
    let (tx, rx) = new_buffer::<B, Ranked>(0);
    assert_eq!(
        tx.force_send(item(0, 0)),
        Ok(Some(item(0, 0))),
        "{name}: capacity 0, nobody waiting"
    );
    thread::scope(|s| {
        let receiver = s.spawn(|| rx.recv());
        // Each attempt before the receiver waits comes straight back; none is lost.
        let mut attempts = 0;
        while tx.force_send(item(0, 1)) != Ok(None) {
            attempts += 1;
            thread::yield_now();
        }
        assert_eq!(
            receiver.join().expect("the receiver"),
            Ok(item(0, 1)),
            "{name}: capacity 0 hand-off after {attempts} returned attempts"
        );
    });
}

/// `force_send` under load. Producers shed with `force_send` into a small buffer
/// while consumers receive. Every item is either received or handed back as evicted, exactly
/// once and never both; the buffer never holds more than its capacity; every item is dropped
/// exactly once; and for FIFO, each producer's received items keep their order.
pub fn force_send_exactly_once<B: Backend>() {
    if !B::CAPABILITIES.drop_oldest {
        // `force_send_one_thread` checks the refusal; there is no drop-oldest behaviour to load.
        let (tx, _rx) = new_buffer::<B, u64>(1);
        assert!(tx.force_send(7).is_err_and(|e| e.is_unsupported()));
        return;
    }
    let per_producer = scaled(2_000) as u64;
    for (producers, consumers, capacity) in [(1, 1, 1), (4, 2, 3), (2, 4, 16), (8, 8, 5)] {
        let what = format!(
            "{}: {producers}:{consumers} at capacity {capacity}",
            B::NAME
        );
        let counter = DropCounter::new();
        let (tx, rx) = new_buffer::<B, Tracked>(capacity);
        let evicted = Mutex::new(Vec::new());
        let received = Mutex::new(Vec::new());
        thread::scope(|s| {
            for producer in 0..producers {
                let tx = tx.clone();
                let (counter, evicted) = (&counter, &evicted);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    for seq in 0..per_producer {
                        match tx.force_send(counter.item(producer, seq)) {
                            Ok(Some(victim)) => mine.push(victim.id()),
                            Ok(None) => {}
                            Err(e) => panic!("force_send failed: {e}"),
                        }
                        let len = tx.len();
                        assert!(len <= capacity, "len {len} over capacity {capacity}");
                    }
                    evicted.lock().expect("no panics").extend(mine);
                });
            }
            drop(tx);
            for _ in 0..consumers {
                let rx = rx.clone();
                let received = &received;
                s.spawn(move || {
                    let mut mine = Vec::new();
                    while let Ok(item) = rx.recv() {
                        mine.push(item.id());
                    }
                    received.lock().expect("no panics").push(mine);
                });
            }
        });
        drop(rx);
        let evicted = evicted.into_inner().expect("no panics");
        let received = received.into_inner().expect("no panics");
        let mut seen = HashSet::new();
        for id in received.iter().flatten().chain(&evicted) {
            assert!(
                seen.insert(*id),
                "{what}: item {id:?} delivered or evicted twice"
            );
        }
        assert_eq!(
            seen.len() as u64,
            producers as u64 * per_producer,
            "{what}: items neither received nor evicted"
        );
        if B::CAPABILITIES.preserves_producer_order() {
            for consumer in &received {
                let mut last: BTreeMap<usize, u64> = BTreeMap::new();
                for &(producer, seq) in consumer {
                    if let Some(previous) = last.insert(producer, seq) {
                        assert!(previous < seq, "{what}: producer {producer} out of order");
                    }
                }
            }
        }
        assert_eq!(counter.alive(), 0, "{what}: items alive after the run");
    }
}
