//! How to run it: [`run()`] takes a [`Workload`] against one backend and returns a
//! [`Measurement`]; it never prints.
//!
//! # Method (see `docs/method.md`)
//!
//! Each run builds a fresh buffer, clones one handle per thread, drops the originals, spawns
//! every thread (`producer-N`, `consumer-N`, named through [`std::thread::Builder`]) and
//! releases them all at once through one start gate. Each worker takes its own start and end
//! timestamps; the run's wall time is `max(end) - min(start)`, because timing from the spawning
//! thread under-measures on a machine with fewer cores than threads. Producers finish by dropping
//! their handles: consumers receive until the buffer reports `Disconnected`, with no sentinel
//! values. Warm-up runs come first and are verified but not measured.
//!
//! Workers keep everything they record local (ledger records, latency histograms, counts) and
//! hand it over when they exit, so the hot path touches no shared cache line except the buffer's
//! own and the worker's slot on the watchdog board.
//!
//! Producer and consumer delays spin below 100 µs (so that they are work, not timer slack) and
//! sleep above it. Open-loop pacing yields instead of spinning, so paced producers leave the
//! CPU to the consumers; each item's timestamp is its scheduled send time, so a producer that
//! falls behind schedule shows up as latency (no coordinated omission).

//!
//! # The files
//!
//! | file | role |
//! | --- | --- |
//! | `mod.rs` | [`run()`]: validation, payload dispatch, warm-ups and repetitions |
//! | `error.rs` | [`RunError`], [`Unsupported`], the capacity check made before any backend runs |
//! | `budget.rs` | [`check_budget`]: the memory and the planned time a workload needs, refused up front past their bounds |
//! | `once.rs` | one run: build, spawn, release, wait (watching), join |
//! | `shared.rs` | the state every thread of a run shares, the start gate, delays and pacing |
//! | `producer.rs`, `consumer.rs`, `seq.rs`, `closer.rs` | one loop each |
//! | `worker.rs` | one worker thread: the start gate, `catch_unwind`, its report |
//! | `outcome.rs` | the workers' reports turned into a verified run outcome |
//! | `item.rs` | the message (one packed header word), its drop counter, [`ItemPriority`] |
//! | `latency.rs` | send and arrival times of the sampled items, matched after the run |
//! | `fault.rs` | the rules each fault follows |
//! | `watchdog.rs` | the board the workers publish on, and turning a hang into a report |
//! | `interrupt.rs` | [`interrupt`]: the process-wide request to stop (Ctrl-C) |

mod bare;
mod budget;
mod closer;
mod consumer;
mod error;
mod fault;
mod interrupt;
mod item;
mod latency;
mod once;
mod outcome;
mod producer;
mod seq;
mod shared;
mod watchdog;
mod worker;

use std::marker::PhantomData;

use buffer_api::Backend;

pub(crate) use bare::BareLoop;
pub use budget::{
    BudgetError, FALLBACK_MEMORY, MAX_PLANNED, MemoryBound, Pace, check_budget, logs_order,
};
pub(crate) use error::check_capacity;
pub use error::{Needs, RunError, Unsupported};
pub use interrupt::{interrupt, interrupted};
pub use item::ItemPriority;
pub use watchdog::{ThreadReport, WatchdogReport, WorkerState};

use self::item::Body;
use self::once::run_once;
use crate::measure::{FaultOutcome, Measurement, RunSample, summarise};
use crate::spec::{Payload, Workload};
use crate::verify::Verification;

/// Progress of a run, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Runs finished, warm-ups included.
    pub done: usize,
    /// Runs in all, warm-ups included.
    pub total: usize,
}

/// Runs `workload` against backend `B`: warm-ups, then the measured repetitions.
///
/// # Errors
///
/// See [`RunError`].
pub fn run<B: Backend>(workload: &Workload) -> Result<Measurement, RunError> {
    run_observed::<B>(workload, &mut |_| {})
}

/// As [`run`], calling `observer` after every run (warm-ups included).
///
/// After [`interrupt`], the run in progress is aborted and the measurement holds the
/// repetitions finished so far (its workload's `repeats` and `warmup` say how many); with
/// none finished, the error is [`RunError::Interrupted`].
///
/// # Errors
///
/// See [`RunError`].
pub fn run_observed<B: Backend>(
    workload: &Workload,
    observer: &mut dyn FnMut(Progress),
) -> Result<Measurement, RunError> {
    let mut session = Session::start::<B>(workload)?;
    while !session.is_done() {
        match session.run_next() {
            Ok(progress) => observer(progress),
            // Interrupted: report what was measured, as what it is.
            Err(RunError::Interrupted) => break,
            Err(e) => return Err(e),
        }
    }
    session.finish()
}

