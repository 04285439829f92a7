//! A consumer that goes with items in its local deque loses none of them: dropped, or its
//! thread panicking, it hands them back to the others; the last consumer drops them once.
//!
//! Each case sends [`SENT`] items, lets one consumer take a single item (which moves a whole
//! batch into its deque), and then ends that consumer. Were the deque's items discarded
//! instead of handed back, the survivors would receive fewer than `SENT - 1` items.

use std::collections::BTreeSet;
use std::thread;

use buffer_api::{Backend, Consumer, Handle, Producer, TryRecvError};
use buffer_conformance::{DropCounter, Tracked};
use buffer_steal::{STEAL_BATCH, Steal};

const SENT: u64 = 40;

/// A buffer's producer, the consumer holding a batch, another consumer, and the item taken.
type Holding = (
    <Steal as Backend>::Producer<Tracked>,
    <Steal as Backend>::Consumer<Tracked>,
    <Steal as Backend>::Consumer<Tracked>,
    Tracked,
);

/// A buffer holding `SENT` tracked items, its producer, and two consumers, the first of which
/// has taken one item (returned) and holds the rest of its batch in its deque.
fn one_consumer_holding_a_batch(counter: &DropCounter) -> Holding {
    let (tx, holder) = Steal::bounded::<Tracked>(64).expect("capacity 64");
    for seq in 0..SENT {
        tx.send(counter.item(0, seq)).expect("room");
    }
    let taken = holder.try_recv().expect("an item is buffered");
    let other = holder.clone();
    (tx, holder, other, taken)
}

/// Every item `rx` can take now, by identity.
fn drain(rx: &<Steal as Backend>::Consumer<Tracked>) -> BTreeSet<(usize, u64)> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .map(|item| item.id())
        .collect()
}

/// The identities of every item sent but `taken`.
fn all_but(taken: &Tracked) -> BTreeSet<(usize, u64)> {
    (0..SENT)
        .map(|seq| (0, seq))
        .filter(|id| *id != taken.id())
        .collect()
}

#[test]
fn dropped_consumer_hands_its_deque_back() {
    const {
        assert!(
            STEAL_BATCH > 1,
            "a batch of one leaves nothing in the deque"
        )
    };
    let counter = DropCounter::new();
    let (tx, holder, other, taken) = one_consumer_holding_a_batch(&counter);
    drop(holder);
    assert_eq!(drain(&other), all_but(&taken));
    assert_eq!(tx.len(), 0);
    drop(taken);
    assert_eq!(counter.alive(), 0, "every item dropped once");
}

#[test]
fn panicking_consumer_hands_its_deque_back() {
    let counter = DropCounter::new();
    let (tx, holder, other, taken) = one_consumer_holding_a_batch(&counter);
    let died = thread::spawn(move || {
        let _holder = holder;
        panic!("a consumer dies with its deque full, on purpose");
    })
    .join();
    assert!(died.is_err(), "the consumer's thread panicked");
    assert_eq!(drain(&other), all_but(&taken));
    drop(tx);
    assert_eq!(other.try_recv(), Err(TryRecvError::Disconnected));
    drop(taken);
    assert_eq!(counter.alive(), 0, "every item dropped once");
}

#[test]
fn last_consumer_drops_its_deque_once() {
    let counter = DropCounter::new();
    let (tx, holder, other, taken) = one_consumer_holding_a_batch(&counter);
    drop(other);
    assert_eq!(counter.alive(), SENT as usize, "a consumer is left");
    drop(holder);
    assert_eq!(counter.alive(), 1, "only the item taken is alive");
    assert!(tx.is_closed());
    assert_eq!(tx.len(), 0);
    drop(taken);
    assert_eq!(counter.dropped(), SENT as usize);
}
