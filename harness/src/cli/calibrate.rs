//! `harness calibrate`: how much of each channel crate's speed the harness itself costs. For
//! each cell and each chosen backend, rounds alternate a bare loop over the backend's raw crate
//! (`engine::bare`: `u64`s, the same threads, start gate and timing, nothing recorded) with the
//! harness's own verified run of that backend, and the report gives the harness's fraction of
//! the bare loop's throughput: the median of the round-by-round fractions with its interval.

use buffer_api::Backend;

use super::exit::{CommandError, Exit, run_error};
use super::output::Output;
use crate::engine::{BareLoop, Session};
use crate::measure::{median_or_zero, paired_ratio_interval};
use crate::registry::{self, BackendVisitor};
use crate::report::{CalibratedCell, Calibration, Environment, Format};
use crate::spec::{Topology, Workload};

/// What `harness calibrate` was asked.
#[derive(Clone, Debug)]
pub(super) struct CalibrateRequest {
    /// Backend names, comma-separated, or `all` (every backend with a bare loop).
    pub(super) backends: String,
    pub(super) topologies: Vec<Topology>,
    pub(super) capacities: Vec<usize>,
    pub(super) messages: u64,
    pub(super) rounds: usize,
    pub(super) output: Output,
    /// A file for the full JSON record, beside the report in `output`'s format.
    pub(super) json: Option<std::path::PathBuf>,
}

/// The bare loops for `list`, by the registry's names.
///
/// # Errors
///
/// A usage error for a name the registry does not know, or a backend with no bare loop.
fn bare_loops(list: &str) -> Result<Vec<BareLoop>, CommandError> {
    if list.trim() == "all" {
        return Ok(BareLoop::ALL.to_vec());
    }
    let names =
        registry::resolve(list).map_err(|e| CommandError::usage(format!("--backend: {e}")))?;
    names
        .into_iter()
        .map(|name| {
            BareLoop::for_backend(name).ok_or_else(|| {
                let known: Vec<&str> = BareLoop::ALL.iter().map(|b| b.backend()).collect();
                CommandError::usage(format!(
                    "--backend: `{name}` has no bare loop to calibrate against; backends with \
                     one: {}",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// Runs `harness calibrate`.
pub(super) fn calibrate(request: &CalibrateRequest) -> Result<Exit, CommandError> {
    let bare_loops = bare_loops(&request.backends)?;
    super::output::check_writable("--output", request.output.path.as_ref())?;
    super::output::check_writable("--json", request.json.as_ref())?;
    let mut cells = Vec::new();
    for &topology in &request.topologies {
        for &capacity in &request.capacities {
            for &bare in &bare_loops {
                let mut visit = CalibrateOne {
                    request,
                    bare,
                    topology,
                    capacity,
                    cell: None,
                };
                registry::visit_named(bare.backend(), &mut visit)
                    .map_err(|e| CommandError::internal(e.to_string()))?;
                if let Some(cell) = visit.cell.transpose()? {
                    cells.push(cell);
                }
            }
        }
    }
    let calibration = Calibration {
        command: "calibrate",
        environment: Environment::detect(),
        rounds: request.rounds,
        messages: request.messages,
        cells,
    };
    if let Some(json) = &request.json {
        super::output::write_file("--json", json, &calibration.render(Format::Json))?;
    }
    request
        .output
        .write(&calibration.render(request.output.format))?;
    Ok(Exit::Success)
}

/// One cell for one backend, once the registry has named its type: `None` for a cell the
/// backend cannot run.
struct CalibrateOne<'a> {
    request: &'a CalibrateRequest,
    bare: BareLoop,
    topology: Topology,
    capacity: usize,
    cell: Option<Result<CalibratedCell, CommandError>>,
}

impl BackendVisitor for CalibrateOne<'_> {
    fn visit<B: Backend>(&mut self) {
        if self
            .topology
            .accepts(self.capacity, &B::CAPABILITIES)
            .is_ok()
        {
            self.cell = Some(calibrate_cell::<B>(
                self.request,
                self.bare,
                self.topology,
                self.capacity,
            ));
        }
    }
}

/// Alternates the bare loop and the harness's run of `B` for `request.rounds` rounds in one
/// cell.
fn calibrate_cell<B: Backend>(
    request: &CalibrateRequest,
    bare_loop: BareLoop,
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
    let mut session = Session::start::<B>(&workload).map_err(|e| run_error(&e))?;
    let mut bare = Vec::with_capacity(request.rounds);
    for round in 0..request.rounds {
        let bare_first = round % 2 == 0;
        if bare_first {
            bare.push(bare_loop.rate(topology, capacity, request.messages));
        }
        session.run_next().map_err(|e| run_error(&e))?;
        if !bare_first {
            bare.push(bare_loop.rate(topology, capacity, request.messages));
        }
    }
    let measured = session.finish().map_err(|e| run_error(&e))?;
    if !measured.verification.ok {
        return Err(CommandError {
            exit: Exit::Violation,
            message: format!(
                "{} {topology} cap {capacity}: the harness run failed verification: {}",
                B::NAME,
                measured.verification.summary()
            ),
        });
    }
    let harness: Vec<f64> = measured.repetitions.iter().map(|r| r.msgs_per_s).collect();
    Ok(CalibratedCell {
        topology,
        capacity,
        backend: B::NAME,
        bare: bare_loop.crate_call(),
        fraction: paired_ratio_interval(&harness, &bare),
        bare_msgs_per_s: median_or_zero(&bare),
        harness_msgs_per_s: median_or_zero(&harness),
        bare_rounds: bare,
        harness_rounds: harness,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_resolve_to_their_bare_loops() {
        assert_eq!(bare_loops("all"), Ok(BareLoop::ALL.to_vec()));
        assert_eq!(
            bare_loops("std,crossbeam"),
            Ok(vec![BareLoop::Std, BareLoop::Crossbeam])
        );
        let no_loop = bare_loops("crossbeam,condvar").expect_err("condvar has no bare loop");
        assert_eq!(no_loop.exit, Exit::Usage);
        assert_eq!(
            no_loop.message,
            "--backend: `condvar` has no bare loop to calibrate against; backends with one: \
             crossbeam, flume, std"
        );
        let unknown = bare_loops("nope").expect_err("no such backend");
        assert_eq!(unknown.exit, Exit::Usage);
        assert!(
            unknown
                .message
                .starts_with("--backend: unknown backend `nope`")
        );
    }
}
