//! GitHub-flavoured Markdown: the environment as a list, then a table.

use std::fmt::Write as _;

use super::Report;
use super::text::{describe_verification, markdown_table, nanos, percent, rate, yes_no};

impl Report {
    pub(super) fn run_markdown(&self) -> String {
        let mut out = self.environment.header("- ");
        let head: Vec<String> = [
            "backend",
            "topology",
            "cap",
            "messages",
            "median msg/s",
            "min-max msg/s",
            "cpu ns/msg",
            "shed",
            "timed out",
            "kept up",
            "p50",
            "p99",
            "verified",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let body: Vec<Vec<String>> = self
            .results
            .iter()
            .map(|r| {
                let m = &r.measurement;
                vec![
                    m.backend.clone(),
                    r.topology.to_string(),
                    m.workload.capacity.to_string(),
                    m.workload.messages.to_string(),
                    rate(m.throughput.median),
                    format!("{} - {}", rate(m.throughput.min), rate(m.throughput.max)),
                    m.cpu
                        .ns_per_message
                        .map_or_else(|| "-".to_owned(), |n| format!("{n:.0}")),
                    format!("{} ({})", m.load.shed, percent(m.load.shed_fraction)),
                    format!(
                        "{} ({})",
                        m.load.timed_out,
                        percent(m.load.timed_out_fraction)
                    ),
                    yes_no(m.load.kept_up).to_owned(),
                    m.latency
                        .map_or_else(|| "-".to_owned(), |l| nanos(l.p50_ns)),
                    m.latency
                        .map_or_else(|| "-".to_owned(), |l| nanos(l.p99_ns)),
                    if m.verification.ok { "ok" } else { "FAILED" }.to_owned(),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&markdown_table(&head, &body, 3));
        for r in &self.results {
            let _ = writeln!(
                out,
                "\n{}: {}",
                r.measurement.backend,
                describe_verification(&r.measurement)
            );
        }
        out
    }
}
