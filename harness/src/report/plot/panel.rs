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

/// Value labels beside marks beyond the axis: their type size, the height of a row of them,
/// and the room left between the axis edge and the nearest row (the arrow's 8 px and a gap).
const EDGE_FONT: f64 = 9.0;
const EDGE_ROW: f64 = 11.0;
const EDGE_GAP: f64 = 10.0;

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
    /// No value: the backend does not offer what the cell needs, or did not measure it. Written
    /// `n/a` up the bottom of the axis.
    Missing,
    /// The run failed.
    Failed,
}

/// One group along the bottom of a panel.
pub(super) struct Group {
    pub(super) label: String,
    /// A second line under the label: the policy and capacity, the baseline's own rate, or
    /// `n/a` for a topology that did not run at the panel's capacity.
    pub(super) sublabel: Option<String>,
    /// Each mark with its slot (the backend's place in the legend).
    pub(super) marks: Vec<(usize, Mark)>,
}

impl Group {
    /// The group of a topology that did not run at the panel's capacity: its column is kept,
    /// with `n/a` under its name and nothing in it.
    pub(super) fn not_run(label: String) -> Self {
        Self {
            label,
            sublabel: Some(NOT_AVAILABLE.to_owned()),
            marks: Vec::new(),
        }
    }
}

pub(super) struct Panel {
    pub(super) title: String,
    pub(super) axis_title: String,
    pub(super) scale: Scale,
    /// A value drawn as a dark line across the panel (1x on a ratio axis).
    pub(super) reference: Option<f64>,
    pub(super) groups: Vec<Group>,
}

/// The box a text takes on the canvas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct TextBox {
    pub(super) left: f64,
    pub(super) top: f64,
    pub(super) right: f64,
    pub(super) bottom: f64,
}

impl TextBox {
    pub(super) fn overlaps(self, other: Self) -> bool {
        self.left < other.right
            && other.left < self.right
            && self.top < other.bottom
            && other.top < self.bottom
    }
}

/// A value label beside a mark beyond the axis, before it is placed.
struct EdgeLabel {
    x: f64,
    up: bool,
    text: String,
    colour: &'static str,
}

/// The width of `text` in DejaVu Sans of `size` px, near enough for keeping labels apart: a
/// digit is 0.64 em, and few letters are wider.
pub(super) fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * 0.64 * size
}

/// Places value labels centred on each `(x, width, up)` in a plotting area from `y0` to `y1`:
/// left to right, each label in the row nearest its edge (the top for `up`, else the bottom)
/// where it meets no label placed before it. Rows stack from the edge inwards, so no label
/// reaches past the area's edge to the group labels under it.
pub(super) fn place_edge_labels(labels: &[(f64, f64, bool)], (y0, y1): (f64, f64)) -> Vec<TextBox> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|a, b| labels[*a].0.total_cmp(&labels[*b].0));
    let unplaced = TextBox {
        left: 0.0,
        top: 0.0,
        right: 0.0,
        bottom: 0.0,
    };
    let mut boxes = vec![unplaced; labels.len()];
    let mut placed: Vec<TextBox> = Vec::new();
    for i in order {
        let (x, width, up) = labels[i];
        let mut row = 0.0;
        let free = loop {
            let offset = EDGE_GAP + EDGE_ROW * row;
            let (top, bottom) = if up {
                (y0 + offset, y0 + offset + EDGE_ROW)
            } else {
                (y1 - offset - EDGE_ROW, y1 - offset)
            };
            let candidate = TextBox {
                left: x - width / 2.0 - 1.0,
                top,
                right: x + width / 2.0 + 1.0,
                bottom,
            };
            if placed.iter().all(|p| !p.overlaps(candidate)) {
                break candidate;
            }
            row += 1.0;
        };
        placed.push(free);
        boxes[i] = free;
    }
    boxes
}

impl Panel {
    /// Whether the panel writes `n/a` anywhere: under a group, or in place of a mark.
    pub(super) fn has_missing(&self) -> bool {
        self.groups.iter().any(|g| {
            g.sublabel
                .as_deref()
                .is_some_and(|s| s.ends_with(NOT_AVAILABLE))
                || g.marks.iter().any(|(_, m)| matches!(m, Mark::Missing))
        })
    }

