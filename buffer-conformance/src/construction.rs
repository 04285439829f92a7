//! Construction, capacity, backpressure and single-threaded bookkeeping.

use crate::expect_same_items;
use crate::support::{DropCounter, Tracked, new_buffer, spawn_probe};
use buffer_api::{Backend, CapacityError, Consumer, Handle, Producer, TryRecvError, TrySendError};

/// Capacities the single-threaded items walk through.
const CAPACITIES: [usize; 6] = [1, 2, 3, 7, 64, 1000];

/// `bounded(C)` gives an empty, not-full buffer of exactly capacity C, seen alike from
/// both handles.
pub fn construction_capacity<B: Backend>() {
    for capacity in CAPACITIES {
        let (tx, rx) = new_buffer::<B, u64>(capacity);
        for (side, cap, len, empty, full) in [
            (
                "producer",
                tx.capacity(),
                tx.len(),
                tx.is_empty(),
                tx.is_full(),
            ),
            (
                "consumer",
                rx.capacity(),
                rx.len(),
                rx.is_empty(),
                rx.is_full(),
            ),
        ] {
            assert_eq!(cap, capacity, "{}: {side} capacity()", B::NAME);
            assert_eq!(len, 0, "{}: {side} len() of a new buffer", B::NAME);
            assert!(empty, "{}: a new buffer must be empty", B::NAME);
            assert!(
                !full,
                "{}: a new buffer of capacity {capacity} is not full",
                B::NAME
            );
        }
        assert!(
            !tx.is_closed() && !rx.is_closed(),
            "{}: a new buffer is open",
            B::NAME
        );
    }
}

/// `bounded(0)` is a rendezvous buffer exactly when the backend declares it, and
/// otherwise the documented error; never a buffer of another capacity.
pub fn zero_capacity_declared<B: Backend>() {
    match B::bounded::<u64>(0) {
        Ok((tx, rx)) => {
            assert!(
                B::CAPABILITIES.rendezvous,
                "{}: bounded(0) succeeded but rendezvous is not declared",
                B::NAME
            );
            assert_eq!(
                (tx.capacity(), rx.capacity()),
                (0, 0),
                "{}: capacity()",
                B::NAME
            );
            assert_eq!(
                (tx.len(), rx.len()),
                (0, 0),
                "{}: len() at capacity 0",
                B::NAME
            );
        }
        Err(e) => {
            assert!(
                !B::CAPABILITIES.rendezvous,
                "{}: rendezvous is declared but bounded(0) failed: {e}",
                B::NAME
            );
            assert_eq!(e, CapacityError::RendezvousUnsupported { backend: B::NAME });
        }
    }
}

/// A capacity whose storage overflows the address space is refused at construction with
/// [`CapacityError::TooLarge`], for a sized and a zero-sized payload alike.
pub fn overflowing_capacity_refused<B: Backend>() {
    let overflowing = usize::MAX;
    assert_eq!(
        B::bounded::<u64>(overflowing).err(),
        Some(CapacityError::TooLarge {
            capacity: overflowing
        }),
        "{}: bounded::<u64>(usize::MAX)",
        B::NAME
    );
    assert_eq!(
        B::bounded::<()>(overflowing).err(),
        Some(CapacityError::TooLarge {
            capacity: overflowing
        }),
        "{}: bounded::<()>(usize::MAX)",
        B::NAME
    );
    let past_isize = isize::MAX as usize / 8 + 1;
    assert_eq!(
        B::bounded::<u64>(past_isize).err(),
        Some(CapacityError::TooLarge {
            capacity: past_isize
        }),
        "{}: bounded::<u64>(isize::MAX / 8 + 1)",
        B::NAME
    );
}

/// On an empty buffer exactly C `try_send` calls succeed, and the next returns
/// `Full` with the very same item.
pub fn try_send_fills_to_capacity<B: Backend>() {
    for capacity in CAPACITIES {
        let counter = DropCounter::new();
        let (tx, rx) = new_buffer::<B, Tracked>(capacity);
        for seq in 0..capacity as u64 {
            let sent = tx.try_send(counter.item(0, seq));
            assert!(
                sent.is_ok(),
                "{}: try_send {seq} of {capacity} failed",
                B::NAME
            );
        }
        match tx.try_send(counter.item(0, capacity as u64)) {
            Err(TrySendError::Full(item)) => {
                assert_eq!(
                    item.id(),
                    (0, capacity as u64),
                    "{}: Full carried another item",
                    B::NAME
                )
            }
            other => panic!("{}: try_send on a full buffer gave {other:?}", B::NAME),
        }
        assert_eq!(tx.len(), capacity, "{}: len() when full", B::NAME);
        assert!(
            tx.is_full() && rx.is_full(),
            "{}: is_full() when full",
            B::NAME
        );
        assert!(!rx.is_empty(), "{}: a full buffer is not empty", B::NAME);
    }
}

