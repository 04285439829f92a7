//! The pictures (`compare --plot`), hand-written SVG 900 px wide, so a README shows them
//! unscaled:
//!
//! - **Speed**: one panel per capacity, one group per topology, and for each backend its ratio to
//!   the baseline on a log2 axis centred on 1x: a dot at the median of the paired per-round
//!   ratios, a whisker over their confidence interval, the dot hollow where the interval
//!   contains 1x (no measurable difference). Without ratios (the baseline did not run), the
//!   median throughput on a log10 axis instead, the whisker spanning the repetitions.
//! - **Load** (several policies, a policy other than `block`, or a fixed rate): a panel of the
//!   share of offered items shed and one of the p99 latency, one group per topology and policy.
//!
//! Every picture has a legend, axis titles, and a caption with the environment and the command.
//! A backend has the same style (colour and mark shape) in every picture: its place in the
//! registry picks it, so any number of backends can be registered.

mod canvas;
mod panel;
mod scale;

use canvas::{Canvas, Marker, Style};
use panel::{Group, Mark, Panel, caption, legend};
use scale::{Scale, Unit};

use super::Report;
use super::grid::{Row, Slot};
use super::text::{percent, ratio_text};
use crate::registry;

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
    /// The median throughput, with the repetitions' range.
    Throughput,
    /// The share of offered items shed, in percent.
    Shed,
    /// The p99 latency.
    P99,
}

