//! `harness run`: one workload against each chosen backend, verified and measured.

use buffer_api::{Backend, CapacityError};
use indicatif::{MultiProgress, ProgressBar};

use super::exit::{CommandError, Exit, invalid_workload, over_budget, run_error, unsupported_flag};
use super::output::{Output, check_writable, draw_target, progress_bar};
use crate::compare::NOT_RUN;
use crate::engine::{
    MemoryBound, Progress, RunError, Unsupported, check_budget, check_capacity, interrupted,
    logs_order, run_observed,
};
use crate::measure::Measurement;
use crate::registry::{self, BackendInfo, BackendVisitor};
use crate::report::{Environment, Failure, Report};
use crate::spec::{Unrunnable, Workload};

/// What `harness run` was asked to do.
#[derive(Clone, Debug)]
pub(super) struct RunRequest {
    /// Backend names, comma-separated, or `all`.
    pub(super) backends: String,
    /// The workload.
    pub(super) workload: Workload,
    /// Where the report goes.
    pub(super) output: Output,
}

/// Checks the things that would make every run fail at once, before anything runs.
fn preflight(backends: &[BackendInfo], workload: &Workload) -> Result<(), CommandError> {
    workload.validate().map_err(|e| invalid_workload(&e))?;
    let order_log = backends
        .iter()
        .any(|b| logs_order(&b.capabilities, workload));
    check_budget(workload, MemoryBound::detect(), order_log).map_err(|e| over_budget(&e))?;
    for info in backends {
        if let Some(e) = Unsupported::check(info.name, &info.capabilities, workload) {
            return Err(CommandError::usage(format!(
                "{}: {e}",
                unsupported_flag(&e, "--policy")
            )));
        }
        // The seq topology's own case was refused by the workload check, before any backend.
        if let Err(Unrunnable::NoRendezvous) = workload
            .topology
            .accepts(workload.capacity, &info.capabilities)
        {
            return Err(CommandError::usage(format!(
                "--capacity: {}",
                CapacityError::RendezvousUnsupported { backend: info.name }
            )));
        }
    }
    check_capacity(workload).map_err(|e| CommandError::usage(format!("--capacity: {e}")))
}

/// `harness run`: one workload against each chosen backend.
///
/// # Errors
///
/// Usage errors before anything runs; a watchdog report (exit 4) or an internal error.
pub(super) fn run(request: &RunRequest) -> Result<Exit, CommandError> {
    let backends = registry::resolve(&request.backends)
        .map_err(|e| CommandError::usage(format!("--backend: {e}")))?;
    let infos: Vec<BackendInfo> = backends.iter().filter_map(|b| registry::find(b)).collect();
    preflight(&infos, &request.workload)?;
    check_writable("--output", request.output.path.as_ref())?;
    let bars = MultiProgress::with_draw_target(draw_target());
    let mut measurements = Vec::new();
    let mut failure = None;
    for name in &backends {
        let total = (request.workload.warmup + request.workload.repeats) as u64;
        let bar = bars.add(progress_bar(total, name));
        let mut visit = RunOne {
            workload: &request.workload,
            bar: &bar,
            result: None,
        };
        registry::visit_named(name, &mut visit)
            .map_err(|e| CommandError::usage(format!("--backend: {e}")))?;
        bar.finish_and_clear();
        match visit.result {
            Some(Ok(m)) => measurements.push(m),
            Some(Err(RunError::Interrupted)) => break,
            Some(Err(e)) => {
                failure = Some((*name, run_error(&e)));
                break;
            }
            None => {
                return Err(CommandError::internal(format!(
                    "backend {name} was not visited"
                )));
            }
        }
        if interrupted() {
            break;
        }
    }
    if failure.is_none() && interrupted() {
        return report_interrupted(request, &backends, measurements);
    }
    let verified = measurements.iter().all(|m| m.verification.ok);
    let mut report = Report::from_runs(Environment::detect(), measurements);
    if let Some((backend, f)) = &failure {
        let failed = failed_run(
            &request.workload,
            backend,
            &f.message,
            f.exit == Exit::Watchdog,
        );
        report.failures.push(failed);
    }
    if failure
        .as_ref()
        .is_none_or(|(_, f)| f.exit == Exit::Watchdog)
    {
        request
            .output
            .write(&report.render(request.output.format))?;
    }
    match failure {
        Some((_, f)) => Err(f),
        None if !verified => Ok(Exit::Violation),
        None => Ok(Exit::Success),
    }
}

/// After Ctrl-C: the report of the backends measured so far (the last one perhaps with fewer
/// repetitions than asked), the rest marked not run; exit 130.
fn report_interrupted(
    request: &RunRequest,
    backends: &[&str],
    measurements: Vec<Measurement>,
) -> Result<Exit, CommandError> {
    let measured = measurements.len();
    let mut report = Report::from_runs(Environment::detect(), measurements);
    for backend in &backends[measured..] {
        let not_run = failed_run(&request.workload, backend, NOT_RUN, false);
        report.failures.push(not_run);
    }
    request
        .output
        .write(&report.render(request.output.format))?;
    Err(CommandError {
        exit: Exit::Interrupted,
        message: format!(
            "interrupted: {measured} of {} backends measured, the rest not run",
            backends.len()
        ),
    })
}

/// The report's line for `backend`, which ended in `error` (or did not run) on `workload`.
fn failed_run(workload: &Workload, backend: &str, error: &str, watchdog: bool) -> Failure {
    Failure {
        backend: backend.to_owned(),
        topology: workload.topology,
        capacity: workload.capacity,
        policy: workload.policy,
        error: error.to_owned(),
        watchdog,
    }
}

struct RunOne<'a> {
    workload: &'a Workload,
    bar: &'a ProgressBar,
    result: Option<Result<Measurement, RunError>>,
}

impl BackendVisitor for RunOne<'_> {
    fn visit<B: Backend>(&mut self) {
        let bar = self.bar;
        self.result = Some(run_observed::<B>(self.workload, &mut |p: Progress| {
            bar.set_position(p.done as u64);
        }));
    }
}

#[cfg(test)]
mod tests {
    use buffer_api::{Capabilities, Discipline};

    use super::*;

    #[test]
    fn capacity_zero_without_rendezvous_is_a_usage_error_naming_the_flag() {
        let no_rendezvous = BackendInfo {
            name: "ring",
            capabilities: Capabilities::new(Discipline::Fifo),
        };
        let failure = preflight(&[no_rendezvous], &Workload::new().capacity(0)).unwrap_err();
        assert_eq!(failure.exit, Exit::Usage);
        assert_eq!(
            failure.message,
            "--capacity: backend `ring` does not support capacity 0 (rendezvous)"
        );
        assert!(preflight(&[no_rendezvous], &Workload::new().capacity(1)).is_ok());
    }
}
