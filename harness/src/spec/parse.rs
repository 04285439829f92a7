//! Parsing of durations, rates and comma-separated lists, and the one-line [`ParseError`].

use std::fmt;
use std::time::Duration;

use serde::Serializer;

use super::Topology;

/// A value on the command line that could not be parsed; `Display` says why in one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(String);

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// Parses a duration: a non-negative decimal number followed by a unit `ns`, `us` (or `µs`),
/// `ms`, `s` or `min`. `0` alone is accepted.
///
/// ```
/// use std::time::Duration;
/// use harness::spec::parse_duration;
///
/// assert_eq!(parse_duration("1.5ms"), Ok(Duration::from_micros(1500)));
/// assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
/// assert!(parse_duration("-5ms").is_err());
/// assert!(parse_duration("5").is_err());
/// ```
///
/// # Errors
///
/// A negative, unit-less, unparsable or overflowing value.
pub fn parse_duration(s: &str) -> Result<Duration, ParseError> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.starts_with('-') {
        return Err(ParseError::new(format!(
            "`{s}`: a duration cannot be negative"
        )));
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| {
            ParseError::new(format!(
                "`{s}` needs a unit: ns, us, ms, s or min (as in 10ms)"
            ))
        })?;
    let (number, unit) = s.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| ParseError::new(format!("`{s}` is not a duration (as in 10ms, 1.5s)")))?;
    let scale = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "min" => 60.0,
        _ => {
            return Err(ParseError::new(format!(
                "`{s}`: unknown unit `{unit}` (ns, us, ms, s, min)"
            )));
        }
    };
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| ParseError::new(format!("`{s}` is too long a duration")))
}

/// Parses a rate in messages per second: a positive number with an optional `k`, `M` or `G`
/// suffix and an optional `/s`, as in `50k` or `2.5M/s`.
///
/// # Errors
///
/// Zero, negative or unparsable values.
pub fn parse_rate(s: &str) -> Result<f64, ParseError> {
    let trimmed = s.trim();
    let body = trimmed.strip_suffix("/s").unwrap_or(trimmed);
    let (number, scale) = match body.char_indices().last() {
        Some((i, 'k' | 'K')) => (&body[..i], 1e3),
        Some((i, 'M')) => (&body[..i], 1e6),
        Some((i, 'G')) => (&body[..i], 1e9),
        _ => (body, 1.0),
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * scale),
        _ => Err(ParseError::new(format!(
            "`{trimmed}` is not a positive rate in messages per second (as in 50k)"
        ))),
    }
}

/// Parses a comma-separated list with `parse_one`, refusing an empty list.
///
/// # Errors
///
/// The first element that does not parse, or an empty list.
pub(crate) fn parse_list<T>(
    s: &str,
    parse_one: impl Fn(&str) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    let items: Vec<T> = s
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(parse_one)
        .collect::<Result<_, _>>()?;
    if items.is_empty() {
        return Err(ParseError::new("the list is empty"));
    }
    Ok(items)
}

/// Parses `seq,1:1,4:1,...`.
///
/// # Errors
///
/// As [`parse_list`] with [`Topology::from_str`].
pub(crate) fn parse_topologies(s: &str) -> Result<Vec<Topology>, ParseError> {
    parse_list(s, str::parse)
}

/// Parses a comma-separated list of capacities, `0,1,64,1024`, as `--capacities` reads it.
///
/// # Errors
///
/// An element that is not a capacity, or an empty list.
pub fn parse_capacities(s: &str) -> Result<Vec<usize>, ParseError> {
    parse_list(s, |part| {
        part.parse()
            .map_err(|_| ParseError::new(format!("`{part}` is not a capacity")))
    })
}

/// Shows a duration the way [`parse_duration`] reads it back: `1.5ms`, `200ms`, `3s`.
#[derive(Clone, Copy, Debug)]
pub struct DisplayDuration(pub Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos();
        let (value, unit) = if ns == 0 {
            return f.write_str("0");
        } else if ns < 1_000 {
            (ns as f64, "ns")
        } else if ns < 1_000_000 {
            (ns as f64 / 1e3, "us")
        } else if ns < 1_000_000_000 {
            (ns as f64 / 1e6, "ms")
        } else {
            (ns as f64 / 1e9, "s")
        };
        // Up to three decimals, without trailing zeros.
        let text = format!("{value:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        write!(f, "{text}{unit}")
    }
}

pub(super) fn nanos<S: Serializer>(d: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

pub(super) fn display_option<S: Serializer, T: fmt::Display>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.collect_str(v),
        None => serializer.serialize_none(),
    }
}

/// `n` and the noun, plural unless `n` is 1: `1 repetition`, `5 repetitions`.
pub(crate) fn counted(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("250µs"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("100ns"), Ok(Duration::from_nanos(100)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1min"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration(" 0 "), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0ms"), Ok(Duration::ZERO));
        for bad in ["", "ms", "5", "-1ms", "1.2.3ms", "3h", "1e400s", "abc"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn durations_round_trip_through_display() {
        for text in ["1.5ms", "200ms", "3s", "17ns", "250us", "0"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(DisplayDuration(d).to_string(), text);
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert_eq!(parse_rate("50k"), Ok(50_000.0));
        assert_eq!(parse_rate("2.5M/s"), Ok(2_500_000.0));
        for bad in ["0", "-3", "k", "fast", ""] {
            assert!(parse_rate(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn topologies_and_capacities() {
        assert_eq!(
            parse_topologies("seq, 1:1,4:1").unwrap(),
            vec![
                Topology::Seq,
                Topology::Threads {
                    producers: 1,
                    consumers: 1
                },
                Topology::Threads {
                    producers: 4,
                    consumers: 1
                },
            ]
        );
        assert!(parse_topologies("0:1").is_err());
        assert!(parse_topologies("4").is_err());
        assert!(parse_topologies("").is_err());
        assert_eq!(parse_capacities("0,1,64").unwrap(), vec![0, 1, 64]);
        assert!(parse_capacities("1,x").is_err());
    }
}