impl Report {
    /// The report's picture as an SVG document; `command` (the command line that made the
    /// report) goes in the caption.
    pub fn svg(&self, command: &str) -> String {
        let mut c = Canvas::new();
        let rows = self.rows();
        let load = self.about_load();
        let with_ratios = !load && self.results.iter().any(|r| r.ratio.is_some());
        let (title, quantities, columns, notes) = if load {
            (
                "Under overload: items shed and p99 latency, per topology and policy".to_owned(),
                vec![Quantity::Shed, Quantity::P99],
                self.columns(),
                vec![
                    "shed: the share of offered items the policy dropped; p99: send to receive, \
                     from each item's scheduled send time at a fixed rate"
                        .to_owned(),
                ],
            )
        } else if with_ratios {
            let base = self.baseline.as_deref().unwrap_or("the baseline");
            (
                format!("Throughput relative to {base}{}", self.batch_note()),
                vec![Quantity::Ratio],
                self.columns()
                    .into_iter()
                    .filter(|b| Some(*b) != self.baseline.as_deref())
                    .collect(),
                self.ratio_notes(base),
            )
        } else {
            (
                format!("Throughput{}", self.batch_note()),
                vec![Quantity::Throughput],
                self.columns(),
                vec!["dot: median over the repetitions; whisker: their range".to_owned()],
            )
        };
        let mut y = panel::title(&mut c, &title);
        let entries: Vec<(&str, Style)> = columns.iter().map(|b| (*b, style(b))).collect();
        let mut notes = notes;
        notes.push(self.marks_note(with_ratios));
        let notes: Vec<&str> = notes.iter().map(String::as_str).collect();
        y += legend(&mut c, y, &entries, &notes) + 8.0;
        let styles: Vec<Style> = entries.iter().map(|e| e.1).collect();
        for panel in self.panels(&rows, &columns, &quantities) {
            y += panel.draw(&mut c, y, &styles);
        }
        let mut lines = self.environment.lines();
        lines.push(format!("command: {command}"));
        y += caption(&mut c, y, &lines);
        c.finish(y)
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

    /// What the topologies' names and the other marks mean.
    fn marks_note(&self, reference_line: bool) -> String {
        let mut note = String::new();
        if reference_line && let Some(base) = &self.baseline {
            note = format!("dark line: {base} (1x); ");
        }
        note.push_str("topology: producers:consumers (seq: one thread sends, then receives)");
        if self.skipped.iter().any(|s| s.unsupported) {
            note.push_str("; ×: not offered by the backend");
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
    /// capacity, a group per topology.
    fn panels(&self, rows: &[Row], columns: &[&str], quantities: &[Quantity]) -> Vec<Panel> {
        if quantities.len() > 1 {
            return quantities
                .iter()
                .map(|q| self.panel(panel_title(*q, None), rows, columns, *q, true))
                .collect();
        }
        let quantity = quantities[0];
        let mut capacities: Vec<usize> = rows.iter().map(|r| r.capacity).collect();
        capacities.sort_unstable();
        capacities.dedup();
        capacities
            .into_iter()
            .map(|cap| {
                let mine: Vec<Row> = rows.iter().copied().filter(|r| r.capacity == cap).collect();
                self.panel(
                    panel_title(quantity, Some(cap)),
                    &mine,
                    columns,
                    quantity,
                    false,
                )
            })
            .collect()
    }

    fn panel(
        &self,
        title: String,
        rows: &[Row],
        columns: &[&str],
        quantity: Quantity,
        label_policy: bool,
    ) -> Panel {
        let groups: Vec<Group> = rows
            .iter()
            .map(|row| Group {
                label: row.topology.to_string(),
                sublabel: label_policy.then(|| format!("{}, cap {}", row.policy, row.capacity)),
                marks: columns
                    .iter()
                    .enumerate()
                    .filter_map(|(i, b)| Some((i, self.mark(b, *row, quantity)?)))
                    .collect(),
            })
            .collect();
        let values = groups
            .iter()
            .flat_map(|g| &g.marks)
            .flat_map(|(_, m)| match m {
                Mark::Point {
                    value, interval, ..
                } => {
                    let (low, high) = interval.unwrap_or((*value, *value));
                    vec![*value, low, high]
                }
                _ => Vec::new(),
            });
        let (scale, axis_title, reference) = match quantity {
            Quantity::Ratio => (
                Scale::ratio_for(values),
                format!(
                    "ratio to {}",
                    self.baseline.as_deref().unwrap_or("baseline")
                ),
                Some(1.0),
            ),
            Quantity::Throughput => (
                Scale::log10_for(values, Unit::Rate),
                "msg/s".to_owned(),
                None,
            ),
            Quantity::Shed => (Scale::Percent, "shed".to_owned(), None),
            Quantity::P99 => (
                Scale::log10_for(values, Unit::Nanos),
                "p99 latency".to_owned(),
                None,
            ),
        };
        Panel {
            title,
            axis_title,
            scale,
            reference,
            groups,
        }
    }

    /// What `backend` shows in `row`: nothing for an empty slot, the baseline's own ratio or a
    /// result without latency.
    fn mark(&self, backend: &str, row: Row, quantity: Quantity) -> Option<Mark> {
        let r = match self.slot(backend, row) {
            Slot::Result(r) if !r.measurement.verification.ok => return Some(Mark::Failed),
            Slot::Result(r) => r,
            Slot::Failed(_) => return Some(Mark::Failed),
            Slot::Unsupported => return Some(Mark::Unsupported),
            Slot::Empty => return None,
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
        Some(match quantity {
            Quantity::Ratio => {
                let i = r.ratio?;
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
                point(
                    t.median,
                    Some((t.min, t.max)),
                    false,
                    format!("{:.0} msg/s", t.median),
                )
            }
            Quantity::Shed => {
                let shed = m.load.shed_fraction;
                point(shed * 100.0, None, false, format!("{} shed", percent(shed)))
            }
            Quantity::P99 => {
                let p99 = m.latency.as_ref()?.p99_ns;
                point(p99 as f64, None, false, format!("p99 {p99} ns"))
            }
        })
    }
}

fn panel_title(quantity: Quantity, capacity: Option<usize>) -> String {
    match (quantity, capacity) {
        (Quantity::Shed, _) => "Items shed, % of offered".to_owned(),
        (Quantity::P99, _) => "p99 latency (log scale)".to_owned(),
        (_, Some(0)) => "Capacity 0 (rendezvous)".to_owned(),
        (_, Some(cap)) => format!("Capacity {cap}"),
        (_, None) => String::new(),
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
