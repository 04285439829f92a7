//! SVG text written by hand: a canvas of fixed width that grows downwards, with the few shapes
//! the plots need. Every number is written with one decimal, every text escaped, and every
//! microsecond written `µs` (see [`micro_sign`]).

use std::fmt::Write as _;

/// The picture's width in pixels: what a README shows without scaling.
pub(super) const WIDTH: f64 = 900.0;

/// How a text is drawn.
#[derive(Clone, Copy)]
pub(super) struct Font {
    pub(super) size: f64,
    pub(super) fill: &'static str,
    pub(super) anchor: &'static str,
    pub(super) bold: bool,
}

impl Font {
    /// Plain dark text of `size` px, anchored at its start.
    pub(super) const fn plain(size: f64) -> Self {
        Self {
            size,
            fill: "#222",
            anchor: "start",
            bold: false,
        }
    }

    pub(super) const fn grey(self) -> Self {
        Self {
            fill: "#555",
            ..self
        }
    }

    pub(super) const fn bold(self) -> Self {
        Self { bold: true, ..self }
    }

    pub(super) const fn anchored(self, anchor: &'static str) -> Self {
        Self { anchor, ..self }
    }
}

/// The shape of a backend's mark. The palette's colours repeat once it runs out; the shape
/// then tells the backends that share a colour apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Marker {
    Circle,
    Square,
    Diamond,
    Cross,
}

impl Marker {
    /// Every shape, in the order the palette's laps take them.
    pub(super) const ALL: [Self; 4] = [Self::Circle, Self::Square, Self::Diamond, Self::Cross];

    /// The corners of the shape around its centre, clockwise from the top left (none for the
    /// circle, which SVG draws itself). Each shape is symmetric under a quarter turn, so it is
    /// given by its first quarter, turned three more times.
    fn outline(self) -> Vec<(f64, f64)> {
        let quarter: &[(f64, f64)] = match self {
            Self::Circle => &[],
            Self::Square => &[(-4.0, -4.0)],
            Self::Diamond => &[(0.0, -5.5)],
            Self::Cross => &[(-2.0, -5.5), (2.0, -5.5), (2.0, -2.0)],
        };
        let mut corners = quarter.to_vec();
        for turn in 1..4 {
            let previous = &corners[(turn - 1) * quarter.len()..];
            let turned: Vec<(f64, f64)> = previous.iter().map(|&(x, y)| (-y, x)).collect();
            corners.extend(turned);
        }
        corners
    }
}

/// How one backend is drawn: its colour (whiskers, arrows and marks) and its mark's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Style {
    pub(super) colour: &'static str,
    pub(super) marker: Marker,
}

/// An SVG document being drawn.
pub(super) struct Canvas {
    body: String,
}

impl Canvas {
    pub(super) fn new() -> Self {
        Self {
            body: String::new(),
        }
    }

    pub(super) fn text(&mut self, x: f64, y: f64, font: Font, content: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{:.0}" fill="{}" text-anchor="{}"{}>{}</text>"#,
            font.size,
            font.fill,
            font.anchor,
            if font.bold {
                r#" font-weight="bold""#
            } else {
                ""
            },
            shown(content)
        );
    }

    /// A text turned a quarter to the left, centred on (`x`, `y`): a vertical axis title.
    pub(super) fn vertical_text(&mut self, x: f64, y: f64, font: Font, content: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{:.0}" fill="{}" text-anchor="middle" transform="rotate(-90 {x:.1} {y:.1})">{}</text>"#,
            font.size,
            font.fill,
            shown(content)
        );
    }

    pub(super) fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{stroke}" stroke-width="{width:.1}"/>"#,
            from.0, from.1, to.0, to.1
        );
    }

    pub(super) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}"/>"#
        );
    }

    /// A backend's mark in its style, filled or hollow (a white centre inside a coloured
    /// outline), with a tooltip.
    pub(super) fn mark(&mut self, x: f64, y: f64, style: Style, hollow: bool, tip: &str) {
        let colour = style.colour;
        let fill = if hollow { "white" } else { colour };
        let paint = format!(r#"fill="{fill}" stroke="{colour}" stroke-width="2""#);
        let tip = shown(tip);
        let _ = if style.marker == Marker::Circle {
            writeln!(
                self.body,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="4.5" {paint}><title>{tip}</title></circle>"#
            )
        } else {
            let outline = style.marker.outline();
            let corners: Vec<String> = outline
                .iter()
                .map(|(dx, dy)| format!("{:.1},{:.1}", x + dx, y + dy))
                .collect();
            writeln!(
                self.body,
                r#"<polygon points="{}" {paint}><title>{tip}</title></polygon>"#,
                corners.join(" ")
            )
        };
    }

    /// A small triangle pointing up (`up`) or down with its tip at (`x`, `y`): a value beyond
    /// the axis.
    pub(super) fn arrow(&mut self, x: f64, y: f64, up: bool, colour: &str, tip: &str) {
        let base = if up { y + 8.0 } else { y - 8.0 };
        let _ = writeln!(
            self.body,
            r#"<polygon points="{x:.1},{y:.1} {:.1},{base:.1} {:.1},{base:.1}" fill="{colour}"><title>{}</title></polygon>"#,
            x - 5.0,
            x + 5.0,
            shown(tip)
        );
    }

    /// The finished document, `height` px tall on a white ground.
    pub(super) fn finish(self, height: f64) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH:.0}\" height=\"{height:.0}\" \
             viewBox=\"0 0 {WIDTH:.0} {height:.0}\" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{}</svg>\n",
            self.body
        )
    }
}

