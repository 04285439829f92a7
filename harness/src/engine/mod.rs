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
//! | `item.rs` | the message, its drop counter, [`ItemPriority`] |
//! | `fault.rs` | the rules each fault follows |
//! | `watchdog.rs` | the board the workers publish on, and turning a hang into a report |
//! | `interrupt.rs` | [`interrupt`]: the process-wide request to stop (Ctrl-C) |

mod budget;
mod closer;
mod consumer;
mod error;
mod fault;
mod interrupt;
mod item;
mod once;
mod outcome;
mod producer;
mod seq;
mod shared;
mod watchdog;
mod worker;

use buffer_api::Backend;

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
use crate::measure::{FaultOutcome, Measurement, summarise};
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
    workload.validate().map_err(RunError::Workload)?;
    if let Some(e) = Unsupported::check(B::NAME, &B::CAPABILITIES, workload) {
        return Err(RunError::Unsupported(e));
    }
    match workload.payload {
        Payload::U64 => run_typed::<B, u64>(workload, observer),
        Payload::Bytes64 => run_typed::<B, [u8; 64]>(workload, observer),
        Payload::Boxed4K => run_typed::<B, Box<[u8; 4096]>>(workload, observer),
    }
}

fn run_typed<B: Backend, P: Body>(
    workload: &Workload,
    observer: &mut dyn FnMut(Progress),
) -> Result<Measurement, RunError> {
    let total = workload.warmup + workload.repeats;
    let mut verification = Verification::default();
    let mut measured = Vec::with_capacity(workload.repeats);
    let mut fault = workload.fault.map(|f| FaultOutcome {
        fault: f.to_string(),
        ..FaultOutcome::default()
    });
    for index in 0..total {
        let warmup = index < workload.warmup;
        let label = if warmup {
            format!("warm-up {}", index + 1)
        } else {
            format!("repetition {}", index - workload.warmup + 1)
        };
        if interrupted() {
            break;
        }
        let outcome = match run_once::<B, P>(workload, index) {
            Err(RunError::Interrupted) => break,
            other => other?,
        };
        tracing::debug!(
            backend = B::NAME,
            run = %label,
            wall_ms = outcome.wall_ns as f64 / 1e6,
            ok = outcome.verification.ok,
            "run finished"
        );
        verification.absorb(outcome.verification.clone(), &label);
        if let Some(fault) = &mut fault {
            fault.runs += 1;
            fault.triggered_runs += u64::from(outcome.fault_fired);
        }
        if !warmup {
            measured.push(outcome.into_sample());
        }
        observer(Progress {
            done: index + 1,
            total,
        });
    }
    if measured.len() < workload.repeats {
        // Interrupted: report what was measured, as what it is.
        if measured.is_empty() {
            return Err(RunError::Interrupted);
        }
        let done = workload.clone().repeats(measured.len());
        return Ok(summarise(B::NAME, &done, measured, verification, fault));
    }
    Ok(summarise(B::NAME, workload, measured, verification, fault))
}

#[cfg(test)]
mod tests {
    use buffer_api::{Capabilities, CapacityError, Discipline};
    use buffer_condvar::Condvar;

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
            ..Condvar::CAPABILITIES
        };
        type Producer<T: Send + 'static> = <Condvar as Backend>::Producer<T>;
        type Consumer<T: Send + 'static> = <Condvar as Backend>::Consumer<T>;

        fn bounded<T: Send + 'static>(
            capacity: usize,
        ) -> Result<(Self::Producer<T>, Self::Consumer<T>), CapacityError> {
            Condvar::bounded(capacity)
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
        assert!(keeps_producer_order::<Condvar>(
            &Workload::new().priorities(2)
        ));
    }
}
