//! The pictures (`compare --plot`), hand-written SVG 900 px wide, so a README shows them
//! unscaled:
//!
//! - **Speed**: one panel per capacity, one group per topology, and for each backend its ratio to
//!   the baseline on a log2 axis centred on 1x: a dot at the median of the paired per-round
//!   ratios, a whisker over their confidence interval, the dot hollow where the interval
//!   contains 1x (no measurable difference). The baseline is the legend's dark line, and its
//!   own msg/s is written under each topology, so a reader sees what 1x is there. Without
//!   ratios (the baseline did not run), the median throughput on a log10 axis instead, the
//!   whisker spanning the repetitions.
//! - **Load** (several policies, a policy other than `block`, or a fixed rate): a panel of the
//!   delivered msg/s (the offered rate as the dark line) and one of the p99 latency, one group
//!   per topology and policy.
//!
//! Every panel of a picture has the same groups (a topology that cannot run at a capacity keeps
//! its place, `n/a` under its name) and every panel of one quantity the same axis, so panels
//! compare at a glance. Where a backend has no value, `n/a` stands on the axis in its place; a
//! ratio beyond the axis is an arrow at the edge with the value beside it in the backend's
//! colour, the labels of one panel stacked so that none covers another. Every picture has a
//! legend, axis titles, and a caption with the environment and the command.
//! A backend has the same style (colour and mark shape) in every picture: its place in the
//! registry picks it, so any number of backends can be registered.

mod canvas;
mod panel;
mod scale;

use canvas::{Canvas, Marker, Style};
use panel::{Group, Mark, NOT_AVAILABLE, Panel, caption, legend};
use scale::{Scale, Unit};

use super::Report;
use super::grid::{Row, Slot, distinct};
use super::text::{nanos, percent, rate, ratio_text};
use crate::registry;
use crate::spec::Policy;

/// The colours, in registry order: related backends (a crate raw and with its exact close) in
/// related shades. Past the last, the colours start again with the next [`Marker`].
const PALETTE: [&str; 10] = [
    "#1f5fa8", "#6fa8dc", "#8e63b5", "#e07b00", "#a0522d", "#2e8b2e", "#8fbf5a", "#d62728",
    "#e377c2", "#17becf",
];

/// The style of the backend at `place` in the registry: the palette's colours with circles,
/// then again with squares, and so on; distinct for the first `PALETTE.len() * Marker::ALL.len()`
/// (40) backends, then repeating.
fn style_at(place: usize) -> Style {
    let lap = place / PALETTE.len();
    Style {
        colour: PALETTE[place % PALETTE.len()],
        marker: Marker::ALL[lap % Marker::ALL.len()],
    }
}

/// A backend's style: the same in every picture; grey circles for a name the registry does
/// not know (a report read from an older build).
fn style(backend: &str) -> Style {
    registry::names()
        .iter()
        .position(|name| *name == backend)
        .map_or(
            Style {
                colour: "#7f7f7f",
                marker: Marker::Circle,
            },
            style_at,
        )
}

/// What a panel shows of each result.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quantity {
    /// The ratio to the baseline, with its interval.
    Ratio,
    /// The median throughput (delivered msg/s), with the repetitions' range.
    Throughput,
    /// The p99 latency.
    P99,
}

/// What a picture is made of, before it is drawn.
struct Layout<'a> {
    title: String,
    quantities: Vec<Quantity>,
    /// The backends with a mark, in legend order.
    columns: Vec<&'a str>,
    /// The legend's entry for the panels' dark line, when they have one.
    reference: Option<String>,
    notes: Vec<String>,
}

