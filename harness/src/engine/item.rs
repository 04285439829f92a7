//! The message a run sends: a payload whose first word is a packed `(producer, priority,
//! sampled, seq)` header, and a token that counts its own drop so the ledger can check that
//! every payload was dropped exactly once; and [`ItemPriority`], the key a priority backend
//! reads the header's priority with. With the `u64` payload an item is one word, the size of
//! what a bare loop over `u64` sends: a bigger item costs crossbeam's array more cache lines
//! per handoff and would be measured as the buffer's cost. Send times of sampled items live
//! beside the items, in [`Stamps`](super::stamps::Stamps).
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

/// A payload type. Its first eight bytes are the item's header (producer, priority, sampled
/// flag and sequence number, packed as [`Header`] describes), so a `u64` payload *is* the header
/// and its item is one word, as in a bare loop over `u64`.
pub(crate) trait Body: Send + 'static {
    /// Builds the payload whose header is `header`.
    fn make(header: u64) -> Self;
    /// The header this payload was built with.
    fn header(&self) -> u64;
    /// Reads the payload's far end, so the transfer of all of it cannot be optimised away.
    fn touch(&self) -> u64;
}

impl Body for u64 {
    fn make(header: u64) -> Self {
        header
    }

    fn header(&self) -> u64 {
        *self
    }

    fn touch(&self) -> u64 {
        *self
    }
}

/// The header in the first eight bytes of a byte payload, little-endian.
fn header_of(bytes: &[u8]) -> u64 {
    bytes.first_chunk().map_or(0, |b| u64::from_le_bytes(*b))
}

/// Fills a byte payload: the header first, then the low byte of the header.
fn fill(bytes: &mut [u8], header: u64) {
    bytes.fill(header as u8);
    if let Some(first) = bytes.first_chunk_mut() {
        *first = header.to_le_bytes();
    }
}

impl Body for [u8; 64] {
    fn make(header: u64) -> Self {
        let mut bytes = [0; 64];
        fill(&mut bytes, header);
        bytes
    }

    fn header(&self) -> u64 {
        header_of(self)
    }

    fn touch(&self) -> u64 {
        u64::from(self[63])
    }
}

impl Body for Box<[u8; 4096]> {
    fn make(header: u64) -> Self {
        let mut bytes = Box::new([0; 4096]);
        fill(&mut bytes[..], header);
        bytes
    }

    fn header(&self) -> u64 {
        header_of(&self[..])
    }

    fn touch(&self) -> u64 {
        u64::from(self[4095])
    }
}

/// The layout of an item's 64-bit header, high bits first: the producer's index (12 bits,
/// enough for [`MAX_THREADS`](crate::spec::MAX_THREADS)), the priority (8 bits), whether the
/// item's send time is in the run's [`Stamps`](super::stamps::Stamps) (1 bit), and the
/// sequence number within the producer's share (43 bits, see [`MAX_SHARE`]).
struct Header;

impl Header {
    const SEQ_BITS: u32 = 43;
    const SAMPLED: u64 = 1 << Self::SEQ_BITS;
    const PRIORITY_SHIFT: u32 = Self::SEQ_BITS + 1;
    const PRODUCER_SHIFT: u32 = Self::PRIORITY_SHIFT + 8;

    fn pack(producer: u32, seq: u64, priority: u8, sampled: bool) -> u64 {
        debug_assert!(seq < MAX_SHARE && u64::from(producer) < 1 << (64 - Self::PRODUCER_SHIFT));
        u64::from(producer) << Self::PRODUCER_SHIFT
            | u64::from(priority) << Self::PRIORITY_SHIFT
            | if sampled { Self::SAMPLED } else { 0 }
            | seq
    }
}

/// The most items one producer can number: its share must be below this (2^43).
pub(crate) const MAX_SHARE: u64 = 1 << Header::SEQ_BITS;

const _: () = assert!(crate::spec::MAX_THREADS as u64 <= 1 << (64 - Header::PRODUCER_SHIFT));

/// One message: a payload that carries the item's identity in its header, and a zero-sized
/// token that counts the item's drop. `size_of::<Item<u64>>()` is 8.
pub(crate) struct Item<P> {
    body: P,
    _token: DropToken,
}

impl<P: Body> Item<P> {
    /// Item `seq` of `producer`, with `priority`; `sampled` says that its send time is in the
    /// run's stamps.
    pub(crate) fn new(producer: u32, seq: u64, priority: u8, sampled: bool) -> Self {
        Self {
            body: P::make(Header::pack(producer, seq, priority, sampled)),
            _token: DropToken::new(),
        }
    }

