//! One panel of a plot: a value axis (its ticks, grid and title), groups along the bottom (one
//! per topology, or per topology and policy), and in each group one mark per backend, always in the
//! same slot. Also the legend and the caption that frame the panels.

use super::canvas::{Canvas, Font, Style, WIDTH};
use super::scale::{Scale, ratio_value};

/// Left margin: the vertical axis title and the tick labels.
const LEFT: f64 = 86.0;
const RIGHT: f64 = 16.0;
/// Height of the plotting area of a panel.
const PLOT_H: f64 = 170.0;
/// From the top of a panel to its plotting area (the panel title).
const TITLE_H: f64 = 26.0;
/// Below the plotting area: the group labels.
const LABELS_H: f64 = 44.0;
/// The widest spacing between two marks of a group.
const MAX_SLOT: f64 = 18.0;

/// What one backend shows in one group.
pub(super) enum Mark {
    /// A value, with its interval when there is one; hollow when the interval says "no
    /// measurable difference".
    Point {
        value: f64,
        interval: Option<(f64, f64)>,
        hollow: bool,
        tip: String,
    },
    /// The backend does not offer what the cell needs.
    Unsupported,
    /// The run failed.
    Failed,
}

/// One group along the bottom of a panel.
pub(super) struct Group {
    pub(super) label: String,
    pub(super) sublabel: Option<String>,
    /// Each mark with its slot (the backend's place in the legend).
    pub(super) marks: Vec<(usize, Mark)>,
}

pub(super) struct Panel {
    pub(super) title: String,
    pub(super) axis_title: String,
    pub(super) scale: Scale,
    /// A value drawn as a dark line across the panel (1x on a ratio axis).
    pub(super) reference: Option<f64>,
    pub(super) groups: Vec<Group>,
}

impl Panel {
    /// Draws the panel from `top` with `styles` for its slots; returns the height it took.
    pub(super) fn draw(&self, c: &mut Canvas, top: f64, styles: &[Style]) -> f64 {
        let (y0, y1) = (top + TITLE_H, top + TITLE_H + PLOT_H);
        let right = WIDTH - RIGHT;
        let y = |v: f64| self.height(v, y1);
        c.text(LEFT, top + 16.0, Font::plain(14.0).bold(), &self.title);
        c.rect(LEFT, y0, right - LEFT, PLOT_H, "#f7f7f7");
        for (v, label) in self.scale.ticks() {
            if let Some(ty) = y(v) {
                if label.is_empty() {
                    c.line((LEFT, ty), (right, ty), "#eeeeee", 1.0);
                    continue;
                }
                c.line((LEFT, ty), (right, ty), "#dddddd", 1.0);
                let font = Font::plain(11.0).grey().anchored("end");
                c.text(LEFT - 6.0, ty + 4.0, font, &label);
            }
        }
        if let Some(ty) = self.reference.and_then(y) {
            c.line((LEFT, ty), (right, ty), "#444", 1.5);
        }
        c.vertical_text(18.0, (y0 + y1) / 2.0, Font::plain(12.0), &self.axis_title);
        let width = (right - LEFT) / self.groups.len().max(1) as f64;
        let slot = (width * 0.8 / styles.len().max(1) as f64).min(MAX_SLOT);
        for (g, group) in self.groups.iter().enumerate() {
            let left = LEFT + width * g as f64;
            if g > 0 {
                c.line((left, y0), (left, y1), "#cccccc", 1.0);
            }
            let centre = left + width / 2.0;
            for (i, mark) in &group.marks {
                let x = centre + (*i as f64 - (styles.len() as f64 - 1.0) / 2.0) * slot;
                self.draw_mark(c, (x, *i), (y0, y1), mark, styles[*i]);
            }
            c.text(
                centre,
                y1 + 17.0,
                Font::plain(13.0).anchored("middle"),
                &group.label,
            );
            if let Some(sub) = &group.sublabel {
                let font = Font::plain(11.0).grey().anchored("middle");
                c.text(centre, y1 + 32.0, font, sub);
            }
        }
        TITLE_H + PLOT_H + LABELS_H
    }

    /// Where `v` is drawn in a plotting area whose bottom is at `bottom`; `None` for a value
    /// the axis cannot show.
    fn height(&self, v: f64, bottom: f64) -> Option<f64> {
        self.scale.position(v).map(|p| bottom - p * PLOT_H)
    }

