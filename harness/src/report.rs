//! Reporting, kept apart from running: a [`Report`] holds the environment header and the
//! results, and renders them as a table, JSON, CSV, Markdown or an SVG plot.
//!
//! The JSON layout is documented field by field on [`Report`], [`ResultEntry`] and the types
//! they contain (see also the crate docs).

use std::fmt::Write as _;
use std::str::FromStr;

use serde::Serialize;

use crate::compare::{Cell, CellOutcome, Matrix, ratio};
use crate::env::Environment;
use crate::measure::{CpuSummary, Measurement};
use crate::spec::{DisplayDuration, ParseError, Policy};

/// The version of the JSON layout. It changes when a field is renamed or removed.
pub const SCHEMA_VERSION: u32 = 1;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// One JSON document.
    Json,
    /// CSV with `#` comment lines for the environment header.
    Csv,
    /// GitHub-flavoured Markdown.
    Markdown,
}

impl FromStr for Format {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "table" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            "markdown" | "md" => Ok(Self::Markdown),
            other => Err(ParseError::new(format!(
                "`{other}` is not a format (table, json, csv, markdown)"
            ))),
        }
    }
}

/// Which command produced a report; decides the table layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// `harness run`: one workload, one block per backend.
    Run,
    /// `harness compare`: a matrix, one row per shape and capacity, one column per backend.
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
    /// The workload's shape: `seq` or `P:C`.
    pub shape: String,
    /// Median throughput divided by the baseline's in the same shape and capacity.
    pub ratio: Option<f64>,
    /// Everything measured; its fields appear at this level of the JSON object.
    #[serde(flatten)]
    pub measurement: Measurement,
}