/// One backend's runs of one workload, made one at a time, so that several backends can take
/// turns run by run: the paired rounds of a comparison. [`run`] is a session run to its end.
pub struct Session {
    runs: Box<dyn Runs>,
}

/// A session's runs, with the backend and payload types erased.
trait Runs {
    fn progress(&self) -> Progress;
    fn run_next(&mut self) -> Result<Progress, RunError>;
    fn finish(self: Box<Self>) -> Result<Measurement, RunError>;
}

impl Session {
    /// Checks `workload` against `B` and prepares its runs; nothing runs yet.
    ///
    /// # Errors
    ///
    /// [`RunError::Workload`] or [`RunError::Unsupported`].
    pub fn start<B: Backend>(workload: &Workload) -> Result<Self, RunError> {
        workload.validate().map_err(RunError::Workload)?;
        if let Some(e) = Unsupported::check(B::NAME, &B::CAPABILITIES, workload) {
            return Err(RunError::Unsupported(e));
        }
        let runs: Box<dyn Runs> = match workload.payload {
            Payload::U64 => Box::new(Typed::<B, u64>::new(workload)),
            Payload::Bytes64 => Box::new(Typed::<B, [u8; 64]>::new(workload)),
            Payload::Boxed4K => Box::new(Typed::<B, Box<[u8; 4096]>>::new(workload)),
        };
        Ok(Self { runs })
    }

    /// Whether every run, warm-ups included, has been made.
    pub fn is_done(&self) -> bool {
        let p = self.runs.progress();
        p.done >= p.total
    }

    /// Makes the next run: a warm-up while any are left, then a measured repetition.
    ///
    /// # Errors
    ///
    /// [`RunError::Capacity`], [`RunError::Spawn`] or [`RunError::Watchdog`]; the session
    /// should then be dropped.
    ///
    /// After [`interrupt`], it runs nothing and returns [`RunError::Interrupted`]; the
    /// repetitions made so far still [`finish`](Self::finish).
    pub fn run_next(&mut self) -> Result<Progress, RunError> {
        if interrupted() {
            return Err(RunError::Interrupted);
        }
        self.runs.run_next()
    }

    /// The measurement over the measured repetitions made so far: all of them, or, after an
    /// interruption, the ones finished (its workload's `repeats` says how many).
    ///
    /// # Errors
    ///
    /// [`RunError::Interrupted`] when an interruption came before any measured repetition.
    pub fn finish(self) -> Result<Measurement, RunError> {
        self.runs.finish()
    }
}

/// The runs of backend `B` with payload `P`.
struct Typed<B, P> {
    workload: Workload,
    done: usize,
    verification: Verification,
    measured: Vec<RunSample>,
    fault: Option<FaultOutcome>,
    types: PhantomData<fn() -> (B, P)>,
}

impl<B: Backend, P: Body> Typed<B, P> {
    fn new(workload: &Workload) -> Self {
        Self {
            workload: workload.clone(),
            done: 0,
            verification: Verification::default(),
            measured: Vec::new(),
            fault: workload.fault.map(|f| FaultOutcome {
                fault: f.to_string(),
                ..FaultOutcome::default()
            }),
            types: PhantomData,
        }
    }
}

impl<B: Backend, P: Body> Runs for Typed<B, P> {
    fn progress(&self) -> Progress {
        Progress {
            done: self.done,
            total: self.workload.warmup + self.workload.repeats,
        }
    }

    fn run_next(&mut self) -> Result<Progress, RunError> {
        let index = self.done;
        let warmup = index < self.workload.warmup;
        let label = if warmup {
            format!("warm-up {}", index + 1)
        } else {
            format!("repetition {}", index - self.workload.warmup + 1)
        };
        let started_s = crate::measure::since_start();
        let outcome = run_once::<B, P>(&self.workload, index)?;
        tracing::debug!(
            backend = B::NAME,
            run = %label,
            wall_ms = outcome.wall_ns as f64 / 1e6,
            ok = outcome.verification.ok,
            "run finished"
        );
        self.verification
            .absorb(outcome.verification.clone(), &label);
        if let Some(fault) = &mut self.fault {
            fault.runs += 1;
            fault.triggered_runs += u64::from(outcome.fault_fired);
        }
        if !warmup {
            let every = self.workload.latency_sample_every;
            self.measured.push(outcome.into_sample(started_s, every));
        }
        self.done += 1;
        Ok(self.progress())
    }

    fn finish(self: Box<Self>) -> Result<Measurement, RunError> {
        let mut this = *self;
        this.verification
            .note_checks(this.workload.warmup, this.workload.fault);
        let mut workload = this.workload;
        if this.measured.len() < workload.repeats {
            if this.measured.is_empty() {
                return Err(RunError::Interrupted);
            }
            workload = workload.repeats(this.measured.len());
        }
        Ok(summarise(
            B::NAME,
            &workload,
            this.measured,
            this.verification,
            this.fault,
        ))
    }
}

