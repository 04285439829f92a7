//! Reporting, kept apart from running: a [`Report`] is a typed model of the results (the
//! environment header, one entry per measurement, the cells that were skipped or failed), and
//! each format has its own renderer: `table.rs`, `markdown.rs`, `csv.rs`, `json.rs`, `plot/` (SVG).
//! Renderers find results by typed keys (backend, topology, capacity, policy; see `grid.rs`),
//! never by comparing rendered text.
//! What `calibrate` and `diff` found has its own model and renderer beside them
//! (`calibrate.rs`, `diff.rs`); the command line only runs, reads files and picks exit codes.
//!
//! # JSON output (`--format json`)
//!
//! The document is the [`Report`] serialised as it stands: each field of [`Report`],
//! [`ResultEntry`] and the types they hold ([`Measurement`], [`crate::Verification`],
//! [`crate::Workload`] ...) is documented where it is declared, and appears in the JSON under
//! its own name unless its docs say otherwise. A result carries the whole measurement at its
//! top level plus `topology` and `ratio`. Counts that cover a run (per-thread counts, blocked
//! time, latency, depth) are summed over the measured repetitions; `verification` covers
//! every run, warm-ups included.

mod calibrate;
mod comparison;
mod csv;
mod demo;
mod diff;
mod env;
mod grid;
mod json;
mod list;
mod markdown;
mod plot;
#[cfg(test)]
mod published;
mod table;
mod text;

use serde::Serialize;

use json::table_or_json;

pub(crate) use calibrate::{CalibratedCell, Calibration};
pub(crate) use diff::{Cells as DiffCells, Diff, Verdict, cells as diff_cells};
pub use env::Environment;
pub(crate) use list::backend_list;

use crate::compare::{Cell, CellOutcome, Matrix, ratio};
use crate::measure::{Interval, Measurement};
use crate::spec::{Policy, Topology};

/// The version of the JSON layout. It changes when a field is renamed or removed. Version 2:
/// `ratio` is an object (`median`, `low`, `high`, `level`) from paired rounds, the report has
/// `rounds`, and each repetition a `started_s`. Version 3: a result's, a skipped cell's and a
/// failure's `shape` is called `topology`, the word of `--topologies` (`harness diff` reads both).
pub const SCHEMA_VERSION: u32 = 3;

/// An output format.
///
/// On the command line (`--format`): `table`, `json`, `csv`, `markdown` (or `md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// One JSON document.
    Json,
    /// CSV: a header line and one row per result; the environment is left to JSON.
    Csv,
    /// GitHub-flavoured Markdown.
    Markdown,
}

/// Which command produced a report; decides the table layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// `harness run`: one workload, one block per backend.
    Run,
    /// `harness compare`: a matrix, one row per topology and capacity, one column per backend.
    Compare,
}

/// A complete report: what the JSON output contains.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The command that produced it.
    pub command: Command,
    /// Where it was produced.
    pub environment: Environment,
    /// The backend ratios are computed against (compare only).
    pub baseline: Option<String>,
    /// The measured rounds of a comparison: in each, every backend of a cell ran once, in an
    /// order rotated from round to round (compare only).
    pub rounds: Option<usize>,
    /// Backend names in column order.
    pub backends: Vec<String>,
    /// One entry per workload and backend that ran.
    pub results: Vec<ResultEntry>,
    /// Cells that could not run, and why.
    pub skipped: Vec<Skipped>,
    /// Runs that ended in an error (a watchdog report, for instance).
    pub failures: Vec<Failure>,
}

/// One result: the whole measurement (backend, workload, timings, verification...) plus the
/// comparison fields.
#[derive(Clone, Debug, Serialize)]
pub struct ResultEntry {
    /// The workload's topology: `seq` or `P:C`.
    pub topology: Topology,
    /// Throughput against the baseline's in the same topology, capacity and policy: the median
    /// of the round-by-round ratios with its distribution-free confidence interval and level.
    /// `null` for the baseline itself and for `run`.
    pub ratio: Option<Interval>,
    /// Everything measured; its fields appear at this level of the JSON object.
    #[serde(flatten)]
    pub measurement: Measurement,
}

