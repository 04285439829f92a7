//! The state every thread of one run shares, and the start gate that releases them together.
//! Nothing here is touched per item except the watchdog board (and the log's clock, when an
//! order check needs it).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::fault::{FaultPlan, Trigger};
use super::watchdog::{Board, WorkerState};
use crate::spec::Workload;
use crate::verify::{Ledger, OrderCheck};

/// State every thread of one run shares.
pub(super) struct Shared {
    pub(super) workload: Workload,
    pub(super) plan: FaultPlan,
    pub(super) ledger: Ledger,
    epoch: Instant,
    pub(super) start: Gate,
    pub(super) board: Board,
    abort: AtomicBool,
    /// Payload drops counted by the workers, each adding its thread's count once at exit.
    pub(super) drops: AtomicU64,
    pub(super) storm: Trigger,
    pub(super) closers_meet: Gate,
    pub(super) closes_returning_true: AtomicU64,
    /// Set by the one consumer that fires the run's consumer fault.
    consumer_fault_claimed: AtomicBool,
    /// The order check this run makes from its send and receive log, if any.
    pub(super) order_check: Option<OrderCheck>,
    /// The log's clock (see [`crate::verify`]); touched only when `order_check` is set.
    clock: AtomicU64,
}

impl Shared {
    /// The shared state of a run of `workload` whose threads are called `names`, the last
    /// `plan.closers` of them closers.
    pub(super) fn new(
        workload: &Workload,
        plan: FaultPlan,
        ledger: Ledger,
        order_check: Option<OrderCheck>,
        names: Vec<String>,
    ) -> Self {
        Self {
            workload: workload.clone(),
            plan,
            ledger,
            epoch: Instant::now(),
            start: Gate::new(names.len()),
            board: Board::new(names),
            abort: AtomicBool::new(false),
            drops: AtomicU64::new(0),
            storm: Trigger::default(),
            closers_meet: Gate::new(plan.closers),
            closes_returning_true: AtomicU64::new(0),
            consumer_fault_claimed: AtomicBool::new(false),
            order_check,
            clock: AtomicU64::new(0),
        }
    }

    /// Whether the calling consumer is the one that fires the consumer fault: true for the
    /// first caller only. Consumers call it when they reach the fault's point, so the fault
    /// lands on whichever consumer gets there first, however unfair the schedule.
    pub(super) fn claim_consumer_fault(&self) -> bool {
        !self.consumer_fault_claimed.swap(true, Ordering::Relaxed)
    }

    /// A ticket from the log's clock. Acquire-release on one counter is enough: a lower
    /// ticket's taker happens-before a higher one's.
    #[inline]
    pub(super) fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::AcqRel)
    }

    /// Nanoseconds since the run's epoch.
    #[inline]
    pub(super) fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    pub(super) fn aborted(&self) -> bool {
        self.abort.load(Ordering::Relaxed)
    }

    /// Stops the run: releases every wait the harness controls. Threads stuck inside the
    /// backend are not reached.
    pub(super) fn abort(&self) {
        self.abort.store(true, Ordering::Relaxed);
        self.start.abandon();
        self.closers_meet.abandon();
        self.storm.fire();
    }

    /// Simulated work: spins when short (so it is work, not timer slack), sleeps when long.
    /// Returns false if the run was aborted meanwhile.
    pub(super) fn pause(&self, duration: Duration) -> bool {
        self.wait_until(Instant::now() + duration, std::hint::spin_loop)
    }

    /// A configured delay of worker `slot`, shown on the board; the worker then goes back to
    /// `resume`. False if the run was aborted meanwhile.
    pub(super) fn delay(&self, slot: usize, delay: Duration, resume: WorkerState) -> bool {
        if delay.is_zero() {
            return true;
        }
        self.board.set(slot, WorkerState::Delaying);
        if !self.pause(delay) {
            return false;
        }
        self.board.set(slot, resume);
        true
    }

    /// Open-loop pacing: waits until `deadline`, yielding the CPU while the wait is short so a
    /// paced producer never starves the consumers of a small machine. False if aborted first.
    pub(super) fn pace_until(&self, deadline: Instant) -> bool {
        self.wait_until(deadline, thread::yield_now)
    }

    /// Waits until `deadline`, sleeping while far and calling `short_wait` when close; false
    /// if the run was aborted first.
    fn wait_until(&self, deadline: Instant, short_wait: fn()) -> bool {
        loop {
            if self.aborted() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            let left = deadline - now;
            if left > Duration::from_micros(100) {
                thread::sleep((left - Duration::from_micros(50)).min(Duration::from_millis(20)));
            } else {
                short_wait();
            }
        }
    }
}

/// A start gate that can be abandoned: `wait` returns false when the run aborts before every
/// thread arrived (a spawn failed, say), where `std::sync::Barrier` would wait forever.
#[derive(Debug)]
pub(super) struct Gate {
    expected: usize,
    state: Mutex<(usize, bool)>,
    condvar: Condvar,
}

impl Gate {
    pub(super) fn new(expected: usize) -> Self {
        Self {
            expected,
            state: Mutex::new((0, false)),
            condvar: Condvar::new(),
        }
    }

    pub(super) fn wait(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        if state.0 >= self.expected {
            self.condvar.notify_all();
        }
        while state.0 < self.expected && !state.1 {
            state = self.condvar.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        !state.1
    }

    pub(super) fn abandon(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 = true;
        self.condvar.notify_all();
    }
}

/// Counts down to the next item whose send time is logged (a division per item costs more than
/// some handoffs).
pub(super) struct Sampler {
    every: u64,
    until: u64,
}

impl Sampler {
    pub(super) fn new(every: u32) -> Self {
        Self {
            every: u64::from(every),
            until: 0,
        }
    }

    /// Whether the next item is timed.
    #[inline]
    pub(super) fn next(&mut self) -> bool {
        let sampled = self.until == 0;
        self.until = if sampled {
            self.every - 1
        } else {
            self.until - 1
        };
        sampled
    }
}
