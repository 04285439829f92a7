//! The commands behind the `harness` binary. Each takes a parsed request, runs it, writes its
//! report (stdout or `--output`), shows progress bars on stderr when stderr is a terminal, and
//! returns the [`Exit`] status; `main.rs` only parses and dispatches.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use buffer_api::{Backend, CapacityError};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::compare::{CellOutcome, Matrix, run_matrix};
use crate::demo::{Demo, DemoError, demo};
use crate::engine::{Progress, RunError, Unsupported, check_capacity, run_observed};
use crate::measure::Measurement;
use crate::registry::{self, BackendInfo, BackendVisitor};
use crate::report::Environment;
use crate::report::{Failure as ReportFailure, Format, Report};
use crate::spec::{Policy, Topology, Workload};

/// The exit statuses of the `harness` binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: everything ran and verified.
    Success,
    /// 1: an I/O or internal error.
    Internal,
    /// 2: a usage error (bad flag value, unknown backend, impossible capacity).
    Usage,
    /// 3: a run failed verification (an item lost, duplicated or reordered...).
    Violation,
    /// 4: the watchdog found a run making no progress.
    Watchdog,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Internal => 1,
            Self::Usage => 2,
            Self::Violation => 3,
            Self::Watchdog => 4,
        }
    }
}

/// The exit codes, as `--help` shows them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success: every run verified
  1  I/O or internal error
  2  usage error (bad value, unknown backend, capacity 0 without rendezvous, capacity too large)
  3  correctness violation (an item lost, duplicated or reordered, a payload not dropped once)
  4  the watchdog fired: a run made no progress (the report names what each thread was doing)";

/// A command that could not complete: the status and a one-line message for stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The exit status.
    pub exit: Exit,
    /// What went wrong, in one line.
    pub message: String,
}

impl Failure {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    fn internal(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Internal,
            message: message.into(),
        }
    }
}

/// Where and how to write a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The format.
    pub format: Format,
    /// A file to write instead of stdout.
    pub path: Option<PathBuf>,
}

impl Output {
    fn write(&self, text: &str) -> Result<(), Failure> {
        match &self.path {
            Some(path) => std::fs::write(path, text).map_err(|e| {
                Failure::internal(format!("--output: cannot write {}: {e}", path.display()))
            }),
            None => write_stdout(text),
        }
    }
}

/// Refuses, before anything runs, a file the command could not write at the end: a path
/// whose directory does not exist, or that names a directory. Runs can take minutes; their
/// report should not be lost to a typo found afterwards.
fn check_writable(flag: &str, path: Option<&PathBuf>) -> Result<(), Failure> {
    let Some(path) = path else {
        return Ok(());
    };
    if path.is_dir() {
        return Err(Failure::usage(format!(
            "{flag}: {} is a directory, not a file",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "{flag}: cannot write {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// Writes to stdout without the panic `print!` raises when the reader has gone (`| head`).
fn write_stdout(text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::internal(format!("cannot write to stdout: {e}")))
}

/// Sets up logging to stderr, with thread names. `level` (from `--log-level`) takes the
/// `RUST_LOG` syntax and wins over `RUST_LOG`; without either, `default` applies.
///
/// # Errors
///
/// A usage error for a filter that does not parse.
pub fn init_logging(level: Option<&str>, default: &str) -> Result<(), Failure> {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(level) => EnvFilter::try_new(level)
            .map_err(|e| Failure::usage(format!("--log-level: `{level}`: {e}")))?,
        None => EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(default))
            .map_err(|e| Failure::internal(e.to_string()))?,
    };
    // A second initialisation (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_thread_names(true)
        .with_target(false)
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .with_env_filter(filter)
        .try_init();
    Ok(())
}

fn progress_bar(len: u64, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), draw_target());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_owned());
    bar
}

fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// `harness list`: the backends and their capabilities.
///
/// # Errors
///
/// An I/O error writing the output.
pub fn list(output: &Output) -> Result<Exit, Failure> {
    let backends = registry::backends();
    let text = match output.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = backends
                .iter()
                .map(|b| {
                    let c = b.capabilities;
                    serde_json::json!({
                        "name": b.name,
                        "rendezvous": c.rendezvous,
                        "close": c.close.to_string(),
                        "batch": c.batch.to_string(),
                        "discipline": c.discipline.to_string(),
                        "buffered_drop": c.buffered_drop.to_string(),
                        "preserves_producer_order": c.preserves_producer_order(),
                        "drop_oldest": c.drop_oldest,
                    })
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&rows)
                .map_err(|e| Failure::internal(e.to_string()))?;
            text.push('\n');
            text
        }
        _ => {
            let width = backends
                .iter()
                .map(|b| b.name.len())
                .max()
                .unwrap_or(0)
                .max(7);
            let mut text = format!(
                "{:<width$} {:<10} {:<9} {:<9} {:<10} {:<11} {}\n",
                "backend",
                "rendezvous",
                "close",
                "batch",
                "discipline",
                "drop-oldest",
                "buffered items dropped"
            );
            for b in &backends {
                let c = b.capabilities;
                let yes = |v: bool| if v { "yes" } else { "no" };
                text.push_str(&format!(
                    "{:<width$} {:<10} {:<9} {:<9} {:<10} {:<11} {}\n",
                    b.name,
                    yes(c.rendezvous),
                    c.close.to_string(),
                    c.batch.to_string(),
                    c.discipline.to_string(),
                    yes(c.drop_oldest),
                    c.buffered_drop
                ));
            }
            text
        }
    };
    output.write(&text)?;
    Ok(Exit::Success)
}

