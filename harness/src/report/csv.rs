//! CSV: a header line, then one row per result, and nothing else (a `#` comment line holding
//! the environment's commas broke plain CSV readers; the environment is in the JSON), written
//! by the `csv` crate from one [`Row`] type, so the header and the values cannot drift apart
//! and a field holding a comma is quoted.

use std::fmt::Display;

use serde::{Serialize, Serializer};

use super::{Report, ResultEntry};
use crate::spec::{Fault, Payload, Policy, Topology};

/// One CSV row. The column names are the field names; numbers are written as Rust shows
/// them (`0.5`, `1`, never an exponent), and an absent value is an empty field.
#[derive(Default, Serialize)]
struct Row<'a> {
    backend: &'a str,
    #[serde(serialize_with = "shown")]
    topology: Option<Topology>,
    capacity: usize,
    messages: u64,
    #[serde(serialize_with = "shown")]
    payload: Option<Payload>,
    batch: usize,
    #[serde(serialize_with = "shown")]
    policy: Option<Policy>,
    #[serde(serialize_with = "shown")]
    fault: Option<Fault>,
    repeats: usize,
    #[serde(serialize_with = "plain")]
    wall_median_s: f64,
    #[serde(serialize_with = "plain")]
    wall_min_s: f64,
    #[serde(serialize_with = "plain")]
    wall_max_s: f64,
    #[serde(serialize_with = "plain")]
    msgs_per_s_median: f64,
    #[serde(serialize_with = "plain")]
    msgs_per_s_min: f64,
    #[serde(serialize_with = "plain")]
    msgs_per_s_max: f64,
    #[serde(serialize_with = "shown")]
    ratio: Option<f64>,
    #[serde(serialize_with = "shown")]
    ratio_low: Option<f64>,
    #[serde(serialize_with = "shown")]
    ratio_high: Option<f64>,
    #[serde(serialize_with = "shown")]
    ratio_level: Option<f64>,
    #[serde(serialize_with = "plain")]
    cpu_user_s: f64,
    #[serde(serialize_with = "plain")]
    cpu_sys_s: f64,
    #[serde(serialize_with = "shown")]
    cpu_ns_per_msg: Option<f64>,
    latency_p50_ns: Option<u64>,
    latency_p90_ns: Option<u64>,
    latency_p99_ns: Option<u64>,
    latency_p999_ns: Option<u64>,
    latency_max_ns: Option<u64>,
    verified: bool,
    delivered: u64,
    lost: u64,
    duplicated: u64,
    reordered: u64,
    handed_back: u64,
    dropped_by_policy: u64,
    timed_out: u64,
    evicted: u64,
    shed: u64,
    #[serde(serialize_with = "plain")]
    shed_fraction: f64,
    #[serde(serialize_with = "plain")]
    shed_per_s: f64,
    #[serde(serialize_with = "plain")]
    timed_out_fraction: f64,
    #[serde(serialize_with = "plain")]
    timed_out_per_s: f64,
    priorities: u32,
    #[serde(serialize_with = "shown")]
    rate_per_s: Option<f64>,
    #[serde(serialize_with = "plain")]
    send_rate: f64,
    kept_up: Option<bool>,
}

impl<'a> Row<'a> {
    fn of(r: &'a ResultEntry) -> Self {
        let m = &r.measurement;
        let w = &m.workload;
        let v = &m.verification;
        let latency = |f: fn(&crate::measure::Latency) -> u64| m.latency.as_ref().map(f);
        Self {
            backend: &m.backend,
            topology: Some(r.topology),
            capacity: w.capacity,
            messages: w.messages,
            payload: Some(w.payload),
            batch: w.batch,
            policy: Some(w.policy),
            fault: w.fault,
            repeats: w.repeats,
            wall_median_s: m.wall_s.median,
            wall_min_s: m.wall_s.min,
            wall_max_s: m.wall_s.max,
            msgs_per_s_median: m.throughput.median,
            msgs_per_s_min: m.throughput.min,
            msgs_per_s_max: m.throughput.max,
            ratio: r.ratio.map(|i| i.median),
            ratio_low: r.ratio.map(|i| i.low),
            ratio_high: r.ratio.map(|i| i.high),
            ratio_level: r.ratio.map(|i| i.level),
            cpu_user_s: m.cpu.user_s,
            cpu_sys_s: m.cpu.sys_s,
            cpu_ns_per_msg: m.cpu.ns_per_message,
            latency_p50_ns: latency(|l| l.p50_ns),
            latency_p90_ns: latency(|l| l.p90_ns),
            latency_p99_ns: latency(|l| l.p99_ns),
            latency_p999_ns: latency(|l| l.p999_ns),
            latency_max_ns: latency(|l| l.max_ns),
            verified: v.ok,
            delivered: v.delivered,
            lost: v.lost,
            duplicated: v.duplicated,
            reordered: v.reordered,
            handed_back: v.handed_back,
            dropped_by_policy: v.dropped_by_policy,
            timed_out: v.timed_out,
            evicted: v.evicted,
            shed: m.load.shed,
            shed_fraction: m.load.shed_fraction,
            shed_per_s: m.load.shed_per_s,
            timed_out_fraction: m.load.timed_out_fraction,
            timed_out_per_s: m.load.timed_out_per_s,
            priorities: w.priorities,
            rate_per_s: w.rate,
            send_rate: m.load.send_rate,
            kept_up: m.load.kept_up,
        }
    }
}

/// A number as `Display` writes it (the `csv` crate's own float format may use exponents).
fn plain<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// A value as `Display` writes it, or an empty field.
fn shown<S: Serializer, T: Display>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.collect_str(v),
        None => serializer.serialize_none(),
    }
}

/// Writes `rows` with the header line first (also when there are none: the `csv` crate writes
/// the header with the first row, so a default row is written for it and dropped).
fn write_rows<'a>(rows: impl IntoIterator<Item = Row<'a>>) -> Result<String, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut none = true;
    for row in rows {
        writer.serialize(row)?;
        none = false;
    }
    if none {
        writer.serialize(Row::default())?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(match text.split_once('\n') {
        Some((header, _)) if none => format!("{header}\n"),
        _ => text.into_owned(),
    })
}

impl Report {
    /// CSV: the header line and one row per result. The environment is left to the JSON.
    pub fn csv(&self) -> String {
        write_rows(self.results.iter().map(Row::of)).unwrap_or_else(|e| format!("error: {e}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_has_every_column_once() {
        let text = write_rows([]).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let header: Vec<&str> = text.trim_end().split(',').collect();
        assert_eq!(header.len(), 45);
        assert_eq!(header[0], "backend");
        assert_eq!(header[44], "kept_up");
        let mut unique = header.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), header.len());
    }

    #[test]
    fn numbers_are_written_as_rust_shows_them() {
        let row = Row {
            backend: "a,b",
            wall_median_s: 0.000_001,
            shed_fraction: 1.0,
            ratio: Some(0.5),
            ..Row::default()
        };
        let text = write_rows([row]).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert!(line.starts_with("\"a,b\",,0,0,,0,,,0,0.000001,"), "{line}");
        assert!(line.contains(",0.5,"), "{line}");
    }
}