/// A cell of a comparison that did not run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The backend.
    pub backend: String,
    /// The shape.
    pub shape: String,
    /// The capacity.
    pub capacity: usize,
    /// The backpressure policy.
    pub policy: String,
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
    /// The shape.
    pub shape: String,
    /// The capacity.
    pub capacity: usize,
    /// The backpressure policy.
    pub policy: String,
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
            backends,
            results: measurements
                .into_iter()
                .map(|m| ResultEntry {
                    shape: m.workload.shape().to_string(),
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
            backends: matrix.backends.iter().map(|b| (*b).to_owned()).collect(),
            results: Vec::new(),
            skipped: Vec::new(),
            failures: Vec::new(),
        };
        for cell in cells {
            let shape = cell.topology.to_string();
            match &cell.outcome {
                CellOutcome::Measured(m) => report.results.push(ResultEntry {
                    shape,
                    ratio: ratio(cells, cell, matrix.baseline),
                    measurement: (**m).clone(),
                }),
                CellOutcome::Skipped(reason) => report.skipped.push(Skipped {
                    backend: cell.backend.to_owned(),
                    shape,
                    capacity: cell.capacity,
                    policy: cell.policy.to_string(),
                    reason: reason.clone(),
                    unsupported: false,
                }),
                CellOutcome::Unsupported(reason) => report.skipped.push(Skipped {
                    backend: cell.backend.to_owned(),
                    shape,
                    capacity: cell.capacity,
                    policy: cell.policy.to_string(),
                    reason: reason.clone(),
                    unsupported: true,
                }),
                CellOutcome::Failed(error) => report.failures.push(Failure {
                    backend: cell.backend.to_owned(),
                    shape,
                    capacity: cell.capacity,
                    policy: cell.policy.to_string(),
                    error: error.to_string(),
                    watchdog: matches!(error, crate::engine::RunError::Watchdog(_)),
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
            (Format::Table, Command::Compare) => self.compare_table(),
            (Format::Json, _) => self.json(),
            (Format::Csv, _) => self.csv(),
            (Format::Markdown, Command::Run) => self.run_markdown(),
            (Format::Markdown, Command::Compare) => self.compare_markdown(),
        }
    }

    /// The JSON document, pretty-printed.
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }

    fn header_lines(&self, prefix: &str) -> String {
        self.environment
            .lines()
            .iter()
            .map(|line| format!("{prefix}{line}\n"))
            .collect()
    }

    fn run_table(&self) -> String {
        let mut out = self.header_lines("# ");
        for entry in &self.results {
            let m = &entry.measurement;
            let w = &m.workload;
            let _ = writeln!(out, "\n{}", m.backend);
            let mut row = |key: &str, value: String| {
                let _ = writeln!(out, "  {key:<11} {value}");
            };
            row("workload", describe_workload(m));
            row(
                "wall",
                format!(
                    "median {} (min {}, max {}; {} repetitions after {} warm-up)",
                    seconds(m.wall_s.median),
                    seconds(m.wall_s.min),
                    seconds(m.wall_s.max),
                    w.repeats,
                    w.warmup
                ),
            );
            row(
                "throughput",
                format!(
                    "{} msg/s (min {}, max {})",
                    rate(m.throughput.median),
                    rate(m.throughput.min),
                    rate(m.throughput.max)
                ),
            );
            if let Some(load) = describe_load(m) {
                row("load", load);
            }
            if let Some(rate) = describe_rate(m) {
                row("rate", rate);
            }
            row("cpu", describe_cpu(&m.cpu, m.repetitions.len()));
            row(
                "latency",
                m.latency.map_or_else(
                    || "no samples".to_owned(),
                    |l| {
                        format!(
                            "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  ({} samples, 1 in {})",
                            nanos(l.p50_ns),
                            nanos(l.p90_ns),
                            nanos(l.p99_ns),
                            nanos(l.p999_ns),
                            nanos(l.max_ns),
                            l.samples,
                            l.sample_every
                        )
                    },
                ),
            );
            row(
                "producers",
                m.producers
                    .iter()
                    .map(|p| {
                        let mut text = format!("{} {}", p.thread, p.produced);
                        for (count, what) in [
                            (p.handed_back, "handed back"),
                            (p.dropped_by_policy, "dropped"),
                            (p.evicted, "evicted"),
                            (p.timed_out, "timed out"),
                        ] {
                            if count > 0 {
                                let _ = write!(text, " +{count} {what}");
                            }
                        }
                        if let Some(b) = p.blocked_s {
                            let _ = write!(text, " (blocked {})", seconds(b));
                        }
                        text
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            row(
                "consumers",
                m.consumers
                    .iter()
                    .map(|c| match c.blocked_s {
                        Some(b) => format!("{} {} (blocked {})", c.thread, c.consumed, seconds(b)),
                        None => format!("{} {}", c.thread, c.consumed),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            row("depth", describe_depth(m));
            if let Some(f) = &m.fault {
                row(
                    "fault",
                    format!(
                        "{} fired in {} of {} runs",
                        f.fault, f.triggered_runs, f.runs
                    ),
                );
            }
            row("verified", m.verification.summary());
        }
        for failure in &self.failures {
            let _ = writeln!(out, "\n{}: {}", failure.backend, failure.error);
        }
        out
    }

    /// Rows of the comparison: (shape, capacity, policy), shapes and policies in the order
    /// they ran, capacities ascending. Rows where nothing ran or was unsupported (every cell
    /// skipped) are left out.
    fn rows(&self) -> Vec<(String, usize, String)> {
        let ran = self
            .results
            .iter()
            .map(|r| {
                (
                    r.shape.clone(),
                    r.measurement.workload.capacity,
                    r.measurement.workload.policy.to_string(),
                )
            })
            .chain(
                self.failures
                    .iter()
                    .map(|f| (f.shape.clone(), f.capacity, f.policy.clone())),
            )
            .chain(
                self.skipped
                    .iter()
                    .filter(|s| s.unsupported)
                    .map(|s| (s.shape.clone(), s.capacity, s.policy.clone())),
            );
        let mut shapes: Vec<String> = Vec::new();
        let mut policies: Vec<String> = Vec::new();
        let mut rows: Vec<(String, usize, String)> = Vec::new();
        for row in ran {
            if !shapes.contains(&row.0) {
                shapes.push(row.0.clone());
            }
            if !policies.contains(&row.2) {
                policies.push(row.2.clone());
            }
            if !rows.contains(&row) {
                rows.push(row);
            }
        }
        rows.sort_by_key(|(shape, capacity, policy)| {
            (
                shapes.iter().position(|s| s == shape),
                *capacity,
                policies.iter().position(|p| p == policy),
            )
        });
        rows
    }

    fn entry(&self, backend: &str, shape: &str, capacity: usize, policy: &str) -> Cellish<'_> {
        if let Some(r) = self.results.iter().find(|r| {
            r.measurement.backend == backend
                && r.shape == shape
                && r.measurement.workload.capacity == capacity
                && r.measurement.workload.policy.to_string() == policy
        }) {
            return Cellish::Result(r);
        }
        if let Some(f) = self.failures.iter().find(|f| {
            f.backend == backend && f.shape == shape && f.capacity == capacity && f.policy == policy
        }) {
            return Cellish::Failed(f);
        }
        if self.skipped.iter().any(|s| {
            s.unsupported
                && s.backend == backend
                && s.shape == shape
                && s.capacity == capacity
                && s.policy == policy
        }) {
            return Cellish::Unsupported;
        }
        Cellish::Empty
    }

    /// Whether the comparison is about load rather than raw speed: several policies, a
    /// policy other than `block`, or an open-loop rate. Such a comparison is shown one row per
    /// cell, with shed, timed-out and p99 columns next to throughput.
    fn about_load(&self) -> bool {
        let mut policies = self
            .results
            .iter()
            .map(|r| r.measurement.workload.policy.to_string())
            .chain(self.skipped.iter().map(|s| s.policy.clone()))
            .chain(self.failures.iter().map(|f| f.policy.clone()));
        let first = policies.next();
        let several = policies.any(|p| Some(&p) != first.as_ref());
        several
            || first.is_some_and(|p| p != Policy::Block.to_string())
            || self
                .results
                .iter()
                .any(|r| r.measurement.workload.rate.is_some())
    }

    /// Backends with the baseline first.
    fn columns(&self) -> Vec<&str> {
        let mut columns: Vec<&str> = self.backends.iter().map(String::as_str).collect();
        if let Some(base) = &self.baseline
            && let Some(i) = columns.iter().position(|c| c == base)
        {
            let base = columns.remove(i);
            columns.insert(0, base);
        }
        columns
    }

    /// The comparison table: its header, its rows, and how many leading columns are text.
    fn compare_cells(&self) -> (Vec<String>, Vec<Vec<String>>, usize) {
        if self.about_load() {
            return self.load_cells();
        }
        let columns = self.columns();
        let mut head = vec!["shape".to_owned(), "cap".to_owned()];
        head.extend(columns.iter().map(|c| format!("{c} msg/s")));
        let mut body = Vec::new();
        for (shape, capacity, policy) in self.rows() {
            let mut line = vec![shape.clone(), capacity.to_string()];
            for backend in &columns {
                line.push(match self.entry(backend, &shape, capacity, &policy) {
                    Cellish::Result(r) => {
                        let mut text = rate(r.measurement.throughput.median);
                        if let Some(ratio) = r.ratio {
                            let _ = write!(text, " ({ratio:.2}x)");
                        }
                        if !r.measurement.verification.ok {
                            text.push_str(" FAILED");
                        }
                        text
                    }
                    Cellish::Failed(f) if f.watchdog => "HUNG".to_owned(),
                    Cellish::Failed(_) => "error".to_owned(),
                    Cellish::Unsupported => "unsupported".to_owned(),
                    Cellish::Empty => "-".to_owned(),
                });
            }
            body.push(line);
        }
        (head, body, 2)
    }

    /// One row per cell: shape, capacity, policy, backend, then throughput with its ratio,
    /// shed, timed out, p99 latency and (with a rate) whether the backend kept up.
    fn load_cells(&self) -> (Vec<String>, Vec<Vec<String>>, usize) {
        let paced = self
            .results
            .iter()
            .any(|r| r.measurement.workload.rate.is_some());
        let mut head: Vec<String> = [
            "shape",
            "cap",
            "policy",
            "backend",
            "msg/s",
            "ratio",
            "shed",
            "timed out",
            "p99 latency",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if paced {
            head.push("kept up".to_owned());
        }
        let mut body = Vec::new();
        for (shape, capacity, policy) in self.rows() {
            for backend in self.columns() {
                let mut line = vec![
                    shape.clone(),
                    capacity.to_string(),
                    policy.clone(),
                    backend.to_owned(),
                ];
                let rest: Vec<String> = match self.entry(backend, &shape, capacity, &policy) {
                    Cellish::Result(r) => {
                        let m = &r.measurement;
                        let mut throughput = rate(m.throughput.median);
                        if !m.verification.ok {
                            throughput.push_str(" FAILED");
                        }
                        let mut rest = vec![
                            throughput,
                            r.ratio
                                .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}x")),
                            percent(m.load.shed_fraction),
                            percent(m.load.timed_out_fraction),
                            m.latency
                                .map_or_else(|| "-".to_owned(), |l| nanos(l.p99_ns)),
                        ];
                        if paced {
                            rest.push(yes_no(m.load.kept_up).to_owned());
                        }
                        rest
                    }
                    Cellish::Failed(f) => {
                        vec![if f.watchdog { "HUNG" } else { "error" }.to_owned()]
                    }
                    Cellish::Unsupported => vec!["unsupported".to_owned()],
                    Cellish::Empty => continue,
                };
                line.extend(rest);
                line.resize(head.len(), "-".to_owned());
                body.push(line);
            }
        }
        (head, body, 4)
    }

    fn compare_footer(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let runs: u64 = self
            .results
            .iter()
            .map(|r| r.measurement.verification.runs)
            .sum();
        let delivered: u64 = self
            .results
            .iter()
            .map(|r| r.measurement.verification.delivered)
            .sum();
        let failed: Vec<&ResultEntry> = self
            .results
            .iter()
            .filter(|r| !r.measurement.verification.ok)
            .collect();
        if let Some(base) = &self.baseline {
            let same = if self.about_load() {
                "shape, capacity and policy"
            } else {
                "row"
            };
            lines.push(format!(
                "median of {} repetitions per cell; ratio = throughput / {base}'s in the same {same}",
                self.results
                    .first()
                    .map_or(0, |r| r.measurement.workload.repeats)
            ));
        }
        if failed.is_empty() {
            lines.push(format!(
                "verified: all {} runs ({} items) delivered exactly once, in per-producer order where FIFO, every payload dropped once",
                runs, delivered
            ));
        } else {
            for r in failed {
                lines.push(format!(
                    "FAILED {} {} cap {}: {}",
                    r.measurement.backend,
                    r.shape,
                    r.measurement.workload.capacity,
                    r.measurement.verification.summary()
                ));
            }
        }
        for f in &self.failures {
            lines.push(format!(
                "{} {} cap {}: {}",
                f.backend, f.shape, f.capacity, f.error
            ));
        }
        let mut reasons: Vec<String> = Vec::new();
        for s in &self.skipped {
            let text = if s.unsupported {
                format!("unsupported: {}", s.reason)
            } else {
                format!(
                    "skipped: {} at capacity {}: {}",
                    s.backend, s.capacity, s.reason
                )
            };
            if s.shape != "seq" && !reasons.contains(&text) {
                reasons.push(text);
            }
        }
        lines.extend(reasons);
        if self.about_load() {
            lines.push(
                "shed = dropped (drop-newest) or evicted (drop-oldest), as a share of the items \
                 offered; p99 from each item's scheduled send time"
                    .to_owned(),
            );
        }
        lines
    }

    fn compare_table(&self) -> String {
        let mut out = self.header_lines("# ");
        let (head, body, text_columns) = self.compare_cells();
        out.push('\n');
        out.push_str(&aligned(&head, &body, text_columns));
        out.push('\n');
        for line in self.compare_footer() {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    fn compare_markdown(&self) -> String {
        let mut out = self.header_lines("- ");
        let (head, body, text_columns) = self.compare_cells();
        out.push('\n');
        out.push_str(&markdown_table(&head, &body, text_columns));
        out.push('\n');
        for line in self.compare_footer() {
            let _ = writeln!(out, "{line}  ");
        }
        out
    }

    fn run_markdown(&self) -> String {
        let mut out = self.header_lines("- ");
        let head: Vec<String> = [
            "backend",
            "shape",
            "cap",
            "messages",
            "median msg/s",
            "min-max msg/s",
            "cpu ns/msg",
            "shed",
            "timed out",
            "kept up",
            "p50",
            "p99",
            "verified",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let body: Vec<Vec<String>> = self
            .results
            .iter()
            .map(|r| {
                let m = &r.measurement;
                vec![
                    m.backend.clone(),
                    r.shape.clone(),
                    m.workload.capacity.to_string(),
                    m.workload.messages.to_string(),
                    rate(m.throughput.median),
                    format!("{} - {}", rate(m.throughput.min), rate(m.throughput.max)),
                    m.cpu
                        .ns_per_message
                        .map_or_else(|| "-".to_owned(), |n| format!("{n:.0}")),
                    format!("{} ({})", m.load.shed, percent(m.load.shed_fraction)),
                    format!(
                        "{} ({})",
                        m.load.timed_out,
                        percent(m.load.timed_out_fraction)
                    ),
                    yes_no(m.load.kept_up).to_owned(),
                    m.latency
                        .map_or_else(|| "-".to_owned(), |l| nanos(l.p50_ns)),
                    m.latency
                        .map_or_else(|| "-".to_owned(), |l| nanos(l.p99_ns)),
                    if m.verification.ok { "ok" } else { "FAILED" }.to_owned(),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&markdown_table(&head, &body, 3));
        for r in &self.results {
            let _ = writeln!(
                out,
                "\n{}: {}",
                r.measurement.backend,
                r.measurement.verification.summary()
            );
        }
        out
    }

    /// CSV, one row per result, after `#` comment lines holding the environment header.
    pub fn csv(&self) -> String {
        let mut out = self.header_lines("# ");
        out.push_str(
            "backend,shape,capacity,messages,payload,batch,policy,fault,repeats,\
             wall_median_s,wall_min_s,wall_max_s,msgs_per_s_median,msgs_per_s_min,msgs_per_s_max,\
             ratio,cpu_user_s,cpu_sys_s,cpu_ns_per_msg,latency_p50_ns,latency_p90_ns,\
             latency_p99_ns,latency_p999_ns,latency_max_ns,verified,delivered,lost,duplicated,\
             reordered,handed_back,dropped_by_policy,timed_out,evicted,shed,shed_fraction,\
             shed_per_s,timed_out_fraction,timed_out_per_s,priorities,rate_per_s,send_rate,\
             kept_up\n",
        );
        let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v}"));
        for r in &self.results {
            let m = &r.measurement;
            let w = &m.workload;
            let v = &m.verification;
            let l = m.latency;
            let lat = |f: fn(&crate::measure::Latency) -> u64| {
                l.as_ref().map_or_else(String::new, |l| f(l).to_string())
            };
            let fields = [
                m.backend.clone(),
                r.shape.clone(),
                w.capacity.to_string(),
                w.messages.to_string(),
                w.payload.to_string(),
                w.batch.to_string(),
                w.policy.to_string(),
                w.fault.map_or_else(String::new, |f| f.to_string()),
                w.repeats.to_string(),
                m.wall_s.median.to_string(),
                m.wall_s.min.to_string(),
                m.wall_s.max.to_string(),
                m.throughput.median.to_string(),
                m.throughput.min.to_string(),
                m.throughput.max.to_string(),
                opt(r.ratio),
                m.cpu.user_s.to_string(),
                m.cpu.sys_s.to_string(),
                opt(m.cpu.ns_per_message),
                lat(|l| l.p50_ns),
                lat(|l| l.p90_ns),
                lat(|l| l.p99_ns),
                lat(|l| l.p999_ns),
                lat(|l| l.max_ns),
                v.ok.to_string(),
                v.delivered.to_string(),
                v.lost.to_string(),
                v.duplicated.to_string(),
                v.reordered.to_string(),
                v.handed_back.to_string(),
                v.dropped_by_policy.to_string(),
                v.timed_out.to_string(),
                v.evicted.to_string(),
                m.load.shed.to_string(),
                m.load.shed_fraction.to_string(),
                m.load.shed_per_s.to_string(),
                m.load.timed_out_fraction.to_string(),
                m.load.timed_out_per_s.to_string(),
                w.priorities.to_string(),
                opt(w.rate),
                m.load.send_rate.to_string(),
                m.load.kept_up.map_or_else(String::new, |k| k.to_string()),
            ];
            let _ = writeln!(out, "{}", fields.join(","));
        }
        out
    }

    /// A grouped bar chart of median throughput (log scale) per shape and capacity, one bar per
    /// backend, with the ratio to the baseline over each bar and the environment header on the
    /// picture. Written by hand as SVG text.
    pub fn svg(&self) -> String {
        const COLORS: [&str; 8] = [
            "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
        ];
        let columns = self.columns();
        let rows = self.rows();
        let bar = 18.0;
        let gap = 22.0;
        let group = bar * columns.len().max(1) as f64 + gap;
        let left = 70.0;
        let top = 120.0;
        let plot_h = 320.0;
        let width = (left + group * rows.len().max(1) as f64 + 30.0).max(720.0);
        let height = top + plot_h + 80.0;
        let values: Vec<f64> = self
            .results
            .iter()
            .map(|r| r.measurement.throughput.median)
            .filter(|v| *v > 0.0)
            .collect();
        let lo = values
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .log10()
            .floor()
            .min(6.0);
        let hi = values
            .iter()
            .copied()
            .fold(0.0, f64::max)
            .log10()
            .ceil()
            .max(lo + 1.0);
        let y = |v: f64| top + plot_h - (v.log10() - lo) / (hi - lo) * plot_h;

        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let title = match &self.baseline {
            Some(base) => format!(
                "Throughput per backend and shape (median msg/s, log scale; ratio to {base} above bars)"
            ),
            None => "Throughput per backend (median msg/s, log scale)".to_owned(),
        };
        let _ = writeln!(
            s,
            r#"<text x="{left}" y="22" font-size="14" font-weight="bold">{}</text>"#,
            escape(&title)
        );
        for (i, line) in self.environment.lines().iter().enumerate() {
            let _ = writeln!(
                s,
                r##"<text x="{left}" y="{}" fill="#555">{}</text>"##,
                40 + 14 * i,
                escape(line)
            );
        }
        // Legend.
        for (i, backend) in columns.iter().enumerate() {
            let x = left + 130.0 * i as f64;
            let _ = writeln!(
                s,
                r#"<rect x="{x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
                top - 22.0,
                COLORS[i % COLORS.len()],
                x + 16.0,
                top - 12.0,
                escape(backend)
            );
        }
        // Decade grid lines.
        let mut decade = lo;
        while decade <= hi {
            let v = 10f64.powf(decade);
            let yy = y(v);
            let _ = writeln!(
                s,
                r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                width - 20.0,
                left - 6.0,
                yy + 4.0,
                rate(v)
            );
            decade += 1.0;
        }
        let show_policy = self.about_load();
        for (g, (shape, capacity, policy)) in rows.iter().enumerate() {
            let x0 = left + gap / 2.0 + group * g as f64;
            for (i, backend) in columns.iter().enumerate() {
                let x = x0 + bar * i as f64;
                if let Cellish::Result(r) = self.entry(backend, shape, *capacity, policy) {
                    let v = r.measurement.throughput.median;
                    if v <= 0.0 {
                        continue;
                    }
                    let yy = y(v);
                    let fill = if r.measurement.verification.ok {
                        COLORS[i % COLORS.len()]
                    } else {
                        "#000"
                    };
                    let _ = writeln!(
                        s,
                        r#"<rect x="{x:.1}" y="{yy:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{} {} cap {}: {} msg/s</title></rect>"#,
                        bar - 2.0,
                        top + plot_h - yy,
                        escape(backend),
                        escape(shape),
                        capacity,
                        rate(v)
                    );
                    if let Some(ratio) = r.ratio {
                        let _ = writeln!(
                            s,
                            r#"<text x="{:.1}" y="{:.1}" font-size="8" text-anchor="middle">{ratio:.2}</text>"#,
                            x + (bar - 2.0) / 2.0,
                            yy - 3.0
                        );
                    }
                }
            }
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">cap {}</text>"##,
                x0 + (group - gap) / 2.0,
                top + plot_h + 16.0,
                escape(shape),
                x0 + (group - gap) / 2.0,
                top + plot_h + 30.0,
                capacity
            );
            if show_policy {
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
                    x0 + (group - gap) / 2.0,
                    top + plot_h + 44.0,
                    escape(policy)
                );
            }
        }
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/>"##,
            top + plot_h,
            width - 20.0,
            top + plot_h
        );
        s.push_str("</svg>\n");
        s
    }
}

enum Cellish<'a> {
    Result(&'a ResultEntry),
    Failed(&'a Failure),
    Unsupported,
    Empty,
}

fn describe_workload(m: &Measurement) -> String {
    let w = &m.workload;
    let mut text = format!(
        "{}, capacity {}, {} messages, payload {}, batch {}, policy {}",
        w.shape(),
        w.capacity,
        w.messages,
        w.payload,
        w.batch,
        w.policy
    );
    if w.priorities > 1 {
        let _ = write!(text, ", priorities 0-{} uniform", w.priorities - 1);
    }
    if !w.producer_delay.is_zero() {
        let _ = write!(
            text,
            ", producer delay {}",
            DisplayDuration(w.producer_delay)
        );
    }
    if !w.consumer_delay.is_zero() {
        let _ = write!(
            text,
            ", consumer delay {}",
            DisplayDuration(w.consumer_delay)
        );
    }
    if let Some(r) = w.rate {
        let _ = write!(text, ", rate {}/s", rate(r));
    }
    text
}

/// Offered, shed and timed out, when the policy can shed or time out or something was.
fn describe_load(m: &Measurement) -> Option<String> {
    let l = &m.load;
    let w = &m.workload;
    if w.policy == crate::spec::Policy::Block && l.shed == 0 && l.timed_out == 0 {
        return None;
    }
    Some(format!(
        "offered {}; shed {} ({}, {}/s); timed out {} ({}, {}/s)",
        l.offered,
        l.shed,
        percent(l.shed_fraction),
        rate(l.shed_per_s),
        l.timed_out,
        percent(l.timed_out_fraction),
        rate(l.timed_out_per_s)
    ))
}

/// The open-loop target against what was sent and delivered.
fn describe_rate(m: &Measurement) -> Option<String> {
    let l = &m.load;
    let target = l.target_rate?;
    Some(format!(
        "target {}/s; offered {}/s; delivered {}/s; kept up: {}",
        rate(target),
        rate(l.send_rate),
        rate(m.throughput.median),
        yes_no(l.kept_up)
    ))
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

/// A fraction as a percentage: `12.3%`, `0%`, `<0.1%`.
fn percent(fraction: f64) -> String {
    if fraction == 0.0 {
        "0%".to_owned()
    } else if fraction < 0.001 {
        "<0.1%".to_owned()
    } else {
        format!("{:.1}%", fraction * 100.0)
    }
}

/// The fewest clock ticks of CPU time from which the run table derives cores busy and ns/msg.
const MIN_CPU_TICKS: f64 = 10.0;

fn describe_cpu(cpu: &CpuSummary, repetitions: usize) -> String {
    if !cpu.available {
        return "not available".to_owned();
    }
    if cpu.user_s + cpu.sys_s == 0.0 {
        return format!(
            "below the {} tick of /proc/self/stat over {} repetitions",
            seconds(cpu.tick_s),
            repetitions
        );
    }
    // CPU time comes in whole clock ticks; over a short run a rate built on a handful of
    // them would be off by a large factor either way, so it is not shown.
    let ticks = ((cpu.user_s + cpu.sys_s) / cpu.tick_s).round();
    if ticks < MIN_CPU_TICKS {
        return format!(
            "user {} + sys {} over {} repetitions: {ticks:.0} ticks of {}, too few for cores \
             busy or ns/msg (run more messages)",
            seconds(cpu.user_s),
            seconds(cpu.sys_s),
            repetitions,
            seconds(cpu.tick_s)
        );
    }
    let mut text = format!(
        "user {} + sys {} over {} repetitions; {:.2} cores busy",
        seconds(cpu.user_s),
        seconds(cpu.sys_s),
        repetitions,
        cpu.utilisation
    );
    if let Some(ns) = cpu.ns_per_message {
        let _ = write!(text, "; {ns:.0} ns/msg");
    }
    text
}

fn describe_depth(m: &Measurement) -> String {
    let d = &m.depth;
    if d.samples == 0 {
        return "no samples".to_owned();
    }
    let mut parts = Vec::new();
    for b in d.buckets.iter().filter(|b| b.count > 0) {
        let share = b.count as f64 * 100.0 / d.samples as f64;
        let range = if b.from == b.to {
            b.from.to_string()
        } else {
            format!("{}-{}", b.from, b.to)
        };
        parts.push(format!("{range}: {share:.0}%"));
    }
    format!("{}  ({} samples)", parts.join("  "), d.samples)
}

/// A rate with a metric suffix: `43.2 M`, `640 k`, `12`.
pub fn rate(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.2} G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn seconds(s: f64) -> String {
    nanos((s * 1e9) as u64)
}

fn nanos(ns: u64) -> String {
    let v = ns as f64;
    if ns >= 1_000_000_000 {
        format!("{:.2} s", v / 1e9)
    } else if ns >= 1_000_000 {
        format!("{:.2} ms", v / 1e6)
    } else if ns >= 1_000 {
        format!("{:.1} us", v / 1e3)
    } else {
        format!("{ns} ns")
    }
}

/// An aligned text table; the first `text_columns` columns are left-aligned, the rest right.
fn aligned(head: &[String], body: &[Vec<String>], text_columns: usize) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in body {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i < text_columns {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = line(head);
    out.push('\n');
    for row in body {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

/// A Markdown table; the first `text_columns` columns are left-aligned, the rest right.
fn markdown_table(head: &[String], body: &[Vec<String>], text_columns: usize) -> String {
    let mut out = format!("| {} |\n", head.join(" | "));
    out.push_str(&format!(
        "|{}\n",
        head.iter()
            .enumerate()
            .map(|(i, _)| {
                if i < text_columns {
                    " --- |"
                } else {
                    " ---: |"
                }
            })
            .collect::<String>()
    ));
    for row in body {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!("json".parse(), Ok(Format::Json));
        assert_eq!("md".parse(), Ok(Format::Markdown));
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn cpu_rates_need_enough_clock_ticks() {
        let tick = CpuSummary {
            user_s: 0.01,
            sys_s: 0.0,
            utilisation: 6.24,
            ns_per_message: Some(1000.0),
            available: true,
            tick_s: 0.01,
        };
        assert_eq!(
            describe_cpu(&tick, 1),
            "user 10.00 ms + sys 0 ns over 1 repetitions: 1 ticks of 10.00 ms, too few for \
             cores busy or ns/msg (run more messages)"
        );
        let enough = CpuSummary {
            user_s: 0.09,
            sys_s: 0.01,
            utilisation: 1.5,
            ns_per_message: Some(250.0),
            ..tick
        };
        assert_eq!(
            describe_cpu(&enough, 5),
            "user 90.00 ms + sys 10.00 ms over 5 repetitions; 1.50 cores busy; 250 ns/msg"
        );
        assert_eq!(
            describe_cpu(
                &CpuSummary {
                    user_s: 0.0,
                    ..tick
                },
                2
            ),
            "below the 10.00 ms tick of /proc/self/stat over 2 repetitions"
        );
    }

    #[test]
    fn human_numbers() {
        assert_eq!(rate(43_210_000.0), "43.21 M");
        assert_eq!(rate(640_400.0), "640.4 k");
        assert_eq!(rate(12.0), "12");
        assert_eq!(nanos(1_500), "1.5 us");
        assert_eq!(nanos(2_500_000), "2.50 ms");
        assert_eq!(escape("<a & b>"), "&lt;a &amp; b&gt;");
    }
}
