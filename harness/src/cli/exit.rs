//! The exit codes, the one-line failure a command ends with, and the errors of the layers
//! below mapped to the flags they are about.

use crate::demo::{DemoError, Side};
use crate::engine::{BudgetError, Needs, Pace, RunError, Unsupported};
use crate::spec::WorkloadError;

/// The exit statuses of the `harness` binary; each discriminant is its process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(super) enum Exit {
    /// 0: everything ran and verified.
    Success = 0,
    /// 1: an I/O or internal error.
    Internal = 1,
    /// 2: a usage error (bad flag value, unknown backend, impossible capacity).
    Usage = 2,
    /// 3: a run failed verification (an item lost, duplicated or reordered...).
    Violation = 3,
    /// 4: the watchdog found a run making no progress.
    Watchdog = 4,
    /// 5: `diff --fail-above` found a cell slower beyond the threshold.
    Regression = 5,
    /// 130: interrupted (Ctrl-C, SIGINT), as shells report it (128 + 2).
    Interrupted = 130,
}

impl Exit {
    /// The process exit code.
    pub(super) fn code(self) -> u8 {
        self as u8
    }
}

/// The exit codes, as `--help` shows them.
pub(super) const EXIT_CODES: &str = "\
Exit codes:
  0  success: every run verified
  1  I/O or internal error
  2  usage error (bad value, unknown backend, capacity 0 without rendezvous, capacity too large)
  3  correctness violation (an item lost, duplicated or reordered, a payload not dropped once)
  4  the watchdog fired: a run made no progress (the report names what each thread was doing)
  5  diff --fail-above: a cell slowed down beyond the threshold, its whole interval below it
  130  interrupted (Ctrl-C): the report shows what was measured and verified, the rest not run";

/// A command that could not complete: the status and a one-line message for stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CommandError {
    /// The exit status.
    pub(super) exit: Exit,
    /// What went wrong, in one line.
    pub(super) message: String,
}

impl CommandError {
    /// A usage error.
    pub(super) fn usage(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    pub(super) fn internal(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Internal,
            message: message.into(),
        }
    }
}

/// The command-line flag a workload error is about.
pub(super) fn workload_flag(error: &WorkloadError) -> &'static str {
    match error {
        WorkloadError::ZeroProducers | WorkloadError::TooManyProducers => "--producers",
        WorkloadError::ZeroConsumers => "--consumers",
        WorkloadError::TooManyThreads {
            producers,
            consumers,
        } if consumers > producers => "--consumers",
        WorkloadError::TooManyThreads { .. } => "--producers",
        WorkloadError::WatchdogTooShort(_) => "--watchdog",
        WorkloadError::TooManyRuns => "--warmup",
        WorkloadError::ZeroBatch | WorkloadError::BatchTooLarge(_) => "--batch",
        WorkloadError::ZeroRepeats => "--repeats",
        WorkloadError::ZeroLatencySampling => "--latency-sample-every",
        WorkloadError::BadRate(_) => "--rate",
        WorkloadError::BadPriorities(_) => "--priorities",
        WorkloadError::SequentialRendezvous => "--capacity",
        WorkloadError::SequentialFault => "--fault",
    }
}

/// A workload error as the command line reports it: `--flag: what is wrong`.
pub(super) fn workload_message(error: &WorkloadError) -> String {
    format!("{}: {error}", workload_flag(error))
}

/// A usage error for an invalid workload.
pub(super) fn invalid_workload(error: &WorkloadError) -> CommandError {
    CommandError::usage(workload_message(error))
}

/// A run's error as the command line reports it, with its exit status.
pub(super) fn run_error(error: &RunError) -> CommandError {
    let exit = match error {
        RunError::Workload(_) | RunError::Capacity(_) | RunError::Unsupported(_) => Exit::Usage,
        RunError::Spawn(_) => Exit::Internal,
        RunError::Watchdog(_) => Exit::Watchdog,
        RunError::Interrupted => Exit::Interrupted,
    };
    let message = match error {
        RunError::Workload(e) => workload_message(e),
        RunError::Capacity(e) => format!("--capacity: {e}"),
        RunError::Unsupported(e) => format!("{}: {e}", unsupported_flag(e, "--policy")),
        other => other.to_string(),
    };
    CommandError { exit, message }
}

/// The demo's error as the command line reports it, with its exit status.
pub(super) fn demo_error(error: &DemoError) -> CommandError {
    match error {
        DemoError::Spawn(_) => CommandError::internal(error.to_string()),
        DemoError::Capacity(e) => CommandError::usage(format!("--capacity: {e}")),
        DemoError::TooManyItems(_) => CommandError::usage(format!("--messages: {error}")),
        DemoError::NoThreads(side) | DemoError::TooManyThreads(side, _) => {
            let flag = match side {
                Side::Producers => "--producers",
                Side::Consumers => "--consumers",
            };
            CommandError::usage(format!("{flag}: {error}"))
        }
        DemoError::TooSlow(side, _) => {
            let flag = match side {
                Side::Producers => "--producer-delay",
                Side::Consumers => "--consumer-delay",
            };
            CommandError::usage(format!("{flag}: {error}"))
        }
    }
}

/// A usage error for a workload past its memory or time budget, naming the flag that
/// dominates it.
pub(super) fn over_budget(error: &BudgetError) -> CommandError {
    let flag = match error {
        BudgetError::Memory { .. } if error.is_samples() => "--repeats",
        BudgetError::Memory { .. } | BudgetError::Share { .. } => "--messages",
        BudgetError::Planned { pace, .. } => match pace {
            Pace::ProducerDelay => "--producer-delay",
            Pace::ConsumerDelay => "--consumer-delay",
            Pace::Rate => "--rate",
        },
    };
    CommandError::usage(format!("{flag}: {error}"))
}

/// The flag whose value a backend cannot run; `policy_flag` is the command's name for the
/// policy (`--policy`, or `--policies` in `compare`).
pub(super) fn unsupported_flag(e: &Unsupported, policy_flag: &'static str) -> &'static str {
    match e.needs {
        Needs::DropOldest => policy_flag,
        Needs::Close => "--fault",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Workload;

    #[test]
    fn exit_codes_are_distinct_and_ordered_by_severity() {
        let all = [
            Exit::Success,
            Exit::Internal,
            Exit::Usage,
            Exit::Violation,
            Exit::Watchdog,
            Exit::Interrupted,
        ];
        let codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 4, 130]);
        for (exit, code) in all.iter().zip(codes) {
            assert!(EXIT_CODES.contains(&format!("{code}  ")), "{exit:?}");
        }
    }

    #[test]
    fn validation_names_the_flag() {
        let err = Workload::new().producers(0).validate().unwrap_err();
        assert_eq!(workload_flag(&err), "--producers");
        let err = Workload::new().consumers(0).validate().unwrap_err();
        assert_eq!(workload_flag(&err), "--consumers");
        let err = Workload::new().rate(Some(-1.0)).validate().unwrap_err();
        assert_eq!(workload_flag(&err), "--rate");
        for bad in [0, 257] {
            let err = Workload::new().priorities(bad).validate().unwrap_err();
            assert_eq!(
                workload_message(&err),
                format!("--priorities: {bad} priority levels; choose 1 (all equal) to 256")
            );
        }
        assert!(Workload::new().priorities(256).validate().is_ok());
        assert!(Workload::new().validate().is_ok());
    }
}