/// A `send` on a full buffer blocks; one `recv` lets it finish, and the buffer holds C
/// items again.
pub fn backpressure_blocks_send<B: Backend>() {
    for capacity in [1, 3] {
        let (tx, rx) = new_buffer::<B, u64>(capacity);
        for i in 0..capacity as u64 {
            tx.send(i).expect("filling an open buffer");
        }
        let sender = tx.clone();
        let probe = spawn_probe(move || sender.send(99).map_err(|e| e.into_inner()));
        probe.assert_blocked("send on a full buffer");
        let first = rx.recv();
        if B::CAPABILITIES.preserves_producer_order() {
            assert_eq!(first, Ok(0), "{}: the oldest item leaves first", B::NAME);
        } else {
            // Which one leaves is the discipline's business (`discipline_one_thread` and
            // `discipline_concurrent_fill` check it); it must be buffered.
            assert!(
                first.is_ok_and(|i| i < capacity as u64),
                "{}: recv gave {first:?}, not a buffered item",
                B::NAME
            );
        }
        assert_eq!(probe.join(), Ok(()), "{}: the blocked send", B::NAME);
        assert_eq!(rx.len(), capacity, "{}: C items buffered again", B::NAME);
    }
}

/// On an empty open buffer `recv` blocks and `try_recv` reports `Empty`, not
/// `Disconnected`.
pub fn empty_recv_blocks<B: Backend>() {
    let (tx, rx) = new_buffer::<B, u64>(4);
    let receiver = rx.clone();
    let probe = spawn_probe(move || receiver.recv());
    probe.assert_blocked("recv on an empty buffer");
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "{}: try_recv on empty",
        B::NAME
    );
    tx.send(7).expect("the buffer is open");
    assert_eq!(
        probe.join(),
        Ok(7),
        "{}: the blocked recv gets the item",
        B::NAME
    );
}

/// 3·C cycles of "send k, recv k" with k cycling through 1..=C: order holds across the
/// wrap of the storage, `len` stays within `0..=C` and ends at 0.
pub fn wraparound_keeps_fifo<B: Backend>() {
    for capacity in [1, 2, 3, 7, 64] {
        let (tx, rx) = new_buffer::<B, u64>(capacity);
        let mut next = 0u64;
        for cycle in 0..3 * capacity {
            let k = cycle % capacity + 1;
            let sent: Vec<u64> = (next..next + k as u64).collect();
            next += k as u64;
            for &v in &sent {
                tx.try_send(v).expect("there is room for k <= C items");
                assert!(tx.len() <= capacity, "{}: len() above capacity", B::NAME);
            }
            assert_eq!(rx.len(), k, "{}: len() after sending {k}", B::NAME);
            let got: Vec<u64> = (0..k)
                .map(|_| rx.try_recv().expect("k items buffered"))
                .collect();
            expect_same_items::<B, _>(&got, &sent, "wraparound cycle");
            assert_eq!(rx.len(), 0, "{}: len() after draining", B::NAME);
        }
    }
}

/// Single-threaded, `len` is exact after every operation, `is_full` iff `len == C`,
/// `is_empty` iff `len == 0`, over a random sequence of operations.
pub fn len_exact_single_thread<B: Backend>() {
    let mut rng = fastrand::Rng::with_seed(8);
    for capacity in CAPACITIES {
        let (tx, rx) = new_buffer::<B, u64>(capacity);
        let mut model = 0usize;
        for step in 0..20 * capacity.max(50) {
            if rng.bool() {
                match tx.try_send(step as u64) {
                    Ok(()) => model += 1,
                    Err(TrySendError::Full(_)) => assert_eq!(model, capacity),
                    Err(e) => panic!("{}: try_send on an open buffer: {e}", B::NAME),
                }
            } else {
                match rx.try_recv() {
                    Ok(_) => model -= 1,
                    Err(TryRecvError::Empty) => assert_eq!(model, 0),
                    Err(e) => panic!("{}: try_recv on an open buffer: {e}", B::NAME),
                }
            }
            assert_eq!(tx.len(), model, "{}: len() at step {step}", B::NAME);
            assert_eq!(
                rx.is_full(),
                model == capacity,
                "{}: is_full() at step {step}",
                B::NAME
            );
            assert_eq!(
                rx.is_empty(),
                model == 0,
                "{}: is_empty() at step {step}",
                B::NAME
            );
        }
    }
}

/// Zero-sized payloads meet the same capacity rule on every backend. A capacity above
/// [`MAX_CAPACITY`](buffer_api::MAX_CAPACITY) is refused with [`CapacityError::TooLarge`] even
/// though its items would take no memory, and a large capacity below it that needs no memory
/// per item is accepted and works.
pub fn zero_sized_capacity<B: Backend>() {
    for capacity in [buffer_api::MAX_CAPACITY + 1, usize::MAX / 2] {
        assert_eq!(
            B::bounded::<()>(capacity).err(),
            Some(CapacityError::TooLarge { capacity }),
            "{}: bounded::<()>({capacity})",
            B::NAME
        );
    }
    let capacity = 1 << 20;
    let (p, q) = new_buffer::<B, ()>(capacity);
    assert_eq!(
        p.capacity(),
        capacity,
        "{}: capacity of a ZST buffer",
        B::NAME
    );
    for _ in 0..3 {
        assert_eq!(p.try_send(()), Ok(()), "{}: try_send(())", B::NAME);
    }
    assert_eq!(q.len(), 3, "{}: len of a ZST buffer", B::NAME);
    assert_eq!(
        q.try_recv(),
        Ok(()),
        "{}: try_recv of a ZST buffer",
        B::NAME
    );
}