    /// Draws one mark at `x`, the place of `slot`; the value labels of neighbouring marks
    /// beyond the axis are staggered by slot so that they do not overlap.
    fn draw_mark(
        &self,
        c: &mut Canvas,
        (x, slot): (f64, usize),
        (y0, y1): (f64, f64),
        mark: &Mark,
        style: Style,
    ) {
        let y = |v: f64| self.height(v, y1);
        let colour = style.colour;
        match mark {
            Mark::Point {
                value,
                interval,
                hollow,
                tip,
            } => {
                if let Some((low, high)) = interval
                    && let (Some(a), Some(b)) = (y(*low), y(*high))
                {
                    c.line((x, a), (x, b), colour, 2.0);
                    c.line((x - 3.0, a), (x + 3.0, a), colour, 2.0);
                    c.line((x - 3.0, b), (x + 3.0, b), colour, 2.0);
                }
                match (self.scale.beyond(*value), y(*value)) {
                    (Some(up), _) => {
                        let edge = if up { y0 } else { y1 };
                        c.arrow(x, edge, up, colour, tip);
                        let stagger = 10.0 * (slot % 2) as f64;
                        let ty = if up {
                            y0 + 19.0 + stagger
                        } else {
                            y1 - 11.0 - stagger
                        };
                        let font = Font::plain(9.0).anchored("middle");
                        c.text(x, ty, font, &ratio_value(*value));
                    }
                    (None, Some(vy)) => c.mark(x, vy, style, *hollow, tip),
                    (None, None) => {}
                }
            }
            Mark::Unsupported => {
                let font = Font::plain(13.0).grey().anchored("middle");
                c.text(x, (y0 + y1) / 2.0 + 4.0, font, "×");
            }
            Mark::Failed => {
                let font = Font {
                    fill: "#c00",
                    ..Font::plain(14.0).bold().anchored("middle")
                };
                c.text(x, (y0 + y1) / 2.0, font, "!");
            }
        }
    }
}

/// The picture's title, in line with the panels. Returns the height it took.
pub(super) fn title(c: &mut Canvas, text: &str) -> f64 {
    c.text(LEFT, 26.0, Font::plain(17.0).bold(), text);
    40.0
}

/// The legend: a mark per backend in its style, wrapped to the width, then `note` (a hollow
/// mark's meaning, say) on a line of its own. Returns the height it took.
pub(super) fn legend(c: &mut Canvas, top: f64, entries: &[(&str, Style)], note: &[&str]) -> f64 {
    let (mut x, mut y) = (LEFT, top + 12.0);
    for (name, style) in entries {
        let width = 26.0 + 7.5 * name.chars().count() as f64;
        if x + width > WIDTH - RIGHT {
            (x, y) = (LEFT, y + 20.0);
        }
        c.mark(x + 5.0, y - 4.0, *style, false, name);
        c.text(x + 14.0, y, Font::plain(13.0), name);
        x += width;
    }
    for line in note {
        y += 18.0;
        c.text(LEFT, y, Font::plain(12.0).grey(), line);
    }
    y - top + 12.0
}

/// The caption: each line in small grey type, long ones wrapped at spaces. Returns the height
/// it took.
pub(super) fn caption(c: &mut Canvas, top: f64, lines: &[String]) -> f64 {
    const CHARS: usize = 140;
    let mut y = top;
    for line in lines {
        let mut rest = line.as_str();
        loop {
            y += 14.0;
            let cut = if rest.chars().count() <= CHARS {
                rest.len()
            } else {
                let limit = rest
                    .char_indices()
                    .nth(CHARS)
                    .map_or(rest.len(), |(i, _)| i);
                rest[..limit].rfind(' ').unwrap_or(limit)
            };
            c.text(LEFT, y, Font::plain(11.0).grey(), &rest[..cut]);
            rest = rest[cut..].trim_start();
            if rest.is_empty() {
                break;
            }
        }
    }
    y - top + 8.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_caption_line_wraps_at_a_space() {
        let mut c = Canvas::new();
        let words = vec!["word"; 60].join(" ");
        let height = caption(&mut c, 0.0, &[words, "short".to_owned()]);
        let svg = c.finish(height);
        assert_eq!(
            svg.matches("<text").count(),
            4,
            "three lines for 299 characters, one more"
        );
        assert!(!svg.contains("wor</text>"), "no word is cut");
    }
}
