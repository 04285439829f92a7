//! The non-blocking operations.

use crate::expect_same_items;
use crate::support::{DropCounter, Tracked, new_buffer};
use buffer_api::{Backend, Consumer, Handle, Producer, TryRecvError, TrySendError};

/// `try_send` on a full buffer returns `Full` with the identical item, does not block,
/// and leaves the contents and their order unchanged.
pub fn try_send_full_unchanged<B: Backend>() {
    for capacity in [1, 4, 64] {
        let counter = DropCounter::new();
        let (tx, rx) = new_buffer::<B, Tracked>(capacity);
        for seq in 0..capacity as u64 {
            tx.send(counter.item(0, seq))
                .expect("filling an open buffer");
        }
        for attempt in 0..3u64 {
            match tx.try_send(counter.item(1, attempt)) {
                Err(TrySendError::Full(item)) => {
                    assert_eq!(
                        item.id(),
                        (1, attempt),
                        "{}: Full carried another item",
                        B::NAME
                    )
                }
                other => panic!("{}: try_send on a full buffer gave {other:?}", B::NAME),
            }
        }
        assert_eq!(rx.len(), capacity, "{}: len() after refused sends", B::NAME);
        let got: Vec<(usize, u64)> = (0..capacity)
            .map(|_| rx.try_recv().expect("buffered").id())
            .collect();
        let expected: Vec<(usize, u64)> = (0..capacity as u64).map(|seq| (0, seq)).collect();
        expect_same_items::<B, _>(&got, &expected, "contents after refused try_send");
        assert_eq!(rx.try_recv().map(|t| t.id()), Err(TryRecvError::Empty));
        assert_eq!(
            counter.alive(),
            0,
            "{}: refused items were dropped once by the caller",
            B::NAME
        );
    }
}

/// `try_recv` on an empty open buffer gives `Empty`; on a closed buffer that still
/// holds items it gives the items first, in order, then `Disconnected` on every later call.
pub fn try_recv_empty_then_drain<B: Backend>() {
    let (tx, rx) = new_buffer::<B, u64>(8);
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "{}: empty and open",
        B::NAME
    );
    for i in 0..5 {
        tx.send(i).expect("the buffer is open");
    }
    if B::CAPABILITIES.closes() {
        assert!(
            tx.close(),
            "{}: the first close() reports it closed the buffer",
            B::NAME
        );
    } else {
        // Without close, dropping the only producer ends the buffer the same way.
        drop(tx);
    }
    let got: Vec<u64> = (0..5)
        .map(|_| rx.try_recv().expect("buffered before close"))
        .collect();
    expect_same_items::<B, _>(&got, &[0, 1, 2, 3, 4], "drain after close");
    for _ in 0..3 {
        assert_eq!(
            rx.try_recv(),
            Err(TryRecvError::Disconnected),
            "{}: after the drain",
            B::NAME
        );
    }
}