    /// Draws the panel from `top` with `styles` for its slots; returns the height it took.
    pub(super) fn draw(&self, c: &mut Canvas, top: f64, styles: &[Style]) -> f64 {
        let (y0, y1) = (top + TITLE_H, top + TITLE_H + PLOT_H);
        c.text(LEFT, top + 16.0, Font::plain(14.0).bold(), &self.title);
        self.draw_axis(c, (y0, y1));
        let right = WIDTH - RIGHT;
        let width = (right - LEFT) / self.groups.len().max(1) as f64;
        let slot = (width * 0.8 / styles.len().max(1) as f64).min(MAX_SLOT);
        let mut edge_labels = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            let left = LEFT + width * g as f64;
            if g > 0 {
                c.line((left, y0), (left, y1), "#cccccc", 1.0);
            }
            let centre = left + width / 2.0;
            for (i, mark) in &group.marks {
                let x = centre + (*i as f64 - (styles.len() as f64 - 1.0) / 2.0) * slot;
                edge_labels.extend(self.draw_mark(c, x, (y0, y1), mark, styles[*i]));
            }
            let font = Font::plain(13.0).anchored("middle");
            c.text(centre, y1 + 17.0, font, &group.label);
            if let Some(sub) = &group.sublabel {
                let font = Font::plain(11.0).grey().anchored("middle");
                c.text(centre, y1 + 32.0, font, sub);
            }
        }
        draw_edge_labels(c, &edge_labels, (y0, y1));
        TITLE_H + PLOT_H + LABELS_H
    }

    /// The plotting area's ground, the ticks with their grid lines and labels, the reference
    /// line and the axis title.
    fn draw_axis(&self, c: &mut Canvas, (y0, y1): (f64, f64)) {
        let right = WIDTH - RIGHT;
        c.rect(LEFT, y0, right - LEFT, PLOT_H, "#f7f7f7");
        for (v, label) in self.scale.ticks() {
            if let Some(ty) = self.height(v, y1) {
                if label.is_empty() {
                    c.line((LEFT, ty), (right, ty), "#eeeeee", 1.0);
                    continue;
                }
                c.line((LEFT, ty), (right, ty), "#dddddd", 1.0);
                let font = Font::plain(11.0).grey().anchored("end");
                c.text(LEFT - 6.0, ty + 4.0, font, &label);
            }
        }
        if let Some(ty) = self.reference.and_then(|v| self.height(v, y1)) {
            c.line((LEFT, ty), (right, ty), REFERENCE_COLOUR, 1.5);
        }
        c.vertical_text(18.0, (y0 + y1) / 2.0, Font::plain(12.0), &self.axis_title);
    }

    /// Where `v` is drawn in a plotting area whose bottom is at `bottom`; `None` for a value
    /// the axis cannot show.
    fn height(&self, v: f64, bottom: f64) -> Option<f64> {
        self.scale.position(v).map(|p| bottom - p * PLOT_H)
    }

    /// Draws one mark at `x`; a value beyond the axis is an arrow at its edge, and its label,
    /// returned, is placed with the others of the panel once every mark is drawn.
    fn draw_mark(
        &self,
        c: &mut Canvas,
        x: f64,
        (y0, y1): (f64, f64),
        mark: &Mark,
        style: Style,
    ) -> Option<EdgeLabel> {
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
                        c.arrow(x, if up { y0 } else { y1 }, up, colour, tip);
                        return Some(EdgeLabel {
                            x,
                            up,
                            text: ratio_value(*value),
                            colour,
                        });
                    }
                    (None, Some(vy)) => c.mark(x, vy, style, *hollow, tip),
                    (None, None) => {}
                }
            }
            Mark::Missing => {
                let font = Font::plain(EDGE_FONT).grey();
                c.vertical_text(x + 3.0, y1 - 12.0, font, NOT_AVAILABLE);
            }
            Mark::Failed => {
                let font = Font {
                    fill: "#c00",
                    ..Font::plain(14.0).bold().anchored("middle")
                };
                c.text(x, (y0 + y1) / 2.0, font, "!");
            }
        }
        None
    }
}

/// What a picture writes where a value does not exist.
pub(super) const NOT_AVAILABLE: &str = "n/a";

/// The colour of the reference line (1x), in the panels and in the legend.
const REFERENCE_COLOUR: &str = "#444";

/// Draws the value labels of the marks beyond the axis, each in its backend's colour, placed
/// by [`place_edge_labels`].
fn draw_edge_labels(c: &mut Canvas, labels: &[EdgeLabel], area: (f64, f64)) {
    let sizes: Vec<(f64, f64, bool)> = labels
        .iter()
        .map(|l| (l.x, text_width(&l.text, EDGE_FONT), l.up))
        .collect();
    for (label, b) in labels.iter().zip(place_edge_labels(&sizes, area)) {
        let font = Font {
            fill: label.colour,
            ..Font::plain(EDGE_FONT).anchored("middle")
        };
        c.text(label.x, b.bottom - 2.0, font, &label.text);
    }
}

