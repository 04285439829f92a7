//! The records workers keep while they run: cheap enough for the hot path (a few bit or
//! arithmetic operations per item), merged by the [`Ledger`](super::Ledger) after the threads
//! are joined.

use super::EXAMPLES;
use super::exactness::{Exactness, Fingerprint};

/// A growable bitmap over sequence numbers.
#[derive(Clone, Debug, Default)]
pub(super) struct Bitmap {
    words: Vec<u64>,
}

impl Bitmap {
    pub(super) fn with_len(bits: u64) -> Self {
        Self {
            words: vec![0; bits.div_ceil(64) as usize],
        }
    }

    /// The word holding `bit`, or `None` if it is out of range.
    #[inline]
    pub(super) fn word_mut(&mut self, bit: u64) -> Option<&mut u64> {
        self.words.get_mut(usize::try_from(bit / 64).ok()?)
    }

    /// Sets `bit`; returns whether it was already set, or `None` if it is out of range.
    pub(super) fn set(&mut self, bit: u64) -> Option<bool> {
        let word = self.word_mut(bit)?;
        let mask = 1 << (bit % 64);
        let was = *word & mask != 0;
        *word |= mask;
        Some(was)
    }

    /// Whether `bit` is set (false when out of range).
    pub(super) fn get(&self, bit: u64) -> bool {
        usize::try_from(bit / 64)
            .ok()
            .and_then(|word| self.words.get(word))
            .is_some_and(|word| word & (1 << (bit % 64)) != 0)
    }

    /// Sets `bit`, growing the bitmap as needed.
    fn insert(&mut self, bit: u64) {
        let word = (bit / 64) as usize;
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (bit % 64);
    }

    pub(super) fn word(&self, index: usize) -> u64 {
        self.words.get(index).copied().unwrap_or(0)
    }
}

/// The mask of the bits below `limit` within word `index`.
pub(super) fn mask_below(index: usize, limit: u64) -> u64 {
    let start = index as u64 * 64;
    if limit >= start + 64 {
        u64::MAX
    } else if limit <= start {
        0
    } else {
        (1u64 << (limit - start)) - 1
    }
}

/// The set bits of `word` (word `index` of a bitmap) as sequence numbers, lowest first.
pub(super) fn bits_of(index: usize, mut word: u64) -> impl Iterator<Item = u64> {
    std::iter::from_fn(move || {
        (word != 0).then(|| {
            let bit = word.trailing_zeros();
            word &= word - 1;
            index as u64 * 64 + u64::from(bit)
        })
    })
}

/// Why a producer's item did not go into the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The buffer was disconnected; the send error handed the item back.
    HandedBack,
    /// The policy dropped it (`drop-newest` on a full buffer).
    DroppedByPolicy,
    /// `send_timeout` timed out and handed it back.
    TimedOut,
    /// `force_send` handed the item itself back as the evicted one: nothing was buffered to
    /// evict and no receiver was waiting (capacity 0). Not to be confused with
    /// [`ProducerRecord::record_eviction`], a send that got in by evicting an older item.
    ReturnedAsEvicted,
}

/// What one producer did, recorded by the producer thread as it goes.
#[derive(Clone, Debug)]
pub(crate) struct ProducerRecord {
    pub(super) offered: u64,
    pub(super) accepted: u64,
    pub(super) refused: Bitmap,
    pub(super) handed_back: u64,
    pub(super) dropped_by_policy: u64,
    pub(super) timed_out: u64,
    /// Items handed back as evicted that were never accepted (see [`Refusal::ReturnedAsEvicted`]).
    pub(super) returned_as_evicted: u64,
    /// Accepted items (of any producer) that this producer's `force_send` evicted.
    pub(super) evictions: Vec<(u32, u64)>,
    pub(super) in_hand: Option<u64>,
}