    /// The sending producer's index (0-based).
    #[inline]
    pub(crate) fn producer(&self) -> u32 {
        (self.body.header() >> Header::PRODUCER_SHIFT) as u32
    }

    /// The producer's sequence number, from 0.
    #[inline]
    pub(crate) fn seq(&self) -> u64 {
        self.body.header() & (MAX_SHARE - 1)
    }

    /// Larger leaves a priority buffer first; see [`priority_of`].
    #[inline]
    pub(crate) fn priority(&self) -> u8 {
        (self.body.header() >> Header::PRIORITY_SHIFT) as u8
    }

    /// Whether the run's stamps hold this item's send time.
    #[inline]
    pub(crate) fn sampled(&self) -> bool {
        self.body.header() & Header::SAMPLED != 0
    }

    /// Reads the payload through `black_box` so the compiler keeps the transfer.
    pub(crate) fn touch(&self) {
        black_box(self.body.touch());
    }
}

impl<P: Body> std::fmt::Debug for Item<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Item")
            .field("producer", &self.producer())
            .field("seq", &self.seq())
            .field("priority", &self.priority())
            .field("sampled", &self.sampled())
            .finish()
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
    let z = crate::verify::mix(
        seed.wrapping_add(u64::from(producer).wrapping_mul(0xD6E8_FEB8_6659_FD93))
            .wrapping_add(seq.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
    );
    // Multiply-shift maps the hash onto `0..levels` without the bias of `%`.
    ((u128::from(z) * u128::from(levels)) >> 64) as u8
}

/// The [`PriorityKey`] the harness registers its priority backend with: reads the priority
/// field of the harness's own items, whatever their payload. Any other type ranks 0, so the
/// registry's other users (the demo, the `buffer-pipeline` tests and example, the benches' raw
/// payloads) see a plain FIFO buffer.
///
/// `Backend::bounded::<T>` serves every payload type, so the key cannot name one `Item<P>`;
/// it tries each payload the harness builds. The buffer calls it once per accepted item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ItemPriority;

impl PriorityKey for ItemPriority {
    fn priority(item: &dyn Any) -> u64 {
        fn read<P: Body>(item: &dyn Any) -> Option<u64> {
            item.downcast_ref::<Item<P>>()
                .map(|item| u64::from(item.priority()))
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
        let items: Vec<Item<Box<[u8; 4096]>>> = (0..5).map(|s| Item::new(0, s, 0, false)).collect();
        assert_eq!(drops_on_this_thread(), before);
        drop(items);
        assert_eq!(drops_on_this_thread(), before + 5);
    }

    #[test]
    fn the_key_reads_every_payload_the_harness_sends() {
        assert_eq!(ItemPriority::priority(&Item::<u64>::new(0, 1, 7, false)), 7);
        assert_eq!(
            ItemPriority::priority(&Item::<[u8; 64]>::new(0, 1, 8, false)),
            8
        );
        let boxed = Item::<Box<[u8; 4096]>>::new(0, 1, 255, false);
        assert_eq!(ItemPriority::priority(&boxed), 255);
        assert_eq!(ItemPriority::priority(&42_u64), 0);
    }

    /// Builds an item of payload `P` at the edges of every field and reads each field back.
    fn fields_round_trip<P: Body>() {
        let top = (crate::spec::MAX_THREADS - 1) as u32;
        for (producer, seq, priority, sampled) in [
            (0, 0, 0, false),
            (top, MAX_SHARE - 1, 255, true),
            (1, MAX_SHARE - 2, 1, false),
            (top - 1, 1, 254, true),
        ] {
            let item = Item::<P>::new(producer, seq, priority, sampled);
            assert_eq!(
                (item.producer(), item.seq(), item.priority(), item.sampled()),
                (producer, seq, priority, sampled)
            );
        }
    }

    #[test]
    fn the_header_keeps_every_field_whole() {
        fields_round_trip::<u64>();
        fields_round_trip::<[u8; 64]>();
        fields_round_trip::<Box<[u8; 4096]>>();
        assert_eq!(size_of::<Item<u64>>(), 8);
        assert_eq!(size_of::<Item<[u8; 64]>>(), 64);
        let bytes = Item::<[u8; 64]>::new(2, 0x1234, 9, true);
        assert_eq!(
            bytes.body[8..],
            [0x34; 56],
            "the rest of the payload is filled"
        );
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
