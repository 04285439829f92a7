//! `harness diff OLD.json NEW.json`: how much each backend moved between two comparisons (or
//! runs), cell by cell, with an interval from both runs' repetitions, and whether a change is
//! beyond the noise. With `--fail-above`, a slowdown beyond that fraction exits 5, so a CI job
//! can hold a backend to its speed.
//!
//! Cells match on backend, shape, capacity, policy, payload and batch size. The change of a cell
//! is the Hodges-Lehmann estimate of the ratio new/old over every pair of repetitions, with its
//! distribution-free interval (`measure::shift_interval`): the two runs are independent, so
//! nothing pairs their repetitions.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::exit::{Exit, Failure};
use crate::measure::{Interval, shift_interval};
use crate::report::Format;

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

/// The identity of a cell across two reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Key {
    backend: String,
    shape: String,
    capacity: u64,
    policy: String,
    payload: String,
    batch: u64,
}

/// One matched cell.
#[derive(Clone, Debug, Serialize)]
struct Moved {
    #[serde(flatten)]
    key: Key,
    old_msgs_per_s: f64,
    new_msgs_per_s: f64,
    /// new / old, with its interval; `null` when a side has no usable repetition.
    change: Option<Interval>,
    verdict: Verdict,
}

/// What a change amounts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    /// The interval contains 1.
    Noise,
    /// The whole interval is above 1.
    Faster,
    /// The whole interval is below 1, but not beyond `--fail-above`.
    Slower,
    /// The whole interval is below `1 - fail_above`.
    Regression,
    /// No interval could be formed.
    Unknown,
}

/// The whole comparison of two reports.
#[derive(Debug, Serialize)]
struct Diff {
    old: String,
    new: String,
    fail_above: Option<f64>,
    cells: Vec<Moved>,
    /// Cells of one report that the other does not have.
    unmatched: Vec<Key>,
}

/// Runs `harness diff`.
pub(super) fn diff(request: &DiffRequest) -> Result<Exit, Failure> {
    let old = read(&request.old)?;
    let new = read(&request.new)?;
    let old_cells = cells(&old, &request.old)?;
    let new_cells = cells(&new, &request.new)?;
    let mut moved = Vec::new();
    let mut unmatched = Vec::new();
    for (key, old_rates) in &old_cells {
        match new_cells.iter().find(|(k, _)| k == key) {
            Some((_, new_rates)) => {
                moved.push(compare(key, old_rates, new_rates, request.fail_above))
            }
            None => unmatched.push(key.clone()),
        }
    }
    unmatched.extend(
        new_cells
            .iter()
            .filter(|(k, _)| !old_cells.iter().any(|(o, _)| o == k))
            .map(|(k, _)| k.clone()),
    );
    if moved.is_empty() {
        return Err(Failure::usage(format!(
            "no cell of {} matches one of {} (same backend, shape, capacity, policy, payload and batch)",
            request.old.display(),
            request.new.display()
        )));
    }
    let regressed = moved.iter().any(|m| m.verdict == Verdict::Regression);
    let diff = Diff {
        old: request.old.display().to_string(),
        new: request.new.display().to_string(),
        fail_above: request.fail_above,
        cells: moved,
        unmatched,
    };
    let text = match request.format {
        Format::Json => {
            serde_json::to_string_pretty(&diff).map_err(|e| Failure {
                exit: Exit::Internal,
                message: e.to_string(),
            })? + "\n"
        }
        _ => table(&diff),
    };
    print!("{text}");
    Ok(if regressed {
        Exit::Regression
    } else {
        Exit::Success
    })
}

fn read(path: &Path) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!(
            "{}: not a harness JSON report ({e})",
            path.display()
        ))
    })
}

/// Every result of a report, as its key and its repetitions' throughputs.
fn cells(report: &Value, path: &Path) -> Result<Vec<(Key, Vec<f64>)>, Failure> {
    let Some(results) = report["results"].as_array() else {
        return Err(Failure::usage(format!(
            "{}: not a harness JSON report (no results)",
            path.display()
        )));
    };
    Ok(results
        .iter()
        .map(|r| {
            let w = &r["workload"];
            let text = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let key = Key {
                backend: text(&r["backend"]),
                shape: text(&r["shape"]),
                capacity: w["capacity"].as_u64().unwrap_or(0),
                policy: text(&w["policy"]),
                payload: text(&w["payload"]),
                batch: w["batch"].as_u64().unwrap_or(1),
            };
            let rates = r["repetitions"]
                .as_array()
                .map(|reps| {
                    reps.iter()
                        .filter_map(|rep| rep["msgs_per_s"].as_f64())
                        .collect()
                })
                .unwrap_or_default();
            (key, rates)
        })
        .collect())
}