#[cfg(test)]
mod tests {
    use buffer_api::{Capabilities, CapacityError, Discipline};
    use buffer_condvar::CondvarFifo;

    use super::*;
    use crate::verify::{OrderCheck, Violation};

    /// A FIFO buffer that declares another discipline: the order checks must catch it.
    struct Mislabelled<const LIFO: bool>;

    impl<const LIFO: bool> Backend for Mislabelled<LIFO> {
        const NAME: &'static str = "mislabelled";
        const CAPABILITIES: Capabilities = Capabilities {
            discipline: if LIFO {
                Discipline::Lifo
            } else {
                Discipline::Priority
            },
            ..CondvarFifo::CAPABILITIES
        };
        type Producer<T: Send + 'static> = <CondvarFifo as Backend>::Producer<T>;
        type Consumer<T: Send + 'static> = <CondvarFifo as Backend>::Consumer<T>;

        fn bounded<T: Send + 'static>(
            capacity: usize,
        ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
            CondvarFifo::bounded(capacity)
        }
    }

    /// The seq workload fills the buffer, then drains it: the order is deterministic.
    fn seq(capacity: usize, messages: u64) -> Workload {
        Workload::new()
            .topology(crate::spec::Topology::Seq)
            .capacity(capacity)
            .messages(messages)
            .repeats(1)
            .warmup(0)
    }

    #[test]
    fn a_fifo_buffer_declared_lifo_fails_the_lifo_check() {
        let m = run::<Mislabelled<true>>(&seq(4, 8)).unwrap();
        let v = &m.verification;
        assert!(!v.ok);
        // Each fill of 4 leaves as 0, 1, 2, 3: the first three of each are taken too early.
        assert_eq!(v.violation_count, 6);
        assert_eq!(
            v.violations[..2],
            [
                Violation::LifoOrder { seq: 0, newer: 1 },
                Violation::LifoOrder { seq: 1, newer: 2 },
            ]
        );
        assert_eq!(v.delivered, 8);
    }

    #[test]
    fn a_fifo_buffer_declared_priority_fails_the_priority_check() {
        let w = seq(4, 64).priorities(10);
        let m = run::<Mislabelled<false>>(&w).unwrap();
        let v = &m.verification;
        // The same rule by brute force: within each fill of 4, an item received before a
        // higher-priority item of the same fill is an inversion.
        let priority = |seq| item::priority_of(w.seed, 0, seq, 10);
        let expected = (0..64u64)
            .filter(|&seq| {
                let fill_end = (seq / 4 + 1) * 4;
                (seq + 1..fill_end).any(|later| priority(later) > priority(seq))
            })
            .count() as u64;
        assert!(expected > 0);
        assert!(!v.ok);
        assert_eq!(v.violation_count, expected);
        assert!(
            v.violations
                .iter()
                .all(|x| matches!(x, Violation::PriorityInversion { .. })),
            "{:?}",
            v.violations
        );
    }

    #[test]
    fn the_real_disciplines_pass_their_checks() {
        let m = run::<buffer_condvar::CondvarLifo>(&seq(4, 64)).unwrap();
        assert!(m.verification.ok, "{}", m.verification.summary());
        assert_eq!(m.verification.discipline_checked, Some(OrderCheck::Lifo));
        let m =
            run::<buffer_condvar::CondvarPriority<item::ItemPriority>>(&seq(4, 64).priorities(10))
                .unwrap();
        assert!(m.verification.ok, "{}", m.verification.summary());
        assert_eq!(
            m.verification.discipline_checked,
            Some(OrderCheck::Priority)
        );
        assert!(!m.verification.order_checked);
    }

    /// Whether `B` keeps per-producer order under workload `w`, by the one rule.
    fn keeps_producer_order<B: buffer_api::Backend>(w: &Workload) -> bool {
        crate::verify::OrderChecks::for_run(
            &B::CAPABILITIES,
            w.producer_count(),
            w.consumer_count(),
            w.priorities,
        )
        .per_producer
    }

    #[test]
    fn one_priority_level_checks_fifo_order_instead() {
        type Priority = buffer_condvar::CondvarPriority<ItemPriority>;
        assert!(keeps_producer_order::<Priority>(&Workload::new()));
        assert!(!keeps_producer_order::<Priority>(
            &Workload::new().priorities(2)
        ));
        assert!(!keeps_producer_order::<buffer_condvar::CondvarLifo>(
            &Workload::new()
        ));
        assert!(keeps_producer_order::<CondvarFifo>(
            &Workload::new().priorities(2)
        ));
    }
}
