//! The message a run sends: a `(producer, seq, priority, send time)` header, a payload, and a
//! token that counts its own drop so the ledger can check that every payload was dropped exactly
//! once; and [`ItemPriority`], the key a priority backend reads the header's priority with.
//!
//! Drops are counted in a thread-local counter, not a shared atomic: a shared counter bumped by
//! every consumer for every message would be a contended cache line and would distort the
//! measurement. Each worker reads its thread's counter before and after its work (handles
//! included, so items a buffer discards on disconnect are counted where that happens) and adds
//! the difference to the run's atomic total once, at exit.

use std::any::Any;
use std::cell::Cell;
use std::hint::black_box;

use buffer_api::PriorityKey;

thread_local! {
    static DROPS: Cell<u64> = const { Cell::new(0) };
}

/// Payload drops counted on the current thread so far.
pub(crate) fn drops_on_this_thread() -> u64 {
    DROPS.with(Cell::get)
}

/// Counts one drop when it is dropped. Zero-sized.
#[derive(Debug)]
pub(crate) struct DropToken(());

impl DropToken {
    fn new() -> Self {
        Self(())
    }
}

impl Drop for DropToken {
    fn drop(&mut self) {
        DROPS.with(|drops| drops.set(drops.get() + 1));
    }
}

/// A payload type: built from the sequence number by the producer, read by the consumer so the
/// transfer cannot be optimised away.
pub(crate) trait Body: Send + 'static {
    /// Builds the payload of item `seq`.
    fn make(seq: u64) -> Self;
    /// Reads the payload.
    fn touch(&self) -> u64;
}

impl Body for u64 {
    fn make(seq: u64) -> Self {
        seq
    }

    fn touch(&self) -> u64 {
        *self
    }
}

impl Body for [u8; 64] {
    fn make(seq: u64) -> Self {
        [seq as u8; 64]
    }

    fn touch(&self) -> u64 {
        u64::from(self[0]) ^ u64::from(self[63])
    }
}

impl Body for Box<[u8; 4096]> {
    fn make(seq: u64) -> Self {
        Box::new([seq as u8; 4096])
    }

    fn touch(&self) -> u64 {
        u64::from(self[0]) ^ u64::from(self[4095])
    }
}

/// One message.
#[derive(Debug)]
pub(crate) struct Item<P> {
    /// The sending producer's index (0-based).
    pub(crate) producer: u32,
    /// The producer's sequence number, from 0.
    pub(crate) seq: u64,
    /// Larger leaves a priority buffer first; see [`priority_of`].
    pub(crate) priority: u8,
    /// Nanoseconds since the run's epoch, plus one; 0 when this item carries no timestamp.
    pub(crate) stamp: u64,
    pub(crate) payload: P,
    _token: DropToken,
}

impl<P: Body> Item<P> {
    pub(crate) fn new(producer: u32, seq: u64, priority: u8, stamp: u64) -> Self {
        Self {
            producer,
            seq,
            priority,
            stamp,
            payload: P::make(seq),
            _token: DropToken::new(),
        }
    }

    /// Reads the payload through `black_box` so the compiler keeps the transfer.
    pub(crate) fn touch(&self) {
        black_box(self.payload.touch());
    }
}

/// The priority of item `seq` of `producer` when a workload has `levels` priorities (1 to
/// 256): uniform over `0..levels`, a pure function of the seed, the producer and the sequence
/// number, so every run with the same seed offers the same priorities and the verifier can
/// recompute any item's priority from its identity.
pub(crate) fn priority_of(seed: u64, producer: u32, seq: u64, levels: u32) -> u8 {
    if levels <= 1 {
        return 0;
    }
    // splitmix64 of the item's identity: cheap, and well mixed in its low bits.
    let mut z = seed
        .wrapping_add(u64::from(producer).wrapping_mul(0xD6E8_FEB8_6659_FD93))
        .wrapping_add(seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // Multiply-shift maps the hash onto `0..levels` without the bias of `%`.
    ((u128::from(z) * u128::from(levels)) >> 64) as u8
}

/// The [`PriorityKey`] the harness registers its priority backend with: reads the priority
/// field of the harness's own items, whatever their payload. Any other type ranks 0, so the
/// library's other users of the registry (the demo, the pipeline, the benches' raw payloads)
/// see a plain FIFO buffer.
///
/// `Backend::bounded::<T>` serves every payload type, so the key cannot name one `Item<P>`;
/// it tries each payload the harness builds. The buffer calls it once per accepted item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ItemPriority;

impl PriorityKey for ItemPriority {
    fn priority(item: &dyn Any) -> u64 {
        fn read<P: 'static>(item: &dyn Any) -> Option<u64> {
            item.downcast_ref::<Item<P>>()
                .map(|item| u64::from(item.priority))
        }
        read::<u64>(item)
            .or_else(|| read::<[u8; 64]>(item))
            .or_else(|| read::<Box<[u8; 4096]>>(item))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_drop_is_counted_once() {
        let before = drops_on_this_thread();
        let items: Vec<Item<Box<[u8; 4096]>>> = (0..5).map(|s| Item::new(0, s, 0, 0)).collect();
        assert_eq!(drops_on_this_thread(), before);
        drop(items);
        assert_eq!(drops_on_this_thread(), before + 5);
    }

    #[test]
    fn the_key_reads_every_payload_the_harness_sends() {
        assert_eq!(ItemPriority::priority(&Item::<u64>::new(0, 1, 7, 0)), 7);
        assert_eq!(
            ItemPriority::priority(&Item::<[u8; 64]>::new(0, 1, 8, 0)),
            8
        );
        let boxed = Item::<Box<[u8; 4096]>>::new(0, 1, 255, 0);
        assert_eq!(ItemPriority::priority(&boxed), 255);
        assert_eq!(ItemPriority::priority(&42_u64), 0);
    }

    #[test]
    fn priorities_are_uniform_and_deterministic() {
        assert_eq!(priority_of(1, 0, 5, 1), 0);
        let first: Vec<u8> = (0..8).map(|seq| priority_of(1, 0, seq, 10)).collect();
        assert_eq!(first, [3, 5, 7, 9, 4, 4, 7, 8]);
        let mut counts = [0u32; 10];
        for seq in 0..10_000 {
            counts[usize::from(priority_of(1, 2, seq, 10))] += 1;
        }
        // 1000 expected per level.
        assert_eq!(
            counts,
            [996, 1017, 1012, 983, 1022, 983, 1070, 969, 986, 962]
        );
    }
}
