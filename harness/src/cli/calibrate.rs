//! `harness calibrate`: how much of a channel's speed the harness itself costs. For each cell,
//! rounds alternate a bare loop over raw crossbeam-channel (`engine::bare`: `u64`s, the same
//! threads, start gate and timing, nothing recorded) with the harness's own verified run of the
//! raw `crossbeam` backend, and the report gives the harness's fraction of the bare loop's
//! throughput: the median of the round-by-round fractions with its interval.

use std::fmt::Write as _;

use serde::Serialize;

use super::exit::{Exit, Failure, run_error};
use super::output::Output;
use buffer_api::Backend as _;

use crate::engine::{Session, bare_crossbeam_rate};
use crate::measure::{Interval, median_interval, paired_ratio_interval};
use crate::report::{Environment, Format};
use crate::spec::{Topology, Workload};

/// What `harness calibrate` was asked.
#[derive(Clone, Debug)]
pub(super) struct CalibrateRequest {
    pub(super) topologies: Vec<Topology>,
    pub(super) capacities: Vec<usize>,
    pub(super) messages: u64,
    pub(super) rounds: usize,
    pub(super) output: Output,
}

/// One calibrated cell.
#[derive(Debug, Serialize)]
struct CalibratedCell {
    shape: Topology,
    capacity: usize,
    /// Harness throughput over bare-loop throughput, round by round.
    fraction: Option<Interval>,
    bare_msgs_per_s: f64,
    harness_msgs_per_s: f64,
    /// Each round's bare-loop throughput, in the order run, so a bimodal cell shows as one.
    bare_rounds: Vec<f64>,
    /// Each round's harness throughput, in the order run.
    harness_rounds: Vec<f64>,
}

/// The JSON document.
#[derive(Debug, Serialize)]
struct Calibration {
    command: &'static str,
    environment: Environment,
    rounds: usize,
    messages: u64,
    cells: Vec<CalibratedCell>,
}

/// Runs `harness calibrate`.
pub(super) fn calibrate(request: &CalibrateRequest) -> Result<Exit, Failure> {
    super::output::check_writable("--output", request.output.path.as_ref())?;
    let mut cells = Vec::new();
    for &shape in &request.topologies {
        for &capacity in &request.capacities {
            if shape
                .accepts(capacity, &buffer_crossbeam::Crossbeam::CAPABILITIES)
                .is_err()
            {
                continue;
            }
            cells.push(calibrate_cell(request, shape, capacity)?);
        }
    }
    let calibration = Calibration {
        command: "calibrate",
        environment: Environment::detect(),
        rounds: request.rounds,
        messages: request.messages,
        cells,
    };
    let text = match request.output.format {
        Format::Json => {
            serde_json::to_string_pretty(&calibration).map_err(|e| Failure {
                exit: Exit::Internal,
                message: e.to_string(),
            })? + "\n"
        }
        _ => table(&calibration),
    };
    request.output.write(&text)?;
    Ok(Exit::Success)
}

/// Alternates the bare loop and the harness for `request.rounds` rounds in one cell.
fn calibrate_cell(
    request: &CalibrateRequest,
    shape: Topology,
    capacity: usize,
) -> Result<CalibratedCell, Failure> {
    let workload = Workload::new()
        .topology(shape)
        .capacity(capacity)
        .messages(request.messages)
        .repeats(request.rounds)
        .warmup(0)
        .blocked_time(false);
    let mut session =
        Session::start::<buffer_crossbeam::Crossbeam>(&workload).map_err(|e| run_error(&e))?;
    let mut bare = Vec::with_capacity(request.rounds);
    for round in 0..request.rounds {
        let bare_first = round % 2 == 0;
        if bare_first {
            bare.push(bare_crossbeam_rate(shape, capacity, request.messages));
        }
        session.run_next().map_err(|e| run_error(&e))?;
        if !bare_first {
            bare.push(bare_crossbeam_rate(shape, capacity, request.messages));
        }
    }
    let measured = session.finish().map_err(|e| run_error(&e))?;
    if !measured.verification.ok {
        return Err(Failure {
            exit: Exit::Violation,
            message: format!(
                "{shape} cap {capacity}: the harness run failed verification: {}",
                measured.verification.summary()
            ),
        });
    }
    let harness: Vec<f64> = measured.repetitions.iter().map(|r| r.msgs_per_s).collect();
    let median = |v: &[f64]| median_interval(v).map_or(0.0, |i| i.median);
    Ok(CalibratedCell {
        shape,
        capacity,
        fraction: paired_ratio_interval(&harness, &bare),
        bare_msgs_per_s: median(&bare),
        harness_msgs_per_s: median(&harness),
        bare_rounds: bare,
        harness_rounds: harness,
    })
}

fn table(c: &Calibration) -> String {
    let mut out = String::new();
    for line in c.environment.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(
        out,
        "\n{:<6} {:>5} {:>12} {:>14}  harness/bare [interval]",
        "shape", "cap", "bare msg/s", "harness msg/s"
    );
    for cell in &c.cells {
        let fraction = cell.fraction.map_or_else(
            || "-".to_owned(),
            |i| format!("{:.2}x [{:.2}-{:.2}]", i.median, i.low, i.high),
        );
        let _ = writeln!(
            out,
            "{:<6} {:>5} {:>12.0} {:>14.0}  {fraction}",
            cell.shape.to_string(),
            cell.capacity,
            cell.bare_msgs_per_s,
            cell.harness_msgs_per_s
        );
    }
    let level = c
        .cells
        .iter()
        .find_map(|cell| cell.fraction.map(|i| i.level));
    let _ = writeln!(
        out,
        "\nbare: raw crossbeam-channel, u64, the same threads, gate and timing, nothing recorded; \
         harness: its verified run of the raw crossbeam backend; {} rounds of {} messages, \
         alternating which goes first{}",
        c.rounds,
        c.messages,
        level.map_or_else(String::new, |l| format!(
            "; interval: {:.1}%, distribution-free",
            l * 100.0
        ))
    );
    out
}
