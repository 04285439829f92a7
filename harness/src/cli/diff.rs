//! `harness diff OLD.json NEW.json`: how much each backend moved between two comparisons (or
//! runs), cell by cell, with an interval from both runs' repetitions, and whether a change is
//! beyond the noise (the matching and the verdicts are `report/diff.rs`). With `--fail-above`,
//! a slowdown beyond that fraction exits 5, so a CI job can hold a backend to its speed.

use std::path::{Path, PathBuf};

use super::exit::{CommandError, Exit};
use super::output::write_stdout;
use crate::report::{Diff, Format, Verdict, diff_cells};

/// What `harness diff` was asked.
#[derive(Clone, Debug)]
pub(super) struct DiffRequest {
    pub(super) old: PathBuf,
    pub(super) new: PathBuf,
    /// A slowdown of a cell beyond this fraction (its whole interval below `1 - fail_above`)
    /// makes the command exit 5.
    pub(super) fail_above: Option<f64>,
    pub(super) format: Format,
}

/// Runs `harness diff`.
pub(super) fn diff(request: &DiffRequest) -> Result<Exit, CommandError> {
    let diff = matched(request)?;
    write_stdout(&diff.render(request.format))?;
    let regressed = diff.cells.iter().any(|m| m.verdict == Verdict::Regression);
    Ok(if regressed {
        Exit::Regression
    } else {
        Exit::Success
    })
}

/// The two reports' cells, matched; a usage error when a file cannot be read or no cell
/// matches.
fn matched(request: &DiffRequest) -> Result<Diff, CommandError> {
    let old = read(&request.old)?;
    let new = read(&request.new)?;
    let shown = |path: &Path| path.display().to_string();
    let diff = Diff::new(
        (shown(&request.old), &old),
        (shown(&request.new), &new),
        request.fail_above,
    );
    if diff.cells.is_empty() {
        return Err(CommandError::usage(format!(
            "no cell of {} matches one of {} (same backend, topology, capacity, policy, payload \
             and batch)",
            request.old.display(),
            request.new.display()
        )));
    }
    Ok(diff)
}

/// The cells of the JSON report at `path`.
fn read(path: &Path) -> Result<crate::report::DiffCells, CommandError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CommandError::usage(format!("{}: {e}", path.display())))?;
    let report = serde_json::from_str(&text).map_err(|e| {
        CommandError::usage(format!(
            "{}: not a harness JSON report ({e})",
            path.display()
        ))
    })?;
    diff_cells(&report).ok_or_else(|| {
        CommandError::usage(format!(
            "{}: not a harness JSON report (no results)",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// One result of a report of `schema`, under the field name that schema gives the topology.
    fn report(schema: u32, topology_field: &str, rates: [f64; 3]) -> String {
        let repetitions: Vec<_> = rates.iter().map(|r| json!({ "msgs_per_s": r })).collect();
        json!({
            "schema_version": schema,
            "results": [{
                "backend": "crossbeam",
                topology_field: "4:1",
                "workload": { "capacity": 16, "policy": "block", "payload": "u64", "batch": 1 },
                "repetitions": repetitions,
            }],
        })
        .to_string()
    }

    #[test]
    fn a_schema_2_report_diffs_against_a_schema_3_one() {
        let dir = std::env::temp_dir().join(format!("harness-diff-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (old, new) = (dir.join("schema2.json"), dir.join("schema3.json"));
        std::fs::write(&old, report(2, "shape", [100.0, 101.0, 99.0])).unwrap();
        std::fs::write(&new, report(3, "topology", [100.5, 99.5, 100.0])).unwrap();
        let request = DiffRequest {
            old,
            new,
            fail_above: Some(0.05),
            format: Format::Table,
        };
        let diff = matched(&request).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(diff.cells.len(), 1);
        assert_eq!(diff.cells[0].key.topology, "4:1");
        assert_eq!(diff.cells[0].verdict, Verdict::Noise);
        assert!(!diff.render(Format::Table).contains("unmatched"));
    }
}