impl ProducerRecord {
    /// An empty record.
    pub(crate) fn new() -> Self {
        Self {
            offered: 0,
            accepted: 0,
            refused: Bitmap::default(),
            handed_back: 0,
            dropped_by_policy: 0,
            timed_out: 0,
            returned_as_evicted: 0,
            evictions: Vec::new(),
            in_hand: None,
        }
    }

    /// Items `seq..seq + count` were accepted by the buffer.
    #[inline]
    pub(crate) fn accepted(&mut self, seq: u64, count: u64) {
        self.accepted += count;
        self.offered = self.offered.max(seq + count);
    }

    /// Item `seq` was offered and refused.
    pub(crate) fn refused(&mut self, seq: u64, why: Refusal) {
        self.refused.insert(seq);
        self.offered = self.offered.max(seq + 1);
        match why {
            Refusal::HandedBack => self.handed_back += 1,
            Refusal::DroppedByPolicy => self.dropped_by_policy += 1,
            Refusal::TimedOut => self.timed_out += 1,
            Refusal::ReturnedAsEvicted => self.returned_as_evicted += 1,
        }
    }

    /// A `force_send` of this producer evicted item `seq` of `producer` (accepted earlier, by
    /// this producer or another) to make room.
    pub(crate) fn record_eviction(&mut self, producer: u32, seq: u64) {
        self.evictions.push((producer, seq));
    }

    /// Items this producer's `force_send` handed back as evicted, its own or others'.
    pub(crate) fn evicted_count(&self) -> u64 {
        self.evictions.len() as u64 + self.returned_as_evicted
    }

    /// Item `seq` was built and still in the producer's hand when it panicked.
    pub(crate) fn in_hand_at_panic(&mut self, seq: u64) {
        self.in_hand = Some(seq);
        self.offered = self.offered.max(seq + 1);
    }

    /// The fingerprint of the items of this producer (index `producer`) that the buffer
    /// accepted: every item offered but not refused and not in hand at a panic.
    pub(super) fn accepted_fingerprint(&self, producer: u32) -> Fingerprint {
        let mut fingerprint = Fingerprint::default();
        for w in 0..self.offered.div_ceil(64) as usize {
            let mut accepted = mask_below(w, self.offered) & !self.refused.word(w);
            if let Some(seq) = self.in_hand
                && seq / 64 == w as u64
            {
                accepted &= !(1 << (seq % 64));
            }
            for seq in bits_of(w, accepted) {
                fingerprint.add(producer, seq);
            }
        }
        fingerprint
    }

    /// Items accepted by the buffer.
    pub(crate) fn accepted_count(&self) -> u64 {
        self.accepted
    }

    /// Items offered: accepted, refused, or in hand at a panic.
    pub(crate) fn offered(&self) -> u64 {
        self.offered
    }

    /// Items handed back by a disconnected buffer.
    pub(crate) fn handed_back(&self) -> u64 {
        self.handed_back
    }

    /// Items dropped by the policy.
    pub(crate) fn dropped_by_policy(&self) -> u64 {
        self.dropped_by_policy
    }

    /// Items whose send timed out.
    pub(crate) fn timed_out(&self) -> u64 {
        self.timed_out
    }
}

/// What one consumer received, recorded by the consumer thread as it goes: item by item in
/// bitmaps, or only as a fingerprint (see [`Exactness`]).
#[derive(Clone, Debug)]
pub(crate) struct ConsumerRecord {
    /// Per producer, the items received; empty when the run is checked by fingerprint.
    pub(super) seen: Vec<Bitmap>,
    /// What was received, when the run is checked by fingerprint.
    pub(super) fingerprint: Option<Fingerprint>,
    /// Per producer: the highest sequence number received plus one, 0 for none.
    pub(super) next: Vec<u64>,
    pub(super) check_order: bool,
    pub(super) received: u64,
    pub(super) in_hand: u64,
    pub(super) duplicated: u64,
    pub(super) duplicates: Vec<(u32, u64)>,
    pub(super) reordered: u64,
    pub(super) reorders: Vec<(u32, u64, u64)>,
    pub(super) unexpected: u64,
    pub(super) unexpecteds: Vec<(u32, u64)>,
}