/// A cell of a comparison that did not run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The backend.
    pub backend: String,
    /// The topology: `seq` or `P:C`.
    pub topology: Topology,
    /// The capacity.
    pub capacity: usize,
    /// The backpressure policy.
    pub policy: Policy,
    /// Why it did not run.
    pub reason: String,
    /// Whether it did not run because the backend does not offer the policy (shown as
    /// "unsupported" in tables).
    pub unsupported: bool,
}

/// A run that failed with an error instead of a measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    /// The backend.
    pub backend: String,
    /// The topology: `seq` or `P:C`.
    pub topology: Topology,
    /// The capacity.
    pub capacity: usize,
    /// The backpressure policy.
    pub policy: Policy,
    /// The error, in one line.
    pub error: String,
    /// Whether the watchdog ended the run.
    pub watchdog: bool,
}

impl Report {
    /// A report of `harness run` measurements.
    pub fn from_runs(environment: Environment, measurements: Vec<Measurement>) -> Self {
        let backends = measurements.iter().map(|m| m.backend.clone()).collect();
        Self {
            schema_version: SCHEMA_VERSION,
            command: Command::Run,
            environment,
            baseline: None,
            rounds: None,
            backends,
            results: measurements
                .into_iter()
                .map(|m| ResultEntry {
                    topology: m.workload.topology,
                    ratio: None,
                    measurement: m,
                })
                .collect(),
            skipped: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// A report of a comparison.
    pub fn from_cells(environment: Environment, matrix: &Matrix, cells: &[Cell]) -> Self {
        let mut report = Self {
            schema_version: SCHEMA_VERSION,
            command: Command::Compare,
            environment,
            baseline: Some(matrix.baseline.to_owned()),
            rounds: Some(matrix.base.repeats),
            backends: matrix.backends.iter().map(|b| (*b).to_owned()).collect(),
            results: Vec::new(),
            skipped: Vec::new(),
            failures: Vec::new(),
        };
        for cell in cells {
            let topology = cell.topology;
            match &cell.outcome {
                CellOutcome::Measured(m) => report.results.push(ResultEntry {
                    topology,
                    ratio: ratio(cells, cell, matrix.baseline),
                    measurement: (**m).clone(),
                }),
                CellOutcome::Skipped(reason) | CellOutcome::Unsupported(reason) => {
                    report.skipped.push(Skipped {
                        backend: cell.backend.to_owned(),
                        topology,
                        capacity: cell.capacity,
                        policy: cell.policy,
                        reason: reason.clone(),
                        unsupported: matches!(cell.outcome, CellOutcome::Unsupported(_)),
                    });
                }
                CellOutcome::Failed(error) => report.failures.push(Failure {
                    backend: cell.backend.to_owned(),
                    topology,
                    capacity: cell.capacity,
                    policy: cell.policy,
                    error: error.to_string(),
                    watchdog: error.is_watchdog(),
                }),
            }
        }
        report
    }

    /// Whether every result passed verification.
    pub fn verified(&self) -> bool {
        self.results.iter().all(|r| r.measurement.verification.ok)
    }

    /// Renders the report.
    pub fn render(&self, format: Format) -> String {
        match (format, self.command) {
            (Format::Table, Command::Run) => self.run_table(),
            (Format::Table, Command::Compare) => self.compare_text("# ", text::aligned, ""),
            (Format::Json, _) => json::json_text(self),
            (Format::Csv, _) => self.csv(),
            (Format::Markdown, Command::Run) => self.run_markdown(),
            (Format::Markdown, Command::Compare) => {
                self.compare_text("- ", text::markdown_table, "  ")
            }
        }
    }
}