/// `text` as the picture writes it: microseconds with their sign, escaped.
fn shown(text: &str) -> String {
    escape(&micro_sign(text))
}

/// `text` with each duration in microseconds written `µs`: `us` right after a digit, or after
/// a digit and a space, and not followed by a letter, a digit or a character of a file name
/// (`.`, `/`, `_`, `-`). The tables and the command line's own words keep the ASCII `us`, which
/// the parser reads as well as `µs`; a picture is read, not parsed, so it writes the sign.
pub(super) fn micro_sign(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == 'u' && chars.get(i + 1) == Some(&'s') && is_duration_unit(&chars, i) {
            out.push_str("µs");
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Whether the `us` at `at` in `chars` ends a number.
fn is_duration_unit(chars: &[char], at: usize) -> bool {
    let before = match at.checked_sub(1).map(|i| chars[i]) {
        Some(' ') => at.checked_sub(2).map(|i| chars[i]),
        other => other,
    };
    let after = chars.get(at + 2);
    before.is_some_and(|c| c.is_ascii_digit())
        && after.is_none_or(|c| !c.is_alphanumeric() && !matches!(c, '.' | '/' | '_' | '-'))
}

pub(super) fn escape(text: &str) -> String {
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
        assert_eq!(escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }

    #[test]
    fn microseconds_take_the_micro_sign_and_nothing_else_does() {
        assert_eq!(micro_sign("p99 1.5 us"), "p99 1.5 µs");
        assert_eq!(
            micro_sign("--consumer-delay 0,0,20us,50us --rate 100k"),
            "--consumer-delay 0,0,20µs,50µs --rate 100k"
        );
        assert_eq!(
            micro_sign("status: 2 users, bus 5 usage"),
            "status: 2 users, bus 5 usage"
        );
        assert_eq!(
            micro_sign("--plot /tmp/5us.svg us"),
            "--plot /tmp/5us.svg us"
        );
        let mut c = Canvas::new();
        c.text(0.0, 0.0, Font::plain(9.0), "10 us");
        c.vertical_text(0.0, 0.0, Font::plain(9.0), "3us");
        let svg = c.finish(10.0);
        assert!(
            svg.contains(">10 µs</text>") && svg.contains(">3µs</text>"),
            "{svg}"
        );
    }

    #[test]
    fn a_document_has_its_size_and_its_shapes() {
        let mut c = Canvas::new();
        c.text(1.0, 2.0, Font::plain(12.0).bold(), "a<b");
        let style = Style {
            colour: "#123456",
            marker: Marker::Circle,
        };
        c.mark(3.0, 4.0, style, true, "tip");
        let svg = c.finish(300.0);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains(r#"width="900" height="300""#));
        assert!(svg.contains(r#"font-weight="bold">a&lt;b</text>"#));
        assert!(svg.contains(r##"fill="white" stroke="#123456""##));
    }

    #[test]
    fn a_shape_other_than_the_circle_is_a_polygon_around_its_centre() {
        let mut c = Canvas::new();
        let square = Style {
            colour: "#abcdef",
            marker: Marker::Square,
        };
        c.mark(10.0, 20.0, square, false, "sq");
        let svg = c.finish(100.0);
        assert!(svg.contains(
            r##"<polygon points="6.0,16.0 14.0,16.0 14.0,24.0 6.0,24.0" fill="#abcdef" stroke="#abcdef" stroke-width="2"><title>sq</title></polygon>"##
        ));
        assert_eq!(
            Marker::Cross.outline(),
            vec![
                (-2.0, -5.5),
                (2.0, -5.5),
                (2.0, -2.0),
                (5.5, -2.0),
                (5.5, 2.0),
                (2.0, 2.0),
                (2.0, 5.5),
                (-2.0, 5.5),
                (-2.0, 2.0),
                (-5.5, 2.0),
                (-5.5, -2.0),
                (-2.0, -2.0),
            ]
        );
        assert_eq!(
            Marker::Diamond.outline(),
            vec![(0.0, -5.5), (5.5, 0.0), (0.0, 5.5), (-5.5, 0.0)]
        );
        assert_eq!(Marker::Circle.outline(), vec![]);
    }
}
