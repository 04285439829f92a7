//! A matrix of workloads (topology x capacity x policy) run against several backends in one
//! process, so that ratios between backends come from the same machine in the same minute.
//!
//! # Paired, interleaved rounds
//!
//! The backends of one cell (one topology, capacity and policy) take turns: each round runs
//! every backend once, with the same workload and the same message count, and the order is
//! rotated by one backend from round to round. A slow minute of a shared host (a vCPU moved, a
//! neighbour busy) then falls on every backend of the round alike, and the ratio of a backend
//! to the baseline is taken round by round (`report` turns those paired ratios into a median
//! with a confidence interval). The first `warmup` rounds are warm-ups, measured by nobody.
//!
//! With a target time, each backend first makes one short verified probe run; the message
//! count of the cell is the target time times the geometric mean of the probes' rates, so
//! every backend runs the same count and no backend is far from the target.
//!
//! A backend that does not offer a cell's policy or fault (`drop-oldest` without an atomic
//! evict-and-insert, `close-storm` without `close()`) gets a [`CellOutcome::Unsupported`] cell,
//! shown as such, and the rest of the comparison runs.

use std::time::Duration;

use buffer_api::{Backend, CapacityError};

use crate::engine::{RunError, Session, interrupted};
use crate::measure::{Interval, Measurement, paired_ratio_interval};
use crate::registry::{self, BackendVisitor};
use crate::spec::{
    Policy, Topology, Unrunnable, Workload, parse_capacities, parse_duration, parse_topologies,
};

/// What to compare.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// Backend names, in the order columns are shown.
    pub backends: Vec<&'static str>,
    /// Topologies.
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

/// The uneven-consumer workload's delays (`--consumer-delay` of `compare --preset uneven`, and
/// the benches' `uneven` group): every fourth consumer takes 20 µs per item, the others
/// nothing, so a buffer is judged on how it keeps the fast consumers busy beside a slow one.
pub const UNEVEN_CONSUMER_DELAYS: &str = "0,0,0,20us";

/// The uneven-consumer workload's capacities, as `--capacities` writes them.
pub const UNEVEN_CAPACITIES: &str = "1,1024";

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

    /// Every (topology, capacity, policy) whose backends run side by side, in the order they
    /// are run and reported.
    pub(crate) fn groups(&self) -> Vec<(Topology, usize, Policy)> {
        let mut groups = Vec::new();
        for &topology in &self.topologies {
            for &capacity in &self.capacities {
                for &policy in &self.policies {
                    groups.push((topology, capacity, policy));
                }
            }
        }
        groups
    }

    /// The workload of one group: the base with its topology, capacity and policy.
    pub(crate) fn workload(&self, topology: Topology, capacity: usize, policy: Policy) -> Workload {
        let base = self.base.clone().topology(topology);
        base.capacity(capacity).policy(policy)
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
    /// It cannot run ([`Topology::accepts`] refused it), or was not run (interrupted).
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

/// Runs every cell of the matrix, calling `observer` after each. The backends of one
/// topology, capacity and policy run in paired rounds (module docs); `observer` sees their
/// cells once the last round is done. After [`interrupt`](crate::engine::interrupt), the
/// cell in progress keeps the rounds it finished, and every later cell is skipped as
/// [`NOT_RUN`].
pub fn run_matrix(matrix: &Matrix, observer: &mut dyn FnMut(&Cell)) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (topology, capacity, policy) in matrix.groups() {
        let workload = matrix.workload(topology, capacity, policy);
        let started = std::time::Instant::now();
        let outcomes = if interrupted() {
            (0..matrix.backends.len())
                .map(|_| CellOutcome::Skipped(NOT_RUN.to_owned()))
                .collect()
        } else {
            run_group(&matrix.backends, &workload, matrix.target_time)
        };
        for (backend, outcome) in matrix.backends.iter().zip(outcomes) {
            let cell = Cell {
                backend,
                topology,
                capacity,
                policy,
                outcome,
            };
            observer(&cell);
            cells.push(cell);
        }
        tracing::info!(
            "{topology} cap {capacity} {policy}: {} backends in {:.2}s",
            matrix.backends.len(),
            started.elapsed().as_secs_f64()
        );
    }
    cells
}

/// One backend of a cell, while its rounds go on.
enum Entry {
    /// Still running rounds.
    Running(Session),
    /// Settled before or during the rounds.
    Done(CellOutcome),
}

