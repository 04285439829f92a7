//! The aligned text tables for a terminal: one block per backend for `run`, one grid for
//! `compare`.

use std::fmt::Write as _;

use super::Report;
use super::text::{
    counted, describe_cpu, describe_depth, describe_load, describe_rate, describe_verification,
    describe_workload, nanos, rate, seconds,
};
use crate::measure::Measurement;

impl Report {
    pub(super) fn run_table(&self) -> String {
        let mut out = self.environment.header("# ");
        for entry in &self.results {
            let _ = writeln!(out, "\n{}", entry.measurement.backend);
            for (key, value) in run_rows(&entry.measurement) {
                let _ = writeln!(out, "  {key:<11} {value}");
            }
        }
        for failure in &self.failures {
            let _ = writeln!(out, "\n{}: {}", failure.backend, failure.error);
        }
        out
    }
}

/// The rows of one backend's block in the run table.
fn run_rows(m: &Measurement) -> Vec<(&'static str, String)> {
    let w = &m.workload;
    let mut rows = vec![
        ("workload", describe_workload(m)),
        (
            "wall",
            format!(
                "median {} (min {}, max {}; {} after {})",
                seconds(m.wall_s.median),
                seconds(m.wall_s.min),
                seconds(m.wall_s.max),
                counted(w.repeats as u64, "repetition"),
                counted(w.warmup as u64, "warm-up")
            ),
        ),
        (
            "throughput",
            format!(
                "{} msg/s (min {}, max {})",
                rate(m.throughput.median),
                rate(m.throughput.min),
                rate(m.throughput.max)
            ),
        ),
    ];
    if let Some(load) = describe_load(m) {
        rows.push(("load", load));
    }
    if let Some(rate) = describe_rate(m) {
        rows.push(("rate", rate));
    }
    rows.push(("cpu", describe_cpu(&m.cpu, m.repetitions.len())));
    rows.push(("latency", describe_latency(m)));
    rows.push(("producers", describe_producers(m)));
    rows.push(("consumers", describe_consumers(m)));
    rows.push(("depth", describe_depth(m)));
    if let Some(f) = &m.fault {
        rows.push((
            "fault",
            format!(
                "{} fired in {} of {} runs",
                f.fault, f.triggered_runs, f.runs
            ),
        ));
    }
    rows.push(("verified", describe_verification(m)));
    rows
}

fn describe_latency(m: &Measurement) -> String {
    m.latency.map_or_else(
        || "no samples".to_owned(),
        |l| {
            format!(
                "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  ({}, 1 in {})",
                nanos(l.p50_ns),
                nanos(l.p90_ns),
                nanos(l.p99_ns),
                nanos(l.p999_ns),
                nanos(l.max_ns),
                counted(l.samples, "sample"),
                l.sample_every
            )
        },
    )
}

fn describe_producers(m: &Measurement) -> String {
    m.producers
        .iter()
        .map(|p| {
            let mut text = format!("{} {}", p.thread, p.produced);
            for (count, what) in [
                (p.handed_back, "handed back"),
                (p.dropped_by_policy, "dropped"),
                (p.evicted, "evicted"),
                (p.timed_out, "timed out"),
            ] {
                if count > 0 {
                    let _ = write!(text, " +{count} {what}");
                }
            }
            if let Some(b) = p.blocked_s {
                let _ = write!(text, " (blocked {})", seconds(b));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_consumers(m: &Measurement) -> String {
    m.consumers
        .iter()
        .map(|c| match c.blocked_s {
            Some(b) => format!("{} {} (blocked {})", c.thread, c.consumed, seconds(b)),
            None => format!("{} {}", c.thread, c.consumed),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
