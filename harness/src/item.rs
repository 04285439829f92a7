//! The message a run sends: a `(producer, seq, send time)` header, a payload, and a token that
//! counts its own drop so the ledger can check that every payload was dropped exactly once.
//!
//! Drops are counted in a thread-local counter, not a shared atomic: a shared counter bumped by
//! every consumer for every message would be a contended cache line and would distort the
//! measurement. Each worker reads its thread's counter before and after its work (handles
//! included, so items a buffer discards on disconnect are counted where that happens) and adds
//! the difference to the run's atomic total once, at exit.

use std::cell::Cell;
use std::hint::black_box;

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
    /// Nanoseconds since the run's epoch, plus one; 0 when this item carries no timestamp.
    pub(crate) stamp: u64,
    pub(crate) payload: P,
    _token: DropToken,
}

impl<P: Body> Item<P> {
    pub(crate) fn new(producer: u32, seq: u64, stamp: u64) -> Self {
        Self {
            producer,
            seq,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_drop_is_counted_once() {
        let before = drops_on_this_thread();
        let items: Vec<Item<Box<[u8; 4096]>>> = (0..5).map(|s| Item::new(0, s, 0)).collect();
        assert_eq!(drops_on_this_thread(), before);
        drop(items);
        assert_eq!(drops_on_this_thread(), before + 5);
    }
}
