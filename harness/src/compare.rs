//! A matrix of workloads (topology x capacity x policy) run against several backends in one
//! process, so that ratios between backends come from the same machine in the same minute.
//!
//! Cells run topology by topology, and within a topology backend after backend, so a slow
//! phase of a shared host hits every backend of a topology alike. A backend that does not offer a cell's
//! policy (`drop-oldest` without an atomic evict-and-insert) gets an
//! [`CellOutcome::Unsupported`] cell, shown as such, and the rest of the comparison runs.

use std::time::Duration;

use buffer_api::{Backend, CapacityError};

use crate::engine::{RunError, interrupted, run};
use crate::measure::Measurement;
use crate::registry::{self, BackendVisitor};
use crate::spec::{Policy, Topology, Workload, parse_capacities, parse_duration, parse_topologies};

/// What to compare.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// Backend names, in the order columns are shown.
    pub backends: Vec<&'static str>,
    /// Shapes.
    pub topologies: Vec<Topology>,
    /// Capacities.
    pub capacities: Vec<usize>,
    /// Backpressure policies, side by side.
    pub policies: Vec<Policy>,
    /// Everything else about the workload; its topology, capacity and policy are replaced per
    /// cell.
    pub base: Workload,
    /// The backend ratios are computed against.
    pub baseline: &'static str,
    /// When set, each cell is first calibrated with a short verified run and its message count
    /// chosen so that one repetition takes about this long (never more than `base.messages`,
    /// never fewer than [`MIN_CALIBRATED_MESSAGES`]).
    pub target_time: Option<Duration>,
}

/// The quick default matrix as the command line spells it: [`Matrix::quick`] and the
/// defaults of the `compare` flags both read these, so they cannot drift apart.
pub mod quick {
    /// Topologies (`--topologies`).
    pub const TOPOLOGIES: &str = "seq,1:1,4:1,1:4,4:4,16:16";
    /// Capacities (`--capacities`).
    pub const CAPACITIES: &str = "0,1,1024";
    /// The ratio baseline (`--baseline`).
    pub const BASELINE: &str = "crossbeam";
    /// How long one repetition of a cell should take (`--target-time`).
    pub const TARGET_TIME: &str = "100ms";
    /// Measured repetitions per cell (`--repeats`).
    pub const REPEATS: usize = 5;
    /// Unmeasured runs per cell (`--warmup`).
    pub const WARMUP: usize = 0;
}

/// The fewest messages a calibrated cell runs.
pub const MIN_CALIBRATED_MESSAGES: u64 = 5_000;

impl Matrix {
    /// The quick default matrix `harness` runs with no arguments, read from [`quick`] (the
    /// same text the `compare` flags default to): every backend; topologies seq, 1:1, 4:1, 1:4,
    /// 4:4, 16:16; capacities 0, 1, 1024; 5 repetitions sized to about 100 ms each (at least
    /// [`MIN_CALIBRATED_MESSAGES`], at most 1,000,000 messages); blocked time not measured
    /// (see [`Workload::blocked_time`]: it costs throughput at small capacities).
    pub fn quick() -> Self {
        Self {
            backends: registry::names(),
            topologies: parse_topologies(quick::TOPOLOGIES).expect("the default topologies parse"),
            capacities: parse_capacities(quick::CAPACITIES).expect("the default capacities parse"),
            policies: vec![Policy::Block],
            base: Workload::new()
                .repeats(quick::REPEATS)
                .warmup(quick::WARMUP)
                .blocked_time(false),
            baseline: quick::BASELINE,
            target_time: Some(
                parse_duration(quick::TARGET_TIME).expect("the default target time parses"),
            ),
        }
    }

    /// The cells in the order they run.
    pub(crate) fn cells(&self) -> Vec<(Topology, usize, Policy, &'static str)> {
        let mut cells = Vec::new();
        for &topology in &self.topologies {
            for &capacity in &self.capacities {
                for &policy in &self.policies {
                    for &backend in &self.backends {
                        cells.push((topology, capacity, policy, backend));
                    }
                }
            }
        }
        cells
    }
}

/// One cell of a comparison.
#[derive(Debug)]
pub struct Cell {
    /// The backend.
    pub backend: &'static str,
    /// The topology.
    pub topology: Topology,
    /// The capacity.
    pub capacity: usize,
    /// The backpressure policy.
    pub policy: Policy,
    /// What happened.
    pub outcome: CellOutcome,
}