fn median(values: &[f64]) -> f64 {
    crate::measure::median_interval(values).map_or(0.0, |i| i.median)
}

fn compare(key: &Key, old: &[f64], new: &[f64], fail_above: Option<f64>) -> Moved {
    let change = shift_interval(old, new);
    let verdict = match change {
        None => Verdict::Unknown,
        Some(i) if i.contains(1.0) => Verdict::Noise,
        Some(i) if i.low > 1.0 => Verdict::Faster,
        Some(i) if fail_above.is_some_and(|f| i.high < 1.0 - f) => Verdict::Regression,
        Some(_) => Verdict::Slower,
    };
    Moved {
        key: key.clone(),
        old_msgs_per_s: median(old),
        new_msgs_per_s: median(new),
        change,
        verdict,
    }
}

fn table(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "old: {}\nnew: {}\n", diff.old, diff.new);
    let _ = writeln!(
        out,
        "{:<6} {:>5} {:<12} {:<17} {:>10} {:>10}  {:<24} verdict",
        "shape", "cap", "policy", "backend", "old msg/s", "new msg/s", "new/old [interval]"
    );
    for m in &diff.cells {
        let change = m.change.map_or_else(
            || "-".to_owned(),
            |i| format!("{:.3}x [{:.3}-{:.3}]", i.median, i.low, i.high),
        );
        let _ = writeln!(
            out,
            "{:<6} {:>5} {:<12} {:<17} {:>10.0} {:>10.0}  {:<24} {}",
            m.key.shape,
            m.key.capacity,
            m.key.policy,
            m.key.backend,
            m.old_msgs_per_s,
            m.new_msgs_per_s,
            change,
            verdict_text(m.verdict)
        );
    }
    if let Some(level) = diff.cells.iter().find_map(|m| m.change.map(|i| i.level)) {
        let _ = writeln!(
            out,
            "\nnew/old: Hodges-Lehmann median of every new/old pair of repetitions, with its \
             {:.1}% distribution-free interval; noise = the interval contains 1",
            level * 100.0
        );
    }
    if let Some(f) = diff.fail_above {
        let _ = writeln!(
            out,
            "regression = the whole interval below {:.3} (--fail-above {:.1}%): exit 5",
            1.0 - f,
            f * 100.0
        );
    }
    for k in &diff.unmatched {
        let _ = writeln!(
            out,
            "unmatched: {} {} cap {} {}",
            k.backend, k.shape, k.capacity, k.policy
        );
    }
    out
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Noise => "noise",
        Verdict::Faster => "faster",
        Verdict::Slower => "slower",
        Verdict::Regression => "REGRESSION",
        Verdict::Unknown => "-",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key {
            backend: "b".into(),
            shape: "1:1".into(),
            capacity: 4,
            policy: "block".into(),
            payload: "u64".into(),
            batch: 1,
        }
    }

    #[test]
    fn verdicts_follow_the_interval() {
        let old = [100.0, 101.0, 99.0, 100.5, 99.5];
        let same = [100.2, 99.8, 100.9, 99.1, 100.4];
        let slower = [80.0, 81.0, 79.0, 80.5, 79.5];
        let faster = [120.0, 121.0, 119.0, 120.5, 119.5];
        assert_eq!(
            compare(&key(), &old, &same, Some(0.05)).verdict,
            Verdict::Noise
        );
        assert_eq!(
            compare(&key(), &old, &faster, Some(0.05)).verdict,
            Verdict::Faster
        );
        assert_eq!(
            compare(&key(), &old, &slower, Some(0.05)).verdict,
            Verdict::Regression
        );
        assert_eq!(
            compare(&key(), &old, &slower, Some(0.5)).verdict,
            Verdict::Slower
        );
        assert_eq!(
            compare(&key(), &old, &slower, None).verdict,
            Verdict::Slower
        );
        assert_eq!(
            compare(&key(), &[], &slower, None).verdict,
            Verdict::Unknown
        );
    }
}
