//! How a run proves that every accepted item was received exactly once, and the one rule that
//! picks the proof for each run ([`Exactness::for_run`]).
//!
//! The full ledger gives every consumer a bitmap per producer and names each lost, duplicated
//! or unexpected item; on one thread it was the largest cost the harness added to a fast
//! channel. A measured repetition needs the verdict, not the names, so it may be checked by a
//! [`Fingerprint`] instead: each consumer keeps a count, a wrapping sum and an xor of a mix of
//! each item's identity, and the ledger compares their combination with the fingerprint of the
//! items the producers say the buffer accepted (computed after the threads are joined).
//!
//! # Why count, sum and xor together
//!
//! [`mix`] is a bijection of `u64` and an item's identity packs its producer above its sequence
//! number in one word (see [`Fingerprint`]), so distinct items have
//! distinct mixes. An item lost and another received in its place leave the count unchanged
//! but move the sum by the difference of two distinct mixes, which is never zero; an item
//! received twice moves the count. Errors that keep the count, the sum and the xor at once
//! must be several, and then cancel only by a coincidence of well-mixed 64-bit values (about
//! one chance in 2^64 for the sum alone). Per-producer order, where the discipline promises
//! it, is checked on every run the same way (the last sequence number per producer: one
//! compare).

use crate::spec::{Fault, MAX_THREADS};

/// How one run's exactly-once check is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exactness {
    /// Item by item: per-producer bitmaps, merged after the run; every lost, duplicated or
    /// unexpected item is named.
    Ledger,
    /// By count and [`Fingerprint`]: a failure says which of the two disagreed but cannot name
    /// the items.
    Fingerprint,
}

impl Exactness {
    /// The check of a warm-up (`warmup`) or a measured repetition of a workload with `fault`.
    ///
    /// Warm-ups are checked item by item, so a broken buffer is named before anything is
    /// measured; measured repetitions by fingerprint, which costs a consumer a few arithmetic
    /// operations per item instead of a bitmap. The exception is `consumer-panic`: when every
    /// consumer is gone the buffer may discard what it still held, and which items those were
    /// only the bitmaps can tell, so every run of it uses the full ledger.
    pub(crate) fn for_run(warmup: bool, fault: Option<Fault>) -> Self {
        if warmup || matches!(fault, Some(Fault::ConsumerPanic { .. })) {
            Self::Ledger
        } else {
            Self::Fingerprint
        }
    }

    /// The check in words, as the reports give it.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Ledger => "the full ledger (every item by name)",
            Self::Fingerprint => "count and fingerprint",
        }
    }

    /// What the runs of a workload with `warmups` warm-ups and `fault` are checked by, in
    /// words, from the same rule as [`Self::for_run`].
    pub(crate) fn describe_runs(warmups: usize, fault: Option<Fault>) -> String {
        let (warm, measured) = (Self::for_run(true, fault), Self::for_run(false, fault));
        if warmups == 0 || warm == measured {
            format!("every run by {}", measured.describe())
        } else {
            format!(
                "warm-ups by {}, measured repetitions by {}",
                warm.describe(),
                measured.describe()
            )
        }
    }
}

/// The splitmix64 finaliser: a bijection of `u64` whose output bits each depend on every
/// input bit. Also the source of the items' seeded priorities (`engine/item.rs`).
#[inline]
pub(crate) fn mix(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Where the producer's index starts in an item's identity: its top bits are enough for
/// [`MAX_THREADS`] producers, and the bits below hold any sequence number (a share is far
/// below 2^52, see `engine/item.rs`).
const PRODUCER_SHIFT: u32 = 64 - MAX_THREADS.trailing_zeros();
const _: () = assert!(MAX_THREADS.is_power_of_two());

/// An order-independent fingerprint of a multiset of items: how many, and the wrapping sum and
/// the xor of the [`mix`] of each one's identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    pub(super) count: u64,
    sum: u64,
    xor: u64,
}

impl Fingerprint {
    /// The mix of item `seq` of `producer`.
    #[inline]
    fn of(producer: u32, seq: u64) -> u64 {
        mix(u64::from(producer) << PRODUCER_SHIFT | seq)
    }

    /// Adds one item.
    #[inline]
    pub(crate) fn add(&mut self, producer: u32, seq: u64) {
        let h = Self::of(producer, seq);
        self.count += 1;
        self.sum = self.sum.wrapping_add(h);
        self.xor ^= h;
    }

    /// Takes one item out again (an item evicted after it was accepted).
    pub(super) fn remove(&mut self, producer: u32, seq: u64) {
        let h = Self::of(producer, seq);
        self.count = self.count.wrapping_sub(1);
        self.sum = self.sum.wrapping_sub(h);
        self.xor ^= h;
    }

    /// The fingerprint of both multisets together.
    pub(super) fn combine(self, other: Self) -> Self {
        Self {
            count: self.count + other.count,
            sum: self.sum.wrapping_add(other.sum),
            xor: self.xor ^ other.xor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(items: &[(u32, u64)]) -> Fingerprint {
        let mut f = Fingerprint::default();
        for &(producer, seq) in items {
            f.add(producer, seq);
        }
        f
    }

    #[test]
    fn order_does_not_matter_and_consumers_combine() {
        let whole = of(&[(0, 0), (0, 1), (1, 0), (2, 7)]);
        assert_eq!(of(&[(2, 7), (1, 0), (0, 1), (0, 0)]), whole);
        assert_eq!(of(&[(0, 1), (2, 7)]).combine(of(&[(1, 0), (0, 0)])), whole);
        let mut evicted = of(&[(0, 0), (0, 1), (1, 0), (2, 7), (3, 3)]);
        evicted.remove(3, 3);
        assert_eq!(evicted, whole);
    }

    #[test]
    fn a_loss_and_a_duplicate_together_change_it() {
        let sent = of(&[(0, 0), (0, 1), (0, 2)]);
        // seq 2 lost, seq 1 received twice: the count agrees, the fingerprint does not.
        let received = of(&[(0, 0), (0, 1), (0, 1)]);
        assert_eq!(received.count, sent.count);
        assert_ne!(received, sent);
        // Identities that differ only in the producer or only in the sequence number.
        assert_ne!(of(&[(1, 0)]), of(&[(0, 1)]));
        assert_ne!(of(&[(0, 1 << 51)]), of(&[(1, 0)]));
    }

    #[test]
    fn the_rule_checks_warm_ups_and_consumer_panics_by_the_ledger() {
        let panic = Some(Fault::ConsumerPanic { after: None });
        assert_eq!(Exactness::for_run(true, None), Exactness::Ledger);
        assert_eq!(Exactness::for_run(false, None), Exactness::Fingerprint);
        assert_eq!(
            Exactness::for_run(false, Some(Fault::LoseItem)),
            Exactness::Fingerprint
        );
        assert_eq!(Exactness::for_run(false, panic), Exactness::Ledger);
        assert_eq!(
            Exactness::describe_runs(1, None),
            "warm-ups by the full ledger (every item by name), measured repetitions by count \
             and fingerprint"
        );
        assert_eq!(
            Exactness::describe_runs(0, None),
            "every run by count and fingerprint"
        );
        assert_eq!(
            Exactness::describe_runs(2, panic),
            "every run by the full ledger (every item by name)"
        );
    }

    #[test]
    fn the_mix_is_the_splitmix64_finaliser() {
        assert_eq!(mix(0), 0);
        assert_eq!(mix(0x9E37_79B9_7F4A_7C15), 0xE220_A839_7B1D_CDAF);
    }
}