/// The picture's title, in line with the panels. Returns the height it took.
pub(super) fn title(c: &mut Canvas, text: &str) -> f64 {
    c.text(LEFT, 26.0, Font::plain(17.0).bold(), text);
    40.0
}

/// The legend: first, when there is one, `reference` (the baseline, say) beside a short piece
/// of the panels' reference line; then a mark per backend in its style, wrapped to the width;
/// then each line of `note` on lines of its own, wrapped at spaces. Returns the height it took.
pub(super) fn legend(
    c: &mut Canvas,
    top: f64,
    reference: Option<&str>,
    entries: &[(&str, Style)],
    note: &[&str],
) -> f64 {
    let (mut x, mut y) = (LEFT, top + 12.0);
    let mut next = |c: &mut Canvas, name: &str| {
        let width = 26.0 + 7.5 * name.chars().count() as f64;
        if x + width > WIDTH - RIGHT {
            (x, y) = (LEFT, y + 20.0);
        }
        c.text(x + 14.0, y, Font::plain(13.0), name);
        let at = (x, y);
        x += width;
        at
    };
    if let Some(name) = reference {
        let (x, y) = next(c, name);
        c.line(
            (x - 2.0, y - 4.0),
            (x + 11.0, y - 4.0),
            REFERENCE_COLOUR,
            2.0,
        );
    }
    for (name, style) in entries {
        let (x, y) = next(c, name);
        c.mark(x + 5.0, y - 4.0, *style, false, name);
    }
    for part in note.iter().flat_map(|line| wrapped(line, 125)) {
        y += 18.0;
        c.text(LEFT, y, Font::plain(12.0).grey(), part);
    }
    y - top + 12.0
}

/// The caption: each line in small grey type, long ones wrapped at spaces. Returns the height
/// it took.
pub(super) fn caption(c: &mut Canvas, top: f64, lines: &[String]) -> f64 {
    let mut y = top;
    for line in lines {
        for part in wrapped(line, 140) {
            y += 14.0;
            c.text(LEFT, y, Font::plain(11.0).grey(), part);
        }
    }
    y - top + 8.0
}

/// `line` cut at spaces into parts of at most `chars` characters (a longer word stays whole
/// only if it has no space to be cut at; then it is cut at `chars`).
fn wrapped(line: &str, chars: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = line;
    loop {
        let cut = if rest.chars().count() <= chars {
            rest.len()
        } else {
            let limit = rest
                .char_indices()
                .nth(chars)
                .map_or(rest.len(), |(i, _)| i);
            rest[..limit].rfind(' ').unwrap_or(limit)
        };
        parts.push(&rest[..cut]);
        rest = rest[cut..].trim_start();
        if rest.is_empty() {
            return parts;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_labels_in_one_column_stack_without_overlapping() {
        let (y0, y1) = (100.0, 270.0);
        let width = text_width("0.015x", EDGE_FONT);
        let labels = [
            (110.0, width, false),
            (100.0, width, false),
            (120.0, width, false),
            (300.0, width, false),
            (100.0, width, true),
        ];
        let boxes = place_edge_labels(&labels, (y0, y1));
        let half = width / 2.0 + 1.0;
        let below = |x: f64, row: f64| TextBox {
            left: x - half,
            top: y1 - EDGE_GAP - EDGE_ROW * (row + 1.0),
            right: x + half,
            bottom: y1 - EDGE_GAP - EDGE_ROW * row,
        };
        assert_eq!(
            boxes[1],
            below(100.0, 0.0),
            "the leftmost is placed first, at the edge"
        );
        assert_eq!(boxes[0], below(110.0, 1.0));
        assert_eq!(boxes[2], below(120.0, 2.0), "it meets both before it");
        assert_eq!(
            boxes[3],
            below(300.0, 0.0),
            "a label far off keeps the edge row"
        );
        assert_eq!(
            boxes[4].top,
            y0 + EDGE_GAP,
            "a label above the axis hangs from its top"
        );
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert!(!a.overlaps(*b), "{a:?} and {b:?}");
            }
            assert!(
                a.top >= y0 && a.bottom <= y1,
                "inside the plotting area: {a:?}"
            );
        }
    }

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
