//! `harness calibrate`: how much of a channel's speed the harness itself costs. For each cell,
//! rounds alternate a bare loop over raw crossbeam-channel (`engine::bare`: `u64`s, the same
//! threads, start gate and timing, nothing recorded) with the harness's own verified run of the
//! raw `crossbeam` backend, and the report gives the harness's fraction of the bare loop's
//! throughput: the median of the round-by-round fractions with its interval.

use buffer_api::Backend as _;

use super::exit::{CommandError, Exit, run_error};
use super::output::Output;
use crate::engine::{Session, bare_crossbeam_rate};
use crate::measure::{median_or_zero, paired_ratio_interval};
use crate::report::{CalibratedCell, Calibration, Environment};
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

/// Runs `harness calibrate`.
pub(super) fn calibrate(request: &CalibrateRequest) -> Result<Exit, CommandError> {
    super::output::check_writable("--output", request.output.path.as_ref())?;
    let mut cells = Vec::new();
    for &topology in &request.topologies {
        for &capacity in &request.capacities {
            if topology
                .accepts(capacity, &buffer_crossbeam::Crossbeam::CAPABILITIES)
                .is_err()
            {
                continue;
            }
            cells.push(calibrate_cell(request, topology, capacity)?);
        }
    }
    let calibration = Calibration {
        command: "calibrate",
        environment: Environment::detect(),
        rounds: request.rounds,
        messages: request.messages,
        cells,
    };
    request
        .output
        .write(&calibration.render(request.output.format))?;
    Ok(Exit::Success)
}

/// Alternates the bare loop and the harness for `request.rounds` rounds in one cell.
fn calibrate_cell(
    request: &CalibrateRequest,
    topology: Topology,
    capacity: usize,
) -> Result<CalibratedCell, CommandError> {
    let workload = Workload::new()
        .topology(topology)
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
            bare.push(bare_crossbeam_rate(topology, capacity, request.messages));
        }
        session.run_next().map_err(|e| run_error(&e))?;
        if !bare_first {
            bare.push(bare_crossbeam_rate(topology, capacity, request.messages));
        }
    }
    let measured = session.finish().map_err(|e| run_error(&e))?;
    if !measured.verification.ok {
        return Err(CommandError {
            exit: Exit::Violation,
            message: format!(
                "{topology} cap {capacity}: the harness run failed verification: {}",
                measured.verification.summary()
            ),
        });
    }
    let harness: Vec<f64> = measured.repetitions.iter().map(|r| r.msgs_per_s).collect();
    Ok(CalibratedCell {
        topology,
        capacity,
        fraction: paired_ratio_interval(&harness, &bare),
        bare_msgs_per_s: median_or_zero(&bare),
        harness_msgs_per_s: median_or_zero(&harness),
        bare_rounds: bare,
        harness_rounds: harness,
    })
}