impl Report {
    /// The report's picture as an SVG document; `command` (the command line that made the
    /// report) goes in the caption.
    pub fn svg(&self, command: &str) -> String {
        let mut c = Canvas::new();
        let rows = self.rows();
        let layout = self.layout();
        let panels = self.panels(&rows, &layout.columns, &layout.quantities);
        let mut y = panel::title(&mut c, &layout.title);
        let entries: Vec<(&str, Style)> = layout.columns.iter().map(|b| (*b, style(b))).collect();
        let mut notes = layout.notes;
        notes.push(self.marks_note(&panels));
        let notes: Vec<&str> = notes.iter().map(String::as_str).collect();
        y += legend(&mut c, y, layout.reference.as_deref(), &entries, &notes) + 8.0;
        let styles: Vec<Style> = entries.iter().map(|e| e.1).collect();
        for panel in &panels {
            y += panel.draw(&mut c, y, &styles);
        }
        let mut lines = self.environment.lines();
        lines.push(format!("command: {command}"));
        y += caption(&mut c, y, &lines);
        c.finish(y)
    }

    /// The title, panels, legend and notes: the load picture, the ratios to the baseline, or
    /// (without a baseline's results) the throughput itself.
    fn layout(&self) -> Layout<'_> {
        if self.about_load() {
            let offered = self.offered_rate();
            let mut delivered = "delivered: the median msg/s received over the repetitions, \
                                 whisker: their range"
                .to_owned();
            if offered.is_some() {
                delivered.push_str("; dark line: the rate offered");
            }
            return Layout {
                title: "Under overload: delivered msg/s and p99 latency, per topology and policy"
                    .to_owned(),
                quantities: vec![Quantity::Throughput, Quantity::P99],
                columns: self.columns(),
                reference: offered.map(|r| format!("offered: {} msg/s", rate(r))),
                notes: vec![
                    delivered,
                    "p99: send to receive, from each item's scheduled send time at a fixed rate"
                        .to_owned(),
                ],
            };
        }
        if self.results.iter().any(|r| r.ratio.is_some()) {
            let base = self.baseline.as_deref().unwrap_or("the baseline");
            return Layout {
                title: format!("Throughput relative to {base}{}", self.batch_note()),
                quantities: vec![Quantity::Ratio],
                columns: self
                    .columns()
                    .into_iter()
                    .filter(|b| Some(*b) != self.baseline.as_deref())
                    .collect(),
                reference: Some(format!("{base} = 1x")),
                notes: self.ratio_notes(base),
            };
        }
        Layout {
            title: format!("Throughput{}", self.batch_note()),
            quantities: vec![Quantity::Throughput],
            columns: self.columns(),
            reference: None,
            notes: vec!["dot: median over the repetitions; whisker: their range".to_owned()],
        }
    }

    /// The rate every result was offered at, when they share one.
    fn offered_rate(&self) -> Option<f64> {
        let mut rates = self.results.iter().map(|r| r.measurement.load.target_rate);
        let first = rates.next()??;
        rates.all(|r| r == Some(first)).then_some(first)
    }

    /// `, batches of N` when the results used batch calls.
    fn batch_note(&self) -> String {
        match self
            .results
            .iter()
            .map(|r| r.measurement.workload.batch)
            .max()
        {
            Some(batch) if batch > 1 => format!(", batches of {batch}"),
            _ => String::new(),
        }
    }

    /// What the topologies' names, their second lines and the other marks in `panels` mean.
    fn marks_note(&self, panels: &[Panel]) -> String {
        let mut note =
            "topology: producers:consumers (seq: one thread sends, then receives)".to_owned();
        if panels
            .iter()
            .any(|p| matches!(p.scale, Scale::Ratio { .. }))
            && let Some(base) = &self.baseline
        {
            note.push_str(&format!("; under it: {base}'s msg/s there, what 1x is"));
        }
        if panels.iter().any(Panel::has_missing) {
            note.push_str(&format!(
                "; {NOT_AVAILABLE}: cannot run there, or not offered by the backend"
            ));
        }
        if !self.failures.is_empty() || !self.verified() {
            note.push_str("; !: failed");
        }
        note
    }

    fn ratio_notes(&self, base: &str) -> Vec<String> {
        let level = self
            .results
            .iter()
            .filter_map(|r| r.ratio)
            .map(|i| i.level)
            .find(|level| *level > 0.0);
        let rounds = self.rounds.map_or(String::new(), |n| format!(" {n}"));
        let mut notes = vec![format!(
            "dot: the median of the{rounds} per-round ratios to {base} (every backend runs once a round, interleaved)"
        )];
        if let Some(level) = level {
            notes.push(format!(
                "whisker: its {}% confidence interval; hollow: the interval contains 1x (no measurable difference)",
                trim_percent(level * 100.0)
            ));
        }
        notes
    }

    /// The panels: for the load picture one per quantity over every row; otherwise one per
    /// capacity, each with a group for every topology of the comparison (`n/a` under one that
    /// did not run at that capacity). Every panel of a quantity shares one axis.
    fn panels(&self, rows: &[Row], columns: &[&str], quantities: &[Quantity]) -> Vec<Panel> {
        let sets: Vec<(String, Quantity, Vec<Group>)> = if quantities.len() > 1 {
            quantities
                .iter()
                .map(|&q| {
                    let groups = rows.iter().map(|r| self.group(*r, columns, q, true));
                    (panel_title(q, None), q, groups.collect())
                })
                .collect()
        } else {
            let quantity = quantities[0];
            let topologies = distinct(rows.iter().map(|r| r.topology));
            let mut capacities = distinct(rows.iter().map(|r| r.capacity));
            capacities.sort_unstable();
            capacities
                .into_iter()
                .map(|cap| {
                    let groups = topologies.iter().map(|t| {
                        rows.iter()
                            .find(|r| r.topology == *t && r.capacity == cap)
                            .map_or_else(
                                || Group::not_run(t.to_string()),
                                |r| self.group(*r, columns, quantity, false),
                            )
                    });
                    (panel_title(quantity, Some(cap)), quantity, groups.collect())
                })
                .collect()
        };
        let axes: Vec<(Scale, String, Option<f64>)> = sets
            .iter()
            .map(|(_, q, _)| {
                let shown = sets.iter().filter(|s| s.1 == *q).flat_map(|s| &s.2);
                self.axis(*q, shown)
            })
            .collect();
        sets.into_iter()
            .zip(axes)
            .map(
                |((title, _, groups), (scale, axis_title, reference))| Panel {
                    title,
                    axis_title,
                    scale,
                    reference,
                    groups,
                },
            )
            .collect()
    }

    /// One group: `row`'s mark for each of `columns`, under the topology's name the policy and
    /// capacity (`label_policy`) or, on a ratio axis, the baseline's own rate.
    fn group(&self, row: Row, columns: &[&str], quantity: Quantity, label_policy: bool) -> Group {
        let sublabel = if label_policy {
            Some(format!("{}, cap {}", row.policy, row.capacity))
        } else if quantity == Quantity::Ratio {
            self.baseline
                .as_deref()
                .map(|base| match self.slot(base, row) {
                    Slot::Result(r) if r.measurement.verification.ok => {
                        format!("1x = {} msg/s", rate(r.measurement.throughput.median))
                    }
                    _ => format!("1x = {NOT_AVAILABLE}"),
                })
        } else {
            None
        };
        Group {
            label: row.topology.to_string(),
            sublabel,
            marks: columns
                .iter()
                .enumerate()
                .map(|(i, b)| (i, self.mark(b, row, quantity)))
                .collect(),
        }
    }

    /// The axis of `quantity` that holds every value in `groups`: its scale, its title and
    /// the value of its dark line.
    fn axis<'g>(
        &self,
        quantity: Quantity,
        groups: impl Iterator<Item = &'g Group>,
    ) -> (Scale, String, Option<f64>) {
        let reference = match quantity {
            Quantity::Ratio => Some(1.0),
            Quantity::Throughput => self.offered_rate(),
            Quantity::P99 => None,
        };
        let values = groups
            .flat_map(|g| &g.marks)
            .flat_map(|(_, m)| match m {
                Mark::Point {
                    value, interval, ..
                } => {
                    let (low, high) = interval.unwrap_or((*value, *value));
                    vec![*value, low, high]
                }
                _ => Vec::new(),
            })
            // Twice the reference, so that a line on a whole decade is not drawn on the edge.
            .chain(reference.map(|r| {
                if quantity == Quantity::Ratio {
                    r
                } else {
                    2.0 * r
                }
            }));
        match quantity {
            Quantity::Ratio => (
                Scale::ratio_for(values),
                format!(
                    "ratio to {}",
                    self.baseline.as_deref().unwrap_or("baseline")
                ),
                reference,
            ),
            Quantity::Throughput if self.about_load() => (
                Scale::log10_for(values, Unit::Rate),
                "delivered msg/s".to_owned(),
                reference,
            ),
            Quantity::Throughput => (
                Scale::log10_for(values, Unit::Rate),
                "msg/s".to_owned(),
                reference,
            ),
            Quantity::P99 => (
                Scale::log10_for(values, Unit::Nanos),
                "p99 latency".to_owned(),
                reference,
            ),
        }
    }

    /// What `backend` shows in `row`: `n/a` where it has no value (an empty or unsupported
    /// slot, a ratio without the baseline's result, a result without latency).
    fn mark(&self, backend: &str, row: Row, quantity: Quantity) -> Mark {
        let r = match self.slot(backend, row) {
            Slot::Result(r) if !r.measurement.verification.ok => return Mark::Failed,
            Slot::Result(r) => r,
            Slot::Failed(_) => return Mark::Failed,
            Slot::Unsupported | Slot::Empty => return Mark::Missing,
        };
        let m = &r.measurement;
        let at = format!("{backend}, {} cap {}", row.topology, row.capacity);
        let point =
            |value: f64, interval: Option<(f64, f64)>, hollow: bool, shown: String| Mark::Point {
                value,
                interval,
                hollow,
                tip: format!("{at}: {shown}"),
            };
        match quantity {
            Quantity::Ratio => {
                let Some(i) = r.ratio else {
                    return Mark::Missing;
                };
                let measured = i.level > 0.0;
                point(
                    i.median,
                    measured.then_some((i.low, i.high)),
                    measured && i.contains(1.0),
                    ratio_text(Some(i), false),
                )
            }
            Quantity::Throughput => {
                let t = m.throughput;
                let mut shown = format!("{} msg/s", rate(t.median));
                if row.policy != Policy::Block {
                    shown.push_str(&format!(", {} shed", percent(m.load.shed_fraction)));
                }
                point(t.median, Some((t.min, t.max)), false, shown)
            }
            Quantity::P99 => match &m.latency {
                Some(l) => point(
                    l.p99_ns as f64,
                    None,
                    false,
                    format!("p99 {}", nanos(l.p99_ns)),
                ),
                None => Mark::Missing,
            },
        }
    }
}

