//! `harness compare`: a matrix of topologies, capacities and policies against several backends,
//! with ratios to a baseline.

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar};

use super::exit::{CommandError, Exit, invalid_workload, over_budget, unsupported_flag};
use super::output::{Output, check_writable, draw_target, progress_bar, write_file};
use crate::compare::{Cell, CellOutcome, Matrix, run_matrix};
use crate::engine::{
    MemoryBound, Unsupported, check_budget, check_capacity, interrupted, logs_order,
};
use crate::registry;
use crate::report::{Environment, Format, Report};
use crate::spec::{Policy, Topology, Workload};

/// What `harness compare` was asked to do.
#[derive(Clone, Debug)]
pub(super) struct CompareRequest {
    /// Backend names, comma-separated, or `all`.
    pub(super) backends: String,
    /// Topologies.
    pub(super) topologies: Vec<Topology>,
    /// Capacities.
    pub(super) capacities: Vec<usize>,
    /// Backpressure policies, side by side; empty means the base workload's policy alone.
    pub(super) policies: Vec<Policy>,
    /// The backend ratios are computed against.
    pub(super) baseline: String,
    /// Everything else about the workload.
    pub(super) base: Workload,
    /// Size each cell so one repetition takes about this long; `None` runs `messages` as given.
    pub(super) target_time: Option<Duration>,
    /// Also write an SVG plot here.
    pub(super) plot: Option<PathBuf>,
    /// Also write the JSON report here, whatever the output format.
    pub(super) json: Option<PathBuf>,
    /// Where the report goes.
    pub(super) output: Output,
}

impl CompareRequest {
    /// The quick default comparison that `harness` runs without arguments (see
    /// [`Matrix::quick`]), printed as a table.
    pub(super) fn quick() -> Self {
        let matrix = Matrix::quick();
        Self {
            backends: "all".to_owned(),
            topologies: matrix.topologies,
            capacities: matrix.capacities,
            policies: matrix.policies,
            baseline: matrix.baseline.to_owned(),
            base: matrix.base,
            target_time: matrix.target_time,
            plot: None,
            json: None,
            output: Output {
                format: Format::Table,
                path: None,
            },
        }
    }
}

/// `harness compare`: a matrix of topologies and capacities against several backends, with ratios
/// to a baseline.
///
/// # Errors
///
/// Usage errors before anything runs; I/O errors writing the report or plot.
pub(super) fn compare(request: &CompareRequest) -> Result<Exit, CommandError> {
    let matrix = matrix(request)?;
    let cells = run_with_bars(&matrix);
    let report = Report::from_cells(Environment::detect(), &matrix, &cells);
    request
        .output
        .write(&report.render(request.output.format))?;
    if let Some(plot) = &request.plot {
        write_file("--plot", plot, &report.svg(&command_line()))?;
    }
    if let Some(json) = &request.json {
        write_file("--json", json, &report.render(Format::Json))?;
    }
    if interrupted() {
        let measured = cells.iter().filter(|c| c.measurement().is_some()).count();
        return Err(CommandError {
            exit: Exit::Interrupted,
            message: format!(
                "interrupted: {measured} of {} cells measured, the rest not run",
                cells.len()
            ),
        });
    }
    let exit = if report.failures.iter().any(|f| f.watchdog) {
        Exit::Watchdog
    } else if !report.verified() {
        Exit::Violation
    } else if !report.failures.is_empty() {
        Exit::Internal
    } else {
        Exit::Success
    };
    Ok(exit)
}

/// The matrix the request asks for, after the checks that would make it fail at once.
fn matrix(request: &CompareRequest) -> Result<Matrix, CommandError> {
    let backends = registry::resolve(&request.backends)
        .map_err(|e| CommandError::usage(format!("--backend: {e}")))?;
    let baseline = registry::resolve(&request.baseline)
        .map_err(|e| CommandError::usage(format!("--baseline: {e}")))?;
    let [baseline] = baseline[..] else {
        return Err(CommandError::usage("--baseline: name exactly one backend"));
    };
    check_writable("--output", request.output.path.as_ref())?;
    check_writable("--plot", request.plot.as_ref())?;
    check_writable("--json", request.json.as_ref())?;
    for &capacity in &request.capacities {
        // The base has threads, so capacity 0 is the cells' question (`check_something_runs`).
        let workload = request.base.clone().capacity(capacity);
        workload.validate().map_err(|e| invalid_workload(&e))?;
        check_capacity(&workload).map_err(|e| CommandError::usage(format!("--capacities: {e}")))?;
    }
    let memory = MemoryBound::detect();
    for &topology in &request.topologies {
        let workload = request.base.clone().topology(topology).capacity(1);
        workload
            .validate()
            .map_err(|e| CommandError::usage(format!("--topologies: {topology}: {e}")))?;
        let order_log = backends
            .iter()
            .filter_map(|b| registry::find(b))
            .any(|b| logs_order(&b.capabilities, &workload));
        check_budget(&workload, memory, order_log).map_err(|e| over_budget(&e))?;
    }
    let policies = if request.policies.is_empty() {
        vec![request.base.policy]
    } else {
        request.policies.clone()
    };
    let matrix = Matrix {
        backends,
        topologies: request.topologies.clone(),
        capacities: request.capacities.clone(),
        policies,
        base: request.base.clone(),
        baseline,
        target_time: request.target_time,
    };
    check_something_runs(&matrix, request)?;
    Ok(matrix)
}