/// What `harness run` was asked to do.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// Backend names, comma-separated, or `all`.
    pub backends: String,
    /// The workload.
    pub workload: Workload,
    /// Where the report goes.
    pub output: Output,
}

/// Checks the things that would make every run fail at once, before anything runs.
fn preflight(backends: &[BackendInfo], workload: &Workload) -> Result<(), Failure> {
    workload
        .validate()
        .map_err(|e| Failure::usage(e.to_string()))?;
    for info in backends {
        if let Some(e) = Unsupported::check(info.name, &info.capabilities, workload.policy) {
            return Err(Failure::usage(format!("--policy: {e}")));
        }
        if workload.capacity == 0 && !info.capabilities.rendezvous {
            return Err(Failure::usage(format!(
                "--capacity: {}",
                CapacityError::RendezvousUnsupported { backend: info.name }
            )));
        }
    }
    check_capacity(workload).map_err(|e| Failure::usage(format!("--capacity: {e}")))
}

fn run_error(error: &RunError) -> Failure {
    let exit = match error {
        RunError::Workload(_) | RunError::Capacity(_) | RunError::Unsupported(_) => Exit::Usage,
        RunError::Spawn(_) => Exit::Internal,
        RunError::Watchdog(_) => Exit::Watchdog,
    };
    // The engine's errors carry values; the flags they are about are named here.
    let message = match error {
        RunError::Capacity(e) => format!("--capacity: {e}"),
        RunError::Unsupported(e) => format!("--policy: {e}"),
        other => other.to_string(),
    };
    Failure { exit, message }
}

