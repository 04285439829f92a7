//! [`ConsumerDelays`]: the simulated work of each consumer, the same for all or uneven.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::parse::{DisplayDuration, ParseError, parse_duration, parse_list};

/// The most delays one cycle may list.
pub const MAX_DELAY_CYCLE: usize = 64;

/// Simulated work after each receive, per consumer: a cycle of delays, consumer `i` doing the
/// `i % len`-th. One delay is every consumer's (`20us`); several make consumers of uneven
/// speed (`0,0,0,50us`: every fourth consumer takes 50 µs per item, the others none), at any
/// consumer count.
///
/// In JSON (`consumer_delay_ns`): nanoseconds, one number when every consumer has the same
/// delay, else the cycle as an array.
///
/// ```
/// use std::time::Duration;
/// use harness::spec::ConsumerDelays;
///
/// let uneven: ConsumerDelays = "0,0,0,50us".parse().unwrap();
/// assert_eq!(uneven.of(3), Duration::from_micros(50));
/// assert_eq!(uneven.of(6), Duration::ZERO);
/// assert_eq!(uneven.to_string(), "0,0,0,50us");
/// assert!("1ms,".parse::<ConsumerDelays>().is_ok());
/// assert!("".parse::<ConsumerDelays>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerDelays(Vec<Duration>);

impl ConsumerDelays {
    /// Every consumer does `delay`.
    pub fn uniform(delay: Duration) -> Self {
        Self(vec![delay])
    }

    /// The delay of consumer `index` (0-based).
    pub fn of(&self, index: usize) -> Duration {
        self.0[index % self.0.len()]
    }

    /// The longest delay of the cycle.
    pub fn longest(&self) -> Duration {
        self.0.iter().copied().max().unwrap_or_default()
    }

    /// Whether no consumer has a delay.
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(Duration::is_zero)
    }

    /// Seconds the consumers of a shared queue would spend on `messages` items in all, if
    /// each took items in proportion to its speed: with `consumers` threads of rates `1/d`,
    /// `messages / Σ 1/d`; 0 when some consumer has no delay (the delays do not set the pace).
    pub fn planned_seconds(&self, messages: f64, consumers: usize) -> f64 {
        let delays: Vec<f64> = (0..consumers).map(|i| self.of(i).as_secs_f64()).collect();
        if delays.contains(&0.0) {
            return 0.0;
        }
        messages / delays.iter().map(|d| 1.0 / d).sum::<f64>()
    }
}

impl Default for ConsumerDelays {
    fn default() -> Self {
        Self::uniform(Duration::ZERO)
    }
}

impl FromStr for ConsumerDelays {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let delays = parse_list(s, parse_duration)?;
        if delays.len() > MAX_DELAY_CYCLE {
            return Err(ParseError::new(format!(
                "{} delays: a cycle lists at most {MAX_DELAY_CYCLE}",
                delays.len()
            )));
        }
        if delays.iter().all(|d| *d == delays[0]) {
            return Ok(Self::uniform(delays[0]));
        }
        Ok(Self(delays))
    }
}

impl fmt::Display for ConsumerDelays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, delay) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", DisplayDuration(*delay))?;
        }
        Ok(())
    }
}

impl Serialize for ConsumerDelays {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let nanos = |d: &Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        match self.0.as_slice() {
            [one] => serializer.serialize_u64(nanos(one)),
            cycle => serializer.collect_seq(cycle.iter().map(nanos)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cycles_and_refuses_bad_ones() {
        let even: ConsumerDelays = "20us, 20us".parse().unwrap();
        assert_eq!(even, ConsumerDelays::uniform(Duration::from_micros(20)));
        let uneven: ConsumerDelays = "0,1ms".parse().unwrap();
        assert_ne!(uneven, ConsumerDelays::uniform(Duration::ZERO));
        assert_eq!(uneven.longest(), Duration::from_millis(1));
        assert_eq!(
            "0,-1ms".parse::<ConsumerDelays>().unwrap_err().to_string(),
            "`-1ms`: a duration cannot be negative"
        );
        let long = vec!["1us"; MAX_DELAY_CYCLE + 1].join(",");
        assert_eq!(
            long.parse::<ConsumerDelays>().unwrap_err().to_string(),
            "65 delays: a cycle lists at most 64"
        );
    }

    #[test]
    fn serialises_a_number_or_the_cycle() {
        let json = |d: &str| serde_json::to_string(&d.parse::<ConsumerDelays>().unwrap());
        assert_eq!(json("2us").unwrap(), "2000");
        assert_eq!(json("0,0,3us").unwrap(), "[0,0,3000]");
    }

    #[test]
    fn plans_by_the_consumers_rates() {
        let d: ConsumerDelays = "1ms,3ms".parse().unwrap();
        // Rates 1000/s and 333/s: 4 items take 3 ms.
        assert!((d.planned_seconds(4.0, 2) - 0.003).abs() < 1e-12);
        assert_eq!(ConsumerDelays::default().planned_seconds(1e6, 4), 0.0);
    }
}
