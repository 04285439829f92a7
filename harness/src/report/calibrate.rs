//! What `harness calibrate` found, and its two renderings: an aligned table, or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::text::interval_text;
use super::{Environment, Format, table_or_json};
use crate::measure::Interval;
use crate::spec::Topology;
use crate::verify::Exactness;

/// One calibrated cell.
#[derive(Debug, Serialize)]
pub(crate) struct CalibratedCell {
    /// The topology.
    pub(crate) topology: Topology,
    /// The capacity.
    pub(crate) capacity: usize,
    /// The backend the harness ran.
    pub(crate) backend: &'static str,
    /// The raw crate's call the bare loop ran.
    pub(crate) bare: &'static str,
    /// Harness throughput over bare-loop throughput, round by round.
    pub(crate) fraction: Option<Interval>,
    /// The median of `bare_rounds`.
    pub(crate) bare_msgs_per_s: f64,
    /// The median of `harness_rounds`.
    pub(crate) harness_msgs_per_s: f64,
    /// Each round's bare-loop throughput, in the order run, so a bimodal cell shows as one.
    pub(crate) bare_rounds: Vec<f64>,
    /// Each round's harness throughput, in the order run.
    pub(crate) harness_rounds: Vec<f64>,
}

/// The whole calibration: the JSON document as it stands.
#[derive(Debug, Serialize)]
pub(crate) struct Calibration {
    /// Always `calibrate`.
    pub(crate) command: &'static str,
    /// Where it was measured.
    pub(crate) environment: Environment,
    /// Rounds per cell.
    pub(crate) rounds: usize,
    /// Messages per round.
    pub(crate) messages: u64,
    /// Every cell and backend the bare loop and the harness both ran.
    pub(crate) cells: Vec<CalibratedCell>,
}

impl Calibration {
    /// The calibration as JSON, or as a table for any other format.
    pub(crate) fn render(&self, format: Format) -> String {
        table_or_json(self, format, Self::table)
    }

    fn table(&self) -> String {
        let mut out = self.environment.header("# ");
        let _ = writeln!(
            out,
            "\n{:<8} {:>5} {:<10} {:>12} {:>14}  harness/bare [interval]",
            "topology", "cap", "backend", "bare msg/s", "harness msg/s"
        );
        for cell in &self.cells {
            let fraction = cell
                .fraction
                .map_or_else(|| "-".to_owned(), |i| interval_text(i, 2));
            let _ = writeln!(
                out,
                "{:<8} {:>5} {:<10} {:>12.0} {:>14.0}  {fraction}",
                cell.topology.to_string(),
                cell.capacity,
                cell.backend,
                cell.bare_msgs_per_s,
                cell.harness_msgs_per_s
            );
        }
        let level = self
            .cells
            .iter()
            .find_map(|cell| cell.fraction.map(|i| i.level));
        let _ = writeln!(
            out,
            "\nbare: the backend's raw crate ({}), u64, the same threads, gate and timing, \
             nothing recorded; harness: its verified run of the backend, {}; {} \
             rounds of {} messages, alternating which goes first{}",
            bare_calls(&self.cells),
            // Calibrate runs no warm-ups and no fault.
            Exactness::describe_runs(0, None),
            self.rounds,
            self.messages,
            level.map_or_else(String::new, |l| format!(
                "; interval: {:.1}%, distribution-free",
                l * 100.0
            ))
        );
        out
    }
}

/// The raw calls the cells' bare loops ran, each once, in the cells' order.
fn bare_calls(cells: &[CalibratedCell]) -> String {
    let mut calls: Vec<&str> = Vec::new();
    for cell in cells {
        if !calls.contains(&cell.bare) {
            calls.push(cell.bare);
        }
    }
    calls.join(", ")
}