impl ConsumerRecord {
    /// An empty record for producers that plan `planned[i]` items each, checked by
    /// `exactness`, and for per-producer order when `check_order`.
    pub(crate) fn new(planned: &[u64], check_order: bool, exactness: Exactness) -> Self {
        let by_ledger = exactness == Exactness::Ledger;
        Self {
            seen: if by_ledger {
                planned.iter().map(|&n| Bitmap::with_len(n)).collect()
            } else {
                Vec::new()
            },
            fingerprint: (!by_ledger).then(Fingerprint::default),
            next: vec![0; planned.len()],
            check_order,
            received: 0,
            in_hand: 0,
            duplicated: 0,
            duplicates: Vec::new(),
            reordered: 0,
            reorders: Vec::new(),
            unexpected: 0,
            unexpecteds: Vec::new(),
        }
    }

    /// Records one received item. Cheap enough for the hot path: a fingerprint's three
    /// operations or a bit test and set, and with an order check a compare.
    #[inline(always)]
    pub(crate) fn record(&mut self, producer: u32, seq: u64) {
        self.received += 1;
        match &mut self.fingerprint {
            Some(fingerprint) => {
                fingerprint.add(producer, seq);
                if self.check_order {
                    self.check_order_of(producer, seq);
                }
            }
            None => self.mark(producer, seq),
        }
    }

    /// Per-producer order by fingerprint: nothing but the last sequence number per producer.
    /// An item of an unknown producer is the fingerprint's to catch.
    #[inline]
    fn check_order_of(&mut self, producer: u32, seq: u64) {
        if let Some(next) = self.next.get_mut(producer as usize) {
            if seq < *next {
                self.reordered(producer, seq);
            } else {
                *next = seq + 1;
            }
        }
    }

    /// Sets the item's bit; anything unusual goes to [`Self::record_unusual`].
    #[inline]
    fn mark(&mut self, producer: u32, seq: u64) {
        let p = producer as usize;
        if let Some(word) = self.seen.get_mut(p).and_then(|bits| bits.word_mut(seq)) {
            let mask = 1 << (seq % 64);
            if *word & mask == 0 {
                *word |= mask;
                if self.check_order {
                    let next = &mut self.next[p];
                    if seq < *next {
                        self.reordered(producer, seq);
                    } else {
                        *next = seq + 1;
                    }
                }
                return;
            }
        }
        self.record_unusual(producer, seq);
    }

    /// An item outside every producer's plan, or one already received.
    #[cold]
    #[inline(never)]
    fn record_unusual(&mut self, producer: u32, seq: u64) {
        if self
            .seen
            .get(producer as usize)
            .is_some_and(|bits| bits.get(seq))
        {
            self.duplicated += 1;
            if self.duplicates.len() < EXAMPLES {
                self.duplicates.push((producer, seq));
            }
        } else {
            self.unexpected += 1;
            if self.unexpecteds.len() < EXAMPLES {
                self.unexpecteds.push((producer, seq));
            }
        }
    }

    /// Item `seq` of `producer` came after a later one.
    #[cold]
    #[inline(never)]
    fn reordered(&mut self, producer: u32, seq: u64) {
        self.reordered += 1;
        if self.reorders.len() < EXAMPLES {
            let latest = self.next[producer as usize] - 1;
            self.reorders.push((producer, seq, latest));
        }
    }

    /// Records an item received just before this consumer panicked: it counts as in hand at a
    /// panic, not as delivered.
    pub(crate) fn record_in_hand_at_panic(&mut self, producer: u32, seq: u64) {
        self.record(producer, seq);
        self.in_hand += 1;
    }
}
