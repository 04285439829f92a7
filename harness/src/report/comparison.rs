//! The comparison grid as text cells, shared by the table and Markdown renderers: one column
//! per backend, or one row per cell when the comparison is about load.

use super::grid::{Row, Slot, distinct};
use super::text::{counted, nanos, percent, rate, ratio_text, yes_no};
use super::{Report, ResultEntry};

/// A rendered grid: its header, its rows, and how many leading columns are text.
pub(super) type Cells = (Vec<String>, Vec<Vec<String>>, usize);

impl Report {
    /// The comparison table: one row per topology and backend (the baseline first), one
    /// column per capacity; each cell the median throughput and the ratio to the baseline
    /// with its interval. Its header, its rows, and how many leading columns are text.
    pub(super) fn compare_cells(&self) -> Cells {
        if self.about_load() {
            return self.load_cells();
        }
        let rows = self.rows();
        let mut capacities = distinct(rows.iter().map(|r| r.capacity));
        let topologies = distinct(rows.iter().map(|r| r.topology));
        capacities.sort_unstable();
        let mut head = vec!["topology".to_owned(), "backend".to_owned()];
        head.extend(capacities.iter().map(|c| format!("cap {c}")));
        let mut body = Vec::new();
        for topology in topologies {
            for (i, backend) in self.columns().into_iter().enumerate() {
                let label = if i == 0 {
                    topology.to_string()
                } else {
                    String::new()
                };
                let mut line = vec![label, backend.to_owned()];
                for &capacity in &capacities {
                    let row = rows
                        .iter()
                        .find(|r| r.topology == topology && r.capacity == capacity)
                        .copied();
                    line.push(
                        row.map_or_else(|| "-".to_owned(), |row| self.cell_text(backend, row)),
                    );
                }
                body.push(line);
            }
        }
        (head, body, 2)
    }

    /// One cell of the comparison table.
    fn cell_text(&self, backend: &str, row: Row) -> String {
        match self.slot(backend, row) {
            Slot::Result(r) => {
                let baseline = self.baseline.as_deref() == Some(backend);
                let mut text = format!(
                    "{} {}",
                    rate(r.measurement.throughput.median),
                    ratio_text(r.ratio, baseline)
                );
                if !r.measurement.verification.ok {
                    text.push_str(" FAILED");
                }
                text
            }
            Slot::Failed(f) if f.watchdog => "HUNG".to_owned(),
            Slot::Failed(_) => "error".to_owned(),
            Slot::Unsupported => "unsupported".to_owned(),
            Slot::Empty => "-".to_owned(),
        }
    }

    /// One row per cell: topology, capacity, policy, backend, then throughput with its ratio,
    /// shed, timed out, p99 latency and (with a rate) whether the backend kept up.
    fn load_cells(&self) -> Cells {
        let paced = self
            .results
            .iter()
            .any(|r| r.measurement.workload.rate.is_some());
        let mut head: Vec<String> = [
            "topology",
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
        for row in self.rows() {
            for backend in self.columns() {
                let mut line = vec![
                    row.topology.to_string(),
                    row.capacity.to_string(),
                    row.policy.to_string(),
                    backend.to_owned(),
                ];
                let rest: Vec<String> = match self.slot(backend, row) {
                    Slot::Result(r) => {
                        let m = &r.measurement;
                        let mut throughput = rate(m.throughput.median);
                        if !m.verification.ok {
                            throughput.push_str(" FAILED");
                        }
                        let mut rest = vec![
                            throughput,
                            ratio_text(r.ratio, self.baseline.as_deref() == Some(backend)),
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
                    Slot::Failed(f) => {
                        vec![if f.watchdog { "HUNG" } else { "error" }.to_owned()]
                    }
                    Slot::Unsupported => vec!["unsupported".to_owned()],
                    Slot::Empty => continue,
                };
                line.extend(rest);
                line.resize(head.len(), "-".to_owned());
                body.push(line);
            }
        }
        (head, body, 4)
    }

    /// A comparison as text: the environment, each line after `prefix`; the grid as `layout`
    /// lays it out; the footer, each line ending in `line_end` (Markdown's line break is two
    /// spaces).
    pub(super) fn compare_text(
        &self,
        prefix: &str,
        layout: fn(&[String], &[Vec<String>], usize) -> String,
        line_end: &str,
    ) -> String {
        let mut out = self.environment.header(prefix);
        let (head, body, text_columns) = self.compare_cells();
        out.push('\n');
        out.push_str(&layout(&head, &body, text_columns));
        out.push('\n');
        for line in self.compare_footer() {
            out.push_str(&line);
            out.push_str(line_end);
            out.push('\n');
        }
        out
    }

    /// The lines under a comparison's table: how the figures were formed, the verdict, why
    /// cells did not run.
    pub(super) fn compare_footer(&self) -> Vec<String> {
        let mut lines = self.method_lines();
        lines.extend(self.verification_lines());
        lines.extend(self.skipped_lines());
        if self.about_load() {
            lines.push(
                "shed = dropped (drop-newest) or evicted (drop-oldest), as a share of the items \
                 offered; p99 from each item's scheduled send time"
                    .to_owned(),
            );
        }
        lines
    }

    /// How the figures were formed: the rounds, and the ratio's interval and its level.
    fn method_lines(&self) -> Vec<String> {
        let Some(base) = &self.baseline else {
            return Vec::new();
        };
        let rounds = self.rounds.unwrap_or(0);
        let mut lines = vec![format!(
            "msg/s: median of {} paired {}, every backend of a cell once per round, in an \
             order rotated each round",
            rounds,
            if rounds == 1 { "round" } else { "rounds" }
        )];
        let level = self
            .results
            .iter()
            .find_map(|r| r.ratio.map(|i| i.level))
            .unwrap_or(0.0);
        if level > 0.0 {
            lines.push(format!(
                "ratio: median of the round-by-round ratios to {base} [its {:.1}% distribution-free \
                 interval]; ≈: the interval contains 1, no measurable difference",
                level * 100.0
            ));
        }
        lines
    }

    /// The verdict of the ledger over every run, one line per failed cell, and the errors.
    fn verification_lines(&self) -> Vec<String> {
        let failed: Vec<&ResultEntry> = self
            .results
            .iter()
            .filter(|r| !r.measurement.verification.ok)
            .collect();
        let mut lines = Vec::new();
        if failed.is_empty() {
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
            lines.push(format!(
                "verified: all {} ({}) delivered exactly once, in per-producer order where FIFO, \
                 every payload dropped once",
                counted(runs, "run"),
                counted(delivered, "item")
            ));
        }
        for r in failed {
            lines.push(format!(
                "FAILED {} {} cap {}: {}",
                r.measurement.backend,
                r.topology,
                r.measurement.workload.capacity,
                r.measurement.verification.summary()
            ));
        }
        for f in &self.failures {
            lines.push(format!(
                "{} {} cap {}: {}",
                f.backend, f.topology, f.capacity, f.error
            ));
        }
        lines
    }

    /// Why cells did not run, each reason once; cells no backend could run
    /// ([`crate::spec::Unrunnable::for_every_backend`]) are left out.
    fn skipped_lines(&self) -> Vec<String> {
        let some_backend_could = self
            .skipped
            .iter()
            .filter(|s| s.topology.fits(s.capacity).is_ok());
        distinct(some_backend_could.map(|s| {
            if s.unsupported {
                format!("unsupported: {}", s.reason)
            } else {
                format!(
                    "skipped: {} at capacity {}: {}",
                    s.backend, s.capacity, s.reason
                )
            }
        }))
    }
}