/// Refuses a matrix in which every cell would be skipped or unsupported: an empty table
/// that "verified all 0 runs" would read as a pass.
fn check_something_runs(matrix: &Matrix, request: &CompareRequest) -> Result<(), CommandError> {
    let policy_flag = if request.policies.is_empty() {
        "--policy"
    } else {
        "--policies"
    };
    // Each reason with the flag it is about and how many cells it skips.
    let mut reasons: Vec<(&str, String, usize)> = Vec::new();
    let groups = matrix.groups();
    let cells = groups.len() * matrix.backends.len();
    let every_cell = groups
        .iter()
        .flat_map(|g| matrix.backends.iter().map(move |b| (*g, *b)));
    for ((topology, capacity, policy), backend) in every_cell {
        let Some(info) = registry::find(backend) else {
            return Ok(());
        };
        let workload = matrix.workload(topology, capacity, policy);
        let (flag, why) = if let Err(e) = topology.accepts(capacity, &info.capabilities) {
            let cell = if e.for_every_backend() {
                topology.to_string()
            } else {
                backend.to_owned()
            };
            (
                "--capacities",
                format!("{cell} at capacity {capacity}: {e}"),
            )
        } else if let Some(e) = Unsupported::check(backend, &info.capabilities, &workload) {
            (unsupported_flag(&e, policy_flag), e.to_string())
        } else {
            return Ok(());
        };
        match reasons.iter_mut().find(|(_, w, _)| *w == why) {
            Some((_, _, count)) => *count += 1,
            None => reasons.push((flag, why, 1)),
        }
    }
    // The reason that skips the most cells comes first and names the flag.
    reasons.sort_by_key(|(_, _, count)| std::cmp::Reverse(*count));
    let flag = reasons.first().map_or("--topologies", |(flag, _, _)| flag);
    let why: Vec<&str> = reasons.iter().map(|(_, why, _)| why.as_str()).collect();
    let why = if why.is_empty() {
        "the matrix has no cells".to_owned()
    } else {
        format!(
            "every one of its {cells} cells would be skipped: {}",
            why.join("; ")
        )
    };
    Err(CommandError::usage(format!(
        "{flag}: nothing to run: {why}"
    )))
}

/// Runs the matrix with one progress bar per backend.
fn run_with_bars(matrix: &Matrix) -> Vec<Cell> {
    let bars = MultiProgress::with_draw_target(draw_target());
    let per_backend = matrix.groups().len() as u64;
    let backend_bars: Vec<(&str, ProgressBar)> = matrix
        .backends
        .iter()
        .map(|b| (*b, bars.add(progress_bar(per_backend, b))))
        .collect();
    let started = std::time::Instant::now();
    let cells = run_matrix(matrix, &mut |cell| {
        if let Some((_, bar)) = backend_bars.iter().find(|(b, _)| *b == cell.backend) {
            bar.inc(1);
            bar.set_message(format!(
                "{} cap {} {}",
                cell.topology, cell.capacity, cell.policy
            ));
        }
        if let CellOutcome::Failed(e) = &cell.outcome {
            tracing::error!(
                backend = cell.backend,
                "{} cap {} {}: {e}",
                cell.topology,
                cell.capacity,
                cell.policy
            );
        }
    });
    for (_, bar) in &backend_bars {
        bar.finish_and_clear();
    }
    tracing::info!("comparison took {:.1}s", started.elapsed().as_secs_f64());
    cells
}

/// The command line as a user would retype it: `harness` and the arguments, for the plot's
/// caption.
fn command_line() -> String {
    let args = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    std::iter::once("harness".to_owned())
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}
