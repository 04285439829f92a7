//! The SVG plot: a grouped bar chart of median throughput (log scale), one group per row of
//! the comparison and one bar per backend, with the ratio to the baseline over each bar and
//! the environment header on the picture. Written by hand as SVG text.

use std::fmt::Write as _;

use super::Report;
use super::grid::{Row, Slot};
use super::text::rate;

const COLORS: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
];
const BAR: f64 = 18.0;
const GAP: f64 = 22.0;
const LEFT: f64 = 70.0;
const TOP: f64 = 120.0;
const PLOT_H: f64 = 320.0;

/// The plot's geometry: the width of a group, the picture's size and the decades shown.
struct Frame {
    group: f64,
    width: f64,
    height: f64,
    lo: f64,
    hi: f64,
}

impl Frame {
    fn new(report: &Report, columns: usize, rows: usize) -> Self {
        let group = BAR * columns.max(1) as f64 + GAP;
        let values: Vec<f64> = report
            .results
            .iter()
            .map(|r| r.measurement.throughput.median)
            .filter(|v| *v > 0.0)
            .collect();
        let lo = values
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .log10()
            .floor()
            .min(6.0);
        let hi = values
            .iter()
            .copied()
            .fold(0.0, f64::max)
            .log10()
            .ceil()
            .max(lo + 1.0);
        Self {
            group,
            width: (LEFT + group * rows.max(1) as f64 + 30.0).max(720.0),
            height: TOP + PLOT_H + 80.0,
            lo,
            hi,
        }
    }

    /// The height of a throughput on the log scale.
    fn y(&self, v: f64) -> f64 {
        TOP + PLOT_H - (v.log10() - self.lo) / (self.hi - self.lo) * PLOT_H
    }
}

impl Report {
    /// The plot as an SVG document.
    pub fn svg(&self) -> String {
        let columns = self.columns();
        let rows = self.rows();
        let frame = Frame::new(self, columns.len(), rows.len());
        let (width, height) = (frame.width, frame.height);
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        self.svg_header(&mut s, &columns);
        svg_decades(&mut s, &frame);
        let show_policy = self.about_load();
        for (g, row) in rows.iter().enumerate() {
            self.svg_group(&mut s, &frame, &columns, g, *row, show_policy);
        }
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/>"##,
            TOP + PLOT_H,
            width - 20.0,
            TOP + PLOT_H
        );
        s.push_str("</svg>\n");
        s
    }

    /// The title, the environment header and the legend.
    fn svg_header(&self, s: &mut String, columns: &[&str]) {
        let title = match &self.baseline {
            Some(base) => format!(
                "Throughput per backend and shape (median msg/s, log scale; ratio to {base} above bars)"
            ),
            None => "Throughput per backend (median msg/s, log scale)".to_owned(),
        };
        let _ = writeln!(
            s,
            r#"<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{}</text>"#,
            escape(&title)
        );
        for (i, line) in self.environment.lines().iter().enumerate() {
            let _ = writeln!(
                s,
                r##"<text x="{LEFT}" y="{}" fill="#555">{}</text>"##,
                40 + 14 * i,
                escape(line)
            );
        }
        for (i, backend) in columns.iter().enumerate() {
            let x = LEFT + 130.0 * i as f64;
            let _ = writeln!(
                s,
                r#"<rect x="{x}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
                TOP - 22.0,
                COLORS[i % COLORS.len()],
                x + 16.0,
                TOP - 12.0,
                escape(backend)
            );
        }
    }

    /// One group of bars (one row of the comparison) with its labels.
    fn svg_group(
        &self,
        s: &mut String,
        frame: &Frame,
        columns: &[&str],
        g: usize,
        row: Row,
        show_policy: bool,
    ) {
        let topology = row.topology.to_string();
        let x0 = LEFT + GAP / 2.0 + frame.group * g as f64;
        for (i, backend) in columns.iter().enumerate() {
            let x = x0 + BAR * i as f64;
            let Slot::Result(r) = self.slot(backend, row) else {
                continue;
            };
            let v = r.measurement.throughput.median;
            if v <= 0.0 {
                continue;
            }
            let yy = frame.y(v);
            let fill = if r.measurement.verification.ok {
                COLORS[i % COLORS.len()]
            } else {
                "#000"
            };
            let _ = writeln!(
                s,
                r#"<rect x="{x:.1}" y="{yy:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{} {} cap {}: {} msg/s</title></rect>"#,
                BAR - 2.0,
                TOP + PLOT_H - yy,
                escape(backend),
                escape(&topology),
                row.capacity,
                rate(v)
            );
            if let Some(ratio) = r.ratio.map(|i| i.median) {
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" font-size="8" text-anchor="middle">{ratio:.2}</text>"#,
                    x + (BAR - 2.0) / 2.0,
                    yy - 3.0
                );
            }
        }
        let middle = x0 + (frame.group - GAP) / 2.0;
        let _ = writeln!(
            s,
            r##"<text x="{middle:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="{middle:.1}" y="{:.1}" text-anchor="middle" fill="#555">cap {}</text>"##,
            TOP + PLOT_H + 16.0,
            escape(&topology),
            TOP + PLOT_H + 30.0,
            row.capacity
        );
        if show_policy {
            let _ = writeln!(
                s,
                r##"<text x="{middle:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
                TOP + PLOT_H + 44.0,
                escape(&row.policy.to_string())
            );
        }
    }
}

/// The decade grid lines with their labels.
fn svg_decades(s: &mut String, frame: &Frame) {
    let mut decade = frame.lo;
    while decade <= frame.hi {
        let v = 10f64.powf(decade);
        let yy = frame.y(v);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            frame.width - 20.0,
            LEFT - 6.0,
            yy + 4.0,
            rate(v)
        );
        decade += 1.0;
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape("<a & b>"), "&lt;a &amp; b&gt;");
    }
}
