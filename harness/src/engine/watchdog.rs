//! Turns a hang into a reported failure.
//!
//! Every worker publishes what it is doing and how many items it has handled in its own slot
//! of a board (one cache line each, plain relaxed stores, so the hot path pays almost
//! nothing). The thread that waits for the workers looks at the board every 50 ms; when the
//! total of handled items has not moved for the watchdog's timeout, it stops waiting and
//! reports each thread's last state in a [`WatchdogReport`].

use std::fmt;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// What a worker is doing, as published on the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum WorkerState {
    /// Spawned, waiting at the start barrier.
    Starting,
    /// In a send that has not been seen to block.
    Sending,
    /// Blocked in a send on a full buffer.
    BlockedOnFull,
    /// In a receive that has not been seen to block.
    Receiving,
    /// Blocked in a receive on an empty buffer.
    BlockedOnEmpty,
    /// Sleeping for a configured delay or pacing to the rate.
    Delaying,
    /// Stopped by the consumer-stall fault.
    StalledByFault,
    /// Waiting for the moment of a close storm.
    WaitingToClose,
    /// Calling `close()`.
    Closing,
    /// Done.
    Finished,
    /// Panicked (injected or not).
    Panicked,
}

impl WorkerState {
    const ALL: [Self; 11] = [
        Self::Starting,
        Self::Sending,
        Self::BlockedOnFull,
        Self::Receiving,
        Self::BlockedOnEmpty,
        Self::Delaying,
        Self::StalledByFault,
        Self::WaitingToClose,
        Self::Closing,
        Self::Finished,
        Self::Panicked,
    ];

    fn describe(self) -> &'static str {
        match self {
            Self::Starting => "waiting at the start barrier",
            Self::Sending => "sending",
            Self::BlockedOnFull => "blocked on a full buffer",
            Self::Receiving => "receiving",
            Self::BlockedOnEmpty => "blocked on an empty buffer",
            Self::Delaying => "sleeping (delay or rate)",
            Self::StalledByFault => "stalled by the consumer-stall fault",
            Self::WaitingToClose => "waiting for the close storm",
            Self::Closing => "calling close()",
            Self::Finished => "finished",
            Self::Panicked => "panicked",
        }
    }
}

/// One worker's slot, alone on its cache line so workers never share one.
#[derive(Debug)]
#[repr(align(128))]
struct BoardSlot {
    state: AtomicU8,
    items: AtomicU64,
}

/// Where the workers publish their state.
#[derive(Debug)]
pub(crate) struct Board {
    names: Vec<String>,
    slots: Vec<BoardSlot>,
}

impl Board {
    pub(crate) fn new(names: Vec<String>) -> Self {
        let slots = names
            .iter()
            .map(|_| BoardSlot {
                state: AtomicU8::new(WorkerState::Starting as u8),
                items: AtomicU64::new(0),
            })
            .collect();
        Self { names, slots }
    }

    #[inline]
    pub(crate) fn set(&self, slot: usize, state: WorkerState) {
        self.slots[slot].state.store(state as u8, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn items(&self, slot: usize, items: u64) {
        self.slots[slot].items.store(items, Ordering::Relaxed);
    }

    fn total(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.items.load(Ordering::Relaxed))
            .sum()
    }

    fn snapshot(&self) -> Vec<ThreadReport> {
        self.names
            .iter()
            .zip(&self.slots)
            .map(|(name, slot)| {
                let state = slot.state.load(Ordering::Relaxed);
                ThreadReport {
                    thread: name.clone(),
                    state: WorkerState::ALL
                        .get(usize::from(state))
                        .copied()
                        .unwrap_or(WorkerState::Starting),
                    items: slot.items.load(Ordering::Relaxed),
                }
            })
            .collect()
    }
}

/// Watches a board for progress.
#[derive(Debug)]
pub(crate) struct Watchdog {
    timeout: Duration,
    last_total: u64,
    last_change: Instant,
}

impl Watchdog {
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            last_total: 0,
            last_change: Instant::now(),
        }
    }

    /// Returns a report when the board has not moved for the timeout.
    pub(crate) fn check(&mut self, board: &Board) -> Option<WatchdogReport> {
        let total = board.total();
        if total != self.last_total {
            self.last_total = total;
            self.last_change = Instant::now();
            return None;
        }
        let silent = self.last_change.elapsed();
        (silent >= self.timeout).then(|| WatchdogReport {
            silent_s: silent.as_secs_f64(),
            threads: board.snapshot(),
        })
    }
}

/// A hang: no thread made progress for the watchdog's timeout.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WatchdogReport {
    /// How long nothing moved, in seconds.
    pub silent_s: f64,
    /// What each thread was doing when the watchdog fired.
    pub threads: Vec<ThreadReport>,
}

/// One thread's last published state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThreadReport {
    /// The thread's name.
    pub thread: String,
    /// What it was doing.
    pub state: WorkerState,
    /// Items it had sent or received.
    pub items: u64,
}

impl fmt::Display for WatchdogReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no progress for {:.1}s", self.silent_s)?;
        for t in &self.threads {
            write!(
                f,
                "; {}: {} after {} items",
                t.thread,
                t.state.describe(),
                t.items
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_only_without_progress_and_names_every_thread() {
        let board = Board::new(vec!["producer-1".into(), "consumer-1".into()]);
        let mut dog = Watchdog::new(Duration::ZERO);
        board.items(0, 5);
        assert!(dog.check(&board).is_none(), "progress was made");
        board.set(0, WorkerState::BlockedOnFull);
        board.set(1, WorkerState::StalledByFault);
        let report = dog.check(&board).expect("no progress since the last check");
        let text = report.to_string();
        assert!(
            text.contains("producer-1: blocked on a full buffer after 5 items"),
            "{text}"
        );
        assert!(
            text.contains("consumer-1: stalled by the consumer-stall fault after 0 items"),
            "{text}"
        );
    }

    #[test]
    fn states_round_trip_through_the_board() {
        for (i, state) in WorkerState::ALL.iter().enumerate() {
            assert_eq!(*state as usize, i);
        }
    }
}