/// `harness run`: one workload against each chosen backend.
///
/// # Errors
///
/// Usage errors before anything runs; a watchdog report (exit 4) or an internal error.
pub fn run(request: &RunRequest) -> Result<Exit, Failure> {
    let backends = registry::resolve(&request.backends)
        .map_err(|e| Failure::usage(format!("--backend: {e}")))?;
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
            .map_err(|e| Failure::usage(format!("--backend: {e}")))?;
        bar.finish_and_clear();
        match visit.result {
            Some(Ok(m)) => measurements.push(m),
            Some(Err(e)) => {
                failure = Some((*name, run_error(&e)));
                break;
            }
            None => return Err(Failure::internal(format!("backend {name} was not visited"))),
        }
    }
    let verified = measurements.iter().all(|m| m.verification.ok);
    let mut report = Report::from_runs(Environment::detect(), measurements);
    if let Some((backend, f)) = &failure {
        report.failures.push(ReportFailure {
            backend: (*backend).to_owned(),
            shape: request.workload.shape(),
            capacity: request.workload.capacity,
            policy: request.workload.policy,
            error: f.message.clone(),
            watchdog: f.exit == Exit::Watchdog,
        });
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

/// What `harness compare` was asked to do.
#[derive(Clone, Debug)]
pub struct CompareRequest {
    /// Backend names, comma-separated, or `all`.
    pub backends: String,
    /// Shapes.
    pub topologies: Vec<Topology>,
    /// Capacities.
    pub capacities: Vec<usize>,
    /// Backpressure policies, side by side; empty means the base workload's policy alone.
    pub policies: Vec<Policy>,
    /// The backend ratios are computed against.
    pub baseline: String,
    /// Everything else about the workload.
    pub base: Workload,
    /// Size each cell so one repetition takes about this long; `None` runs `messages` as given.
    pub target_time: Option<Duration>,
    /// Also write an SVG plot here.
    pub plot: Option<PathBuf>,
    /// Also write the JSON report here, whatever the output format.
    pub json: Option<PathBuf>,
    /// Where the report goes.
    pub output: Output,
}

impl CompareRequest {
    /// The quick default comparison that `harness` runs without arguments (see
    /// [`Matrix::quick`]), printed as a table.
    pub fn quick() -> Self {
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

/// `harness compare`: a matrix of shapes and capacities against several backends, with ratios
/// to a baseline.
///
/// # Errors
///
/// Usage errors before anything runs; I/O errors writing the report or plot.
pub fn compare(request: &CompareRequest) -> Result<Exit, Failure> {
    let backends = registry::resolve(&request.backends)
        .map_err(|e| Failure::usage(format!("--backends: {e}")))?;
    let baseline = registry::resolve(&request.baseline)
        .map_err(|e| Failure::usage(format!("--baseline: {e}")))?;
    let [baseline] = baseline[..] else {
        return Err(Failure::usage("--baseline: name exactly one backend"));
    };
    check_writable("--output", request.output.path.as_ref())?;
    check_writable("--plot", request.plot.as_ref())?;
    check_writable("--json", request.json.as_ref())?;
    for &capacity in &request.capacities {
        let workload = request.base.clone().capacity(capacity.max(1));
        workload
            .validate()
            .map_err(|e| Failure::usage(e.to_string()))?;
        check_capacity(&workload.capacity(capacity))
            .map_err(|e| Failure::usage(format!("--capacities: {e}")))?;
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
    let bars = MultiProgress::with_draw_target(draw_target());
    let per_backend =
        (request.topologies.len() * request.capacities.len() * matrix.policies.len()) as u64;
    let backend_bars: Vec<(&str, ProgressBar)> = matrix
        .backends
        .iter()
        .map(|b| (*b, bars.add(progress_bar(per_backend, b))))
        .collect();
    let started = std::time::Instant::now();
    let cells = run_matrix(&matrix, &mut |cell| {
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
    let report = Report::from_cells(Environment::detect(), &matrix, &cells);
    request
        .output
        .write(&report.render(request.output.format))?;
    if let Some(plot) = &request.plot {
        std::fs::write(plot, report.svg()).map_err(|e| {
            Failure::internal(format!("--plot: cannot write {}: {e}", plot.display()))
        })?;
    }
    if let Some(json) = &request.json {
        std::fs::write(json, report.render(Format::Json)).map_err(|e| {
            Failure::internal(format!("--json: cannot write {}: {e}", json.display()))
        })?;
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

/// What `harness demo` was asked to do.
#[derive(Clone, Debug)]
pub struct DemoRequest {
    /// The backend's name.
    pub backend: String,
    /// The demo's shape and pace.
    pub demo: Demo,
}

/// `harness demo`: a narrated small run; logs on stderr, the receive order on stdout.
///
/// # Errors
///
/// Usage errors (unknown backend, zero threads, impossible capacity).
pub fn run_demo(request: &DemoRequest) -> Result<Exit, Failure> {
    struct Visit<'a> {
        demo: &'a Demo,
        result: Option<Result<crate::demo::DemoOutcome, DemoError>>,
    }
    impl BackendVisitor for Visit<'_> {
        fn visit<B: Backend>(&mut self) {
            self.result = Some(demo::<B>(self.demo));
        }
    }
    let mut visit = Visit {
        demo: &request.demo,
        result: None,
    };
    registry::visit_named(&request.backend, &mut visit)
        .map_err(|e| Failure::usage(format!("--backend: {e}")))?;
    match visit.result {
        Some(Ok(outcome)) => {
            write_stdout(&outcome.render())?;
            Ok(if outcome.verification.ok {
                Exit::Success
            } else {
                Exit::Violation
            })
        }
        Some(Err(e @ DemoError::Spawn(_))) => Err(Failure::internal(e.to_string())),
        Some(Err(e)) => Err(Failure::usage(e.to_string())),
        None => Err(Failure::internal("the backend was not visited")),
    }
}

#[cfg(test)]
mod tests {
    use buffer_api::{BufferedDrop, Capabilities, Discipline, Support};

    use super::*;

    #[test]
    fn capacity_zero_without_rendezvous_is_a_usage_error_naming_the_flag() {
        let no_rendezvous = BackendInfo {
            name: "ring",
            capabilities: Capabilities {
                rendezvous: false,
                close: Support::Native,
                batch: Support::Emulated,
                discipline: Discipline::Fifo,
                buffered_drop: BufferedDrop::OnLastConsumer,
                drop_oldest: false,
            },
        };
        let failure = preflight(&[no_rendezvous], &Workload::new().capacity(0)).unwrap_err();
        assert_eq!(failure.exit, Exit::Usage);
        assert_eq!(
            failure.message,
            "--capacity: backend `ring` does not support capacity 0 (rendezvous)"
        );
        assert!(preflight(&[no_rendezvous], &Workload::new().capacity(1)).is_ok());
    }

    #[test]
    fn exit_codes_are_distinct_and_ordered_by_severity() {
        let all = [
            Exit::Success,
            Exit::Internal,
            Exit::Usage,
            Exit::Violation,
            Exit::Watchdog,
        ];
        let codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes, vec![0, 1, 2, 3, 4]);
        for (exit, code) in all.iter().zip(codes) {
            assert!(EXIT_CODES.contains(&format!("{code}  ")), "{exit:?}");
        }
    }
}