/// The outcomes of every backend of one cell, in `backends` order.
fn run_group(
    backends: &[&'static str],
    workload: &Workload,
    target_time: Option<Duration>,
) -> Vec<CellOutcome> {
    let mut workload = workload.clone();
    // A cell the topology or the backend cannot run is settled before any round.
    let mut entries: Vec<Option<Entry>> = backends
        .iter()
        .map(|backend| unrunnable(backend, &workload).map(Entry::Done))
        .collect();
    if let Some(target) = target_time {
        let mut rates = Vec::new();
        for (entry, backend) in entries.iter_mut().zip(backends) {
            if entry.is_some() {
                continue;
            }
            match probe(backend, &workload) {
                Ok(rate) => rates.push(rate),
                Err(outcome) => *entry = Some(Entry::Done(outcome)),
            }
        }
        if !rates.is_empty() {
            let log_mean = rates.iter().map(|r| r.max(1.0).ln()).sum::<f64>() / rates.len() as f64;
            let sized = (log_mean.exp() * target.as_secs_f64()) as u64;
            workload.messages = sized.clamp(
                MIN_CALIBRATED_MESSAGES.min(workload.messages),
                workload.messages,
            );
        }
    }
    for (entry, backend) in entries.iter_mut().zip(backends) {
        if entry.is_none() {
            *entry = Some(start(backend, &workload).map_or_else(Entry::Done, Entry::Running));
        }
    }
    let mut entries: Vec<Entry> = entries.into_iter().flatten().collect();
    let rounds = workload.warmup + workload.repeats;
    let n = entries.len();
    'rounds: for round in 0..rounds {
        for k in 0..n {
            let entry = &mut entries[(k + round) % n];
            if let Entry::Running(session) = entry {
                match session.run_next() {
                    Ok(_) => {}
                    // Every backend keeps the rounds it finished.
                    Err(RunError::Interrupted) => break 'rounds,
                    Err(e) => *entry = Entry::Done(failed(e)),
                }
            }
        }
    }
    entries
        .into_iter()
        .map(|entry| match entry {
            Entry::Running(session) => match session.finish() {
                Ok(m) => CellOutcome::Measured(Box::new(m)),
                Err(e) => failed(e),
            },
            Entry::Done(outcome) => outcome,
        })
        .collect()
}

/// The skipped outcome of `backend` in a cell it cannot run ([`Topology::accepts`]); `None`
/// when it can, or when the registry does not know it (the visit says so).
fn unrunnable(backend: &str, workload: &Workload) -> Option<CellOutcome> {
    let info = registry::find(backend)?;
    let topology = workload.topology;
    let refused = topology.accepts(workload.capacity, &info.capabilities);
    refused
        .err()
        .map(|why| CellOutcome::Skipped(why.to_string()))
}

/// Prepares the rounds of `workload` on the backend called `name`: `Err` when the cell is
/// settled without rounds (unknown backend, unsupported policy).
fn start(name: &str, workload: &Workload) -> Result<Session, CellOutcome> {
    struct Start<'a>(&'a Workload, Option<Result<Session, RunError>>);
    impl BackendVisitor for Start<'_> {
        fn visit<B: Backend>(&mut self) {
            self.1 = Some(Session::start::<B>(self.0));
        }
    }
    let mut visitor = Start(workload, None);
    registry::visit_named(name, &mut visitor)
        .map_err(|unknown| CellOutcome::Skipped(unknown.to_string()))?;
    match visitor.1 {
        Some(started) => started.map_err(failed),
        None => Err(CellOutcome::Skipped(
            "the backend was not visited".to_owned(),
        )),
    }
}

/// A short verified run of `workload` on the backend called `name`
/// ([`MIN_CALIBRATED_MESSAGES`] at most): its median rate, or the cell's outcome if the probe
/// failed or did not verify.
fn probe(name: &str, workload: &Workload) -> Result<f64, CellOutcome> {
    let probe = workload
        .clone()
        .messages(workload.messages.min(MIN_CALIBRATED_MESSAGES))
        .repeats(1)
        .warmup(0);
    let mut session = start(name, &probe)?;
    session.run_next().map_err(failed)?;
    let m = session.finish().map_err(failed)?;
    if !m.verification.ok {
        return Err(CellOutcome::Measured(Box::new(m)));
    }
    Ok(m.throughput.median)
}

fn failed(error: RunError) -> CellOutcome {
    match error {
        // A backend that declared rendezvous and then refused it.
        RunError::Capacity(CapacityError::RendezvousUnsupported { .. }) => {
            CellOutcome::Skipped(Unrunnable::NoRendezvous.to_string())
        }
        RunError::Unsupported(e) => CellOutcome::Unsupported(e.to_string()),
        RunError::Interrupted => CellOutcome::Skipped(NOT_RUN.to_owned()),
        other => CellOutcome::Failed(other),
    }
}

/// The paired throughput ratios of `cell` to the baseline's cell of the same topology,
/// capacity and policy, round by round (repetition `i` of one against repetition `i` of the
/// other), as a median with its confidence interval. `None` for the baseline itself, or when
/// either cell did not run.
pub(crate) fn ratio(cells: &[Cell], cell: &Cell, baseline: &str) -> Option<Interval> {
    if cell.backend == baseline {
        return None;
    }
    let rates =
        |m: &Measurement| -> Vec<f64> { m.repetitions.iter().map(|r| r.msgs_per_s).collect() };
    let base = cells.iter().find(|c| {
        c.backend == baseline
            && c.topology == cell.topology
            && c.capacity == cell.capacity
            && c.policy == cell.policy
    })?;
    paired_ratio_interval(&rates(cell.measurement()?), &rates(base.measurement()?))
}
