//! What `harness diff` found between two JSON reports, and its two renderings: an aligned
//! table, or JSON.
//!
//! Cells match on backend, topology, capacity, policy, payload and batch size. The change of a
//! cell is the Hodges-Lehmann estimate of the ratio new/old over every pair of repetitions,
//! with its distribution-free interval (`measure::shift_interval`): the two runs are
//! independent, so nothing pairs their repetitions. Reports of schema 2, which called the
//! topology `shape`, are read as well as those of the current [`super::SCHEMA_VERSION`].

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::text::interval_text;
use super::{Format, table_or_json};
use crate::measure::{Interval, median_or_zero, shift_interval};

/// The identity of a cell across two reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Key {
    pub(crate) backend: String,
    pub(crate) topology: String,
    pub(crate) capacity: u64,
    pub(crate) policy: String,
    pub(crate) payload: String,
    pub(crate) batch: u64,
}

/// One matched cell.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Moved {
    #[serde(flatten)]
    pub(crate) key: Key,
    old_msgs_per_s: f64,
    new_msgs_per_s: f64,
    /// new / old, with its interval; `null` when a side has no usable repetition.
    change: Option<Interval>,
    pub(crate) verdict: Verdict,
}

/// What a change amounts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
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

/// Every result of a report, as its key and its repetitions' throughputs.
pub(crate) type Cells = Vec<(Key, Vec<f64>)>;

/// The whole comparison of two reports: the JSON document as it stands.
#[derive(Debug, Serialize)]
pub(crate) struct Diff {
    old: String,
    new: String,
    fail_above: Option<f64>,
    /// The cells both reports have.
    pub(crate) cells: Vec<Moved>,
    /// Cells of one report that the other does not have.
    unmatched: Vec<Key>,
}

/// Every result of a JSON report, or `None` when it has no `results`.
pub(crate) fn cells(report: &Value) -> Option<Cells> {
    // Schema 2 called the topology `shape`.
    let topology = match report["schema_version"].as_u64() {
        Some(version) if version < 3 => "shape",
        _ => "topology",
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let cell = |r: &Value| {
        let w = &r["workload"];
        let key = Key {
            backend: text(&r["backend"]),
            topology: text(&r[topology]),
            capacity: w["capacity"].as_u64().unwrap_or(0),
            policy: text(&w["policy"]),
            payload: text(&w["payload"]),
            batch: w["batch"].as_u64().unwrap_or(1),
        };
        let rates = r["repetitions"].as_array().map_or_else(Vec::new, |reps| {
            reps.iter()
                .filter_map(|rep| rep["msgs_per_s"].as_f64())
                .collect()
        });
        (key, rates)
    };
    Some(report["results"].as_array()?.iter().map(cell).collect())
}

impl Diff {
    /// Matches the cells of `old` (the report at the path shown as `old_name`) with those of
    /// `new`; a slowdown beyond `fail_above` is a [`Verdict::Regression`].
    pub(crate) fn new(
        (old_name, old): (String, &Cells),
        (new_name, new): (String, &Cells),
        fail_above: Option<f64>,
    ) -> Self {
        let mut cells = Vec::new();
        let mut unmatched = Vec::new();
        for (key, old_rates) in old {
            match new.iter().find(|(k, _)| k == key) {
                Some((_, new_rates)) => cells.push(moved(key, old_rates, new_rates, fail_above)),
                None => unmatched.push(key.clone()),
            }
        }
        let only_new = new.iter().filter(|(k, _)| !old.iter().any(|(o, _)| o == k));
        unmatched.extend(only_new.map(|(k, _)| k.clone()));
        Self {
            old: old_name,
            new: new_name,
            fail_above,
            cells,
            unmatched,
        }
    }

    /// The diff as JSON, or as a table for any other format.
    pub(crate) fn render(&self, format: Format) -> String {
        table_or_json(self, format, Self::table)
    }

    fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "old: {}\nnew: {}\n", self.old, self.new);
        let _ = writeln!(
            out,
            "{:<8} {:>5} {:<12} {:<17} {:>10} {:>10}  {:<24} verdict",
            "topology", "cap", "policy", "backend", "old msg/s", "new msg/s", "new/old [interval]"
        );
        for m in &self.cells {
            let change = m
                .change
                .map_or_else(|| "-".to_owned(), |i| interval_text(i, 3));
            let _ = writeln!(
                out,
                "{:<8} {:>5} {:<12} {:<17} {:>10.0} {:>10.0}  {:<24} {}",
                m.key.topology,
                m.key.capacity,
                m.key.policy,
                m.key.backend,
                m.old_msgs_per_s,
                m.new_msgs_per_s,
                change,
                m.verdict.text()
            );
        }
        if let Some(level) = self.cells.iter().find_map(|m| m.change.map(|i| i.level)) {
            let _ = writeln!(
                out,
                "\nnew/old: Hodges-Lehmann median of every new/old pair of repetitions, with its \
                 {:.1}% distribution-free interval; noise = the interval contains 1",
                level * 100.0
            );
        }
        if let Some(f) = self.fail_above {
            let _ = writeln!(
                out,
                "regression = the whole interval below {:.3} (--fail-above {:.1}%): exit 5",
                1.0 - f,
                f * 100.0
            );
        }
        for k in &self.unmatched {
            let _ = writeln!(
                out,
                "unmatched: {} {} cap {} {}",
                k.backend, k.topology, k.capacity, k.policy
            );
        }
        out
    }
}

fn moved(key: &Key, old: &[f64], new: &[f64], fail_above: Option<f64>) -> Moved {
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
        old_msgs_per_s: median_or_zero(old),
        new_msgs_per_s: median_or_zero(new),
        change,
        verdict,
    }
}

impl Verdict {
    /// The verdict's word in the table.
    fn text(self) -> &'static str {
        match self {
            Self::Noise => "noise",
            Self::Faster => "faster",
            Self::Slower => "slower",
            Self::Regression => "REGRESSION",
            Self::Unknown => "-",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key {
            backend: "b".into(),
            topology: "1:1".into(),
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
        let verdict = |new: &[f64], fail_above| moved(&key(), &old, new, fail_above).verdict;
        assert_eq!(verdict(&same, Some(0.05)), Verdict::Noise);
        assert_eq!(verdict(&faster, Some(0.05)), Verdict::Faster);
        assert_eq!(verdict(&slower, Some(0.05)), Verdict::Regression);
        assert_eq!(verdict(&slower, Some(0.5)), Verdict::Slower);
        assert_eq!(verdict(&slower, None), Verdict::Slower);
        assert_eq!(moved(&key(), &[], &slower, None).verdict, Verdict::Unknown);
    }
}