fn panel_title(quantity: Quantity, capacity: Option<usize>) -> String {
    match (quantity, capacity) {
        (Quantity::P99, _) => "p99 latency (log scale)".to_owned(),
        (Quantity::Throughput, None) => "Delivered, msg/s (log scale)".to_owned(),
        (_, Some(0)) => "Capacity 0 (rendezvous)".to_owned(),
        (_, Some(cap)) => format!("Capacity {cap}"),
        (Quantity::Ratio, None) => String::new(),
    }
}

/// `93.75` as `93.75`, `95.0` as `95`.
fn trim_percent(p: f64) -> String {
    let text = format!("{p:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{Interval, Latency, Measurement};
    use crate::report::{Command, Environment, ResultEntry, SCHEMA_VERSION, Skipped};
    use crate::spec::Topology;
    use crate::{Workload, run};

    /// One real measured run, the template every result of the test reports is made from.
    fn template() -> Measurement {
        static RUN: std::sync::OnceLock<Measurement> = std::sync::OnceLock::new();
        RUN.get_or_init(|| {
            let w = Workload::new()
                .capacity(1)
                .messages(200)
                .repeats(1)
                .warmup(0);
            run::<buffer_crossbeam::Crossbeam>(&w).expect("a tiny valid workload")
        })
        .clone()
    }

    /// `backend`'s result in one cell: `rate` msg/s, with its ratio to the baseline.
    fn result(
        backend: &str,
        cell: (&str, usize, Policy),
        rate: f64,
        ratio: Option<f64>,
    ) -> ResultEntry {
        let mut m = template();
        let topology: Topology = cell.0.parse().expect("a topology");
        m.backend = backend.to_owned();
        m.workload.topology = topology;
        m.workload.capacity = cell.1;
        m.workload.policy = cell.2;
        m.throughput.median = rate;
        m.throughput.min = rate;
        m.throughput.max = rate;
        ResultEntry {
            topology,
            ratio: ratio.map(|r| Interval {
                median: r,
                low: r,
                high: r,
                level: 0.0,
            }),
            measurement: m,
        }
    }

    fn report(results: Vec<ResultEntry>, skipped: Vec<Skipped>) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            command: Command::Compare,
            environment: Environment::detect(),
            baseline: Some("crossbeam".to_owned()),
            rounds: Some(2),
            backends: ["crossbeam", "condvar", "flume"]
                .map(str::to_owned)
                .to_vec(),
            results,
            skipped,
            failures: Vec::new(),
        }
    }

    /// crossbeam at 25.8 M msg/s everywhere, condvar and flume at `ratios` of it, over `seq`
    /// and `1:1` at capacities 1 and 1024 and `1:1` alone at 0, in the order a comparison runs
    /// them.
    fn speed_report(ratios: [f64; 2]) -> Report {
        let mut results = Vec::new();
        for (topology, capacity) in [
            ("seq", 1),
            ("seq", 1024),
            ("1:1", 0),
            ("1:1", 1),
            ("1:1", 1024),
        ] {
            let cell = (topology, capacity, Policy::Block);
            results.push(result("crossbeam", cell, 25.8e6, None));
            for (backend, r) in ["condvar", "flume"].into_iter().zip(ratios) {
                results.push(result(backend, cell, 25.8e6 * r, Some(r)));
            }
        }
        report(results, Vec::new())
    }

    /// The text of every `<text>` element of `svg`.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("</text>")
            .filter_map(|part| part.rsplit_once('>').map(|(_, text)| text))
            .collect()
    }

    #[test]
    fn every_panel_has_the_same_columns_and_the_same_axis() {
        let r = speed_report([0.5, 3.0]);
        let rows = r.rows();
        let panels = r.panels(&rows, &["condvar", "flume"], &[Quantity::Ratio]);
        let titles: Vec<&str> = panels.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Capacity 0 (rendezvous)", "Capacity 1", "Capacity 1024"]
        );
        for p in &panels {
            let labels: Vec<&str> = p.groups.iter().map(|g| g.label.as_str()).collect();
            assert_eq!(labels, ["seq", "1:1"], "{}", p.title);
            assert_eq!(p.scale, Scale::Ratio { span: 2 }, "{}", p.title);
        }
        let seq_at_0 = &panels[0].groups[0];
        assert_eq!(seq_at_0.sublabel.as_deref(), Some("n/a"));
        assert!(
            seq_at_0.marks.is_empty(),
            "nothing is plotted where seq cannot run"
        );
    }

    #[test]
    fn the_baseline_is_in_the_legend_with_its_rate_under_each_topology() {
        let svg = speed_report([0.5, 1.0]).svg("harness compare");
        let texts = texts(&svg);
        assert!(texts.contains(&"crossbeam = 1x"), "{svg}");
        assert_eq!(
            texts.iter().filter(|t| **t == "1x = 25.80 M msg/s").count(),
            5,
            "one under each topology that ran: {svg}"
        );
        assert_eq!(texts.iter().filter(|t| **t == "n/a").count(), 1, "{svg}");
    }

    #[test]
    fn labels_beyond_the_axis_take_their_backends_colour() {
        let svg = speed_report([0.001, 0.002]).svg("harness compare");
        let condvar = style("condvar").colour;
        let flume = style("flume").colour;
        for (colour, text) in [(condvar, "0.001x"), (flume, "0.002x")] {
            let label = format!(r#"fill="{colour}" text-anchor="middle">{text}</text>"#);
            assert_eq!(
                svg.matches(&label).count(),
                5,
                "{label} in every group: {svg}"
            );
        }
    }

    /// crossbeam, which does not offer drop-oldest, and condvar under three policies at an
    /// offered 100 k msg/s, each with a p99 of 42 µs.
    fn overload_report() -> Report {
        let mut results = Vec::new();
        let mut skipped = Vec::new();
        for policy in [Policy::Block, Policy::DropNewest, Policy::DropOldest] {
            for backend in ["crossbeam", "condvar"] {
                if backend == "crossbeam" && policy == Policy::DropOldest {
                    skipped.push(Skipped {
                        backend: backend.to_owned(),
                        topology: "1:1".parse().expect("a topology"),
                        capacity: 64,
                        policy,
                        reason: "does not offer drop-oldest".to_owned(),
                        unsupported: true,
                    });
                    continue;
                }
                let mut r = result(backend, ("1:1", 64, policy), 50e3, None);
                r.measurement.load.target_rate = Some(100e3);
                r.measurement.latency = Some(Latency {
                    samples: 10,
                    sample_every: 1,
                    p50_ns: 42_000,
                    p90_ns: 42_000,
                    p99_ns: 42_000,
                    p999_ns: 42_000,
                    max_ns: 42_000,
                    mean_ns: 42_000.0,
                });
                results.push(r);
            }
        }
        let mut report = report(results, skipped);
        report.backends = vec!["crossbeam".to_owned(), "condvar".to_owned()];
        report
    }

    #[test]
    fn the_overload_picture_shows_what_was_delivered_and_writes_n_a_for_no_value() {
        let svg = overload_report().svg("harness compare --preset overload");
        let texts = texts(&svg);
        assert!(texts.contains(&"Delivered, msg/s (log scale)"), "{svg}");
        assert!(texts.contains(&"delivered msg/s"), "{svg}");
        assert!(
            texts.contains(&"offered: 100.0 k msg/s"),
            "the offered rate's line: {svg}"
        );
        assert!(
            !svg.contains("shed</text>") && !svg.contains("Items shed"),
            "{svg}"
        );
        assert_eq!(
            texts.iter().filter(|t| **t == "n/a").count(),
            2,
            "crossbeam's drop-oldest, in each panel: {svg}"
        );
        assert!(!texts.contains(&"×"), "{svg}");
    }

    #[test]
    fn durations_are_written_in_microseconds() {
        let svg = overload_report().svg("harness compare --consumer-delay 20us");
        let texts = texts(&svg);
        assert!(
            texts.contains(&"10 µs") && texts.contains(&"100 µs"),
            "{svg}"
        );
        assert!(
            texts.contains(&"command: harness compare --consumer-delay 20µs"),
            "{svg}"
        );
        assert!(svg.contains("p99 42.0 µs"), "the tooltip: {svg}");
        for text in texts {
            assert!(!text.contains(" us") && !text.contains("0us"), "{text}");
        }
    }

    #[test]
    fn every_registered_backend_has_its_own_style() {
        let names = registry::names();
        let mut styles: Vec<Style> = names.iter().map(|n| style(n)).collect();
        styles.sort_unstable();
        styles.dedup();
        assert_eq!(styles.len(), names.len());
        assert_eq!(
            style("not-a-backend"),
            Style {
                colour: "#7f7f7f",
                marker: Marker::Circle
            }
        );
    }

    #[test]
    fn styles_stay_distinct_past_the_palette() {
        let capacity = PALETTE.len() * Marker::ALL.len();
        let mut styles: Vec<Style> = (0..capacity).map(style_at).collect();
        assert_eq!(
            styles[PALETTE.len()],
            Style {
                colour: PALETTE[0],
                marker: Marker::Square
            },
            "the 11th backend: the first colour again, as a square"
        );
        styles.sort_unstable();
        styles.dedup();
        assert_eq!(styles.len(), capacity);
        assert_eq!(style_at(capacity), style_at(0), "past 40 the styles repeat");
    }

    #[test]
    fn percents_lose_their_trailing_zeros() {
        assert_eq!(trim_percent(93.75), "93.75");
        assert_eq!(trim_percent(95.0), "95");
    }
}