/// What happened in one cell.
#[derive(Debug)]
pub enum CellOutcome {
    /// It ran (its verification may still have failed).
    Measured(Box<Measurement>),
    /// It cannot run (capacity 0 without rendezvous, or the `seq` topology at capacity 0).
    Skipped(String),
    /// The backend does not offer the cell's policy (`drop-oldest` without an atomic
    /// evict-and-insert): shown as "unsupported", not counted as a failure.
    Unsupported(String),
    /// The run failed.
    Failed(RunError),
}

impl Cell {
    /// The measurement, if the cell ran.
    pub fn measurement(&self) -> Option<&Measurement> {
        match &self.outcome {
            CellOutcome::Measured(m) => Some(m),
            _ => None,
        }
    }
}

/// The reason of a cell skipped because the process was interrupted (see
/// [`interrupt`](crate::engine::interrupt)).
pub const NOT_RUN: &str = "not run: interrupted";

/// Runs every cell of the matrix, calling `observer` after each. After
/// [`interrupt`](crate::engine::interrupt), the cell in progress keeps the repetitions it
/// finished, and every later cell is skipped as [`NOT_RUN`].
pub fn run_matrix(matrix: &Matrix, observer: &mut dyn FnMut(&Cell)) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (topology, capacity, policy, backend) in matrix.cells() {
        let started = std::time::Instant::now();
        let workload = matrix
            .base
            .clone()
            .topology(topology)
            .capacity(capacity)
            .policy(policy);
        let outcome = if interrupted() {
            CellOutcome::Skipped(NOT_RUN.to_owned())
        } else if capacity == 0 && topology == Topology::Seq {
            CellOutcome::Skipped("one thread cannot rendezvous with itself".to_owned())
        } else {
            let mut cell = RunCell {
                workload,
                target_time: matrix.target_time,
                outcome: None,
            };
            match registry::visit_named(backend, &mut cell) {
                Ok(()) => cell.outcome.unwrap_or_else(|| {
                    CellOutcome::Skipped("the backend was not visited".to_owned())
                }),
                Err(unknown) => CellOutcome::Skipped(unknown.to_string()),
            }
        };
        let cell = Cell {
            backend,
            topology,
            capacity,
            policy,
            outcome,
        };
        tracing::info!(
            backend,
            messages = cell.measurement().map(|m| m.workload.messages),
            "{topology} cap {capacity} {policy} took {:.2}s",
            started.elapsed().as_secs_f64()
        );
        observer(&cell);
        cells.push(cell);
    }
    cells
}

struct RunCell {
    workload: Workload,
    target_time: Option<Duration>,
    outcome: Option<CellOutcome>,
}

impl BackendVisitor for RunCell {
    fn visit<B: Backend>(&mut self) {
        self.outcome = Some(run_cell::<B>(&self.workload, self.target_time));
    }
}

fn run_cell<B: Backend>(workload: &Workload, target_time: Option<Duration>) -> CellOutcome {
    let mut workload = workload.clone();
    if let Some(target) = target_time {
        let probe = workload
            .clone()
            .messages(workload.messages.min(MIN_CALIBRATED_MESSAGES))
            .repeats(1)
            .warmup(0);
        match run::<B>(&probe) {
            Ok(m) if !m.verification.ok => return CellOutcome::Measured(Box::new(m)),
            Ok(m) => {
                let rate = m.throughput.median.max(1.0);
                let sized = (rate * target.as_secs_f64()) as u64;
                workload.messages = sized.clamp(
                    MIN_CALIBRATED_MESSAGES.min(workload.messages),
                    workload.messages,
                );
            }
            Err(e) => return failed(e),
        }
    }
    match run::<B>(&workload) {
        Ok(m) => CellOutcome::Measured(Box::new(m)),
        Err(e) => failed(e),
    }
}

fn failed(error: RunError) -> CellOutcome {
    match error {
        RunError::Capacity(CapacityError::RendezvousUnsupported { .. }) => {
            CellOutcome::Skipped("no rendezvous (capacity 0)".to_owned())
        }
        RunError::Unsupported(e) => CellOutcome::Unsupported(e.to_string()),
        RunError::Interrupted => CellOutcome::Skipped(NOT_RUN.to_owned()),
        other => CellOutcome::Failed(other),
    }
}

/// The throughput ratio of `cell` to the baseline's cell of the same topology, capacity and
/// policy.
pub(crate) fn ratio(cells: &[Cell], cell: &Cell, baseline: &str) -> Option<f64> {
    let mine = cell.measurement()?.throughput.median;
    let base = cells
        .iter()
        .find(|c| {
            c.backend == baseline
                && c.topology == cell.topology
                && c.capacity == cell.capacity
                && c.policy == cell.policy
        })?
        .measurement()?
        .throughput
        .median;
    (base > 0.0).then(|| mine / base)
}
