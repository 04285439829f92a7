//! The faults a run can inject, as the command line names them. The rules each follows, and
//! how the ledger accounts for it, are in `engine/fault.rs` and in `docs/method.md`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::parse::{DisplayDuration, ParseError, parse_duration};

/// How long a stalled consumer stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stall {
    /// It resumes after this long.
    For(Duration),
    /// It never resumes: the watchdog has to end the run.
    Forever,
}

/// A fault injected into a run; the rules each follows are in `docs/method.md` (Faults).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// `consumer-panic[:K]`: the first consumer to receive `K` items panics holding the next.
    ConsumerPanic {
        /// Items received first; `None` means a quarter of an even consumer share.
        after: Option<u64>,
    },
    /// `consumer-stall[:DUR|forever]`: the first consumer to reach half of an even consumer share
    /// stops there.
    ConsumerStall {
        /// How long it stops.
        stall: Stall,
    },
    /// `producer-panic[:K]`: `producer-1` panics after sending `K` items, holding the next.
    ProducerPanic {
        /// Items sent first; `None` means half of its share.
        after: Option<u64>,
    },
    /// `close-storm[:N]`: `N` extra threads call `close()` at once at a seeded random moment.
    CloseStorm {
        /// How many threads close at once.
        closers: usize,
    },
    /// `lose-item`: a self-test of the verifier: the first consumer to receive an item throws it away
    /// without recording it, so the run must fail verification.
    LoseItem,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConsumerPanic { after: None } => f.write_str("consumer-panic"),
            Self::ConsumerPanic { after: Some(k) } => write!(f, "consumer-panic:{k}"),
            Self::ConsumerStall {
                stall: Stall::For(d),
            } => write!(f, "consumer-stall:{}", DisplayDuration(*d)),
            Self::ConsumerStall {
                stall: Stall::Forever,
            } => f.write_str("consumer-stall:forever"),
            Self::ProducerPanic { after: None } => f.write_str("producer-panic"),
            Self::ProducerPanic { after: Some(k) } => write!(f, "producer-panic:{k}"),
            Self::CloseStorm { closers } => write!(f, "close-storm:{closers}"),
            Self::LoseItem => f.write_str("lose-item"),
        }
    }
}

impl FromStr for Fault {
    type Err = ParseError;

    /// Parses the forms shown on each variant.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let (name, arg) = match s.split_once(':') {
            Some((name, arg)) => (name, Some(arg.trim())),
            None => (s, None),
        };
        let count = |arg: &str| {
            arg.parse::<u64>()
                .map_err(|_| ParseError::new(format!("`{arg}` is not an item count")))
        };
        match (name, arg) {
            ("consumer-panic", None) => Ok(Self::ConsumerPanic { after: None }),
            ("consumer-panic", Some(k)) => Ok(Self::ConsumerPanic {
                after: Some(count(k)?),
            }),
            ("consumer-stall", None) => Ok(Self::ConsumerStall {
                stall: Stall::For(Duration::from_millis(200)),
            }),
            ("consumer-stall", Some("forever")) => Ok(Self::ConsumerStall {
                stall: Stall::Forever,
            }),
            ("consumer-stall", Some(d)) => Ok(Self::ConsumerStall {
                stall: Stall::For(parse_duration(d)?),
            }),
            ("producer-panic", None) => Ok(Self::ProducerPanic { after: None }),
            ("producer-panic", Some(k)) => Ok(Self::ProducerPanic {
                after: Some(count(k)?),
            }),
            ("close-storm", None) => Ok(Self::CloseStorm { closers: 4 }),
            ("close-storm", Some(n)) => match n.parse::<usize>() {
                Ok(closers @ 1..=64) => Ok(Self::CloseStorm { closers }),
                _ => Err(ParseError::new(format!(
                    "`{n}` is not a closer count (1 to 64)"
                ))),
            },
            ("lose-item", None) => Ok(Self::LoseItem),
            _ => Err(ParseError::new(format!(
                "`{s}` is not a fault (consumer-panic[:K], consumer-stall[:DUR|forever], \
                 producer-panic[:K], close-storm[:N], lose-item)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_round_trip() {
        for text in [
            "consumer-panic",
            "consumer-panic:10",
            "consumer-stall:50ms",
            "consumer-stall:forever",
            "producer-panic",
            "producer-panic:7",
            "close-storm:3",
            "lose-item",
        ] {
            let fault: Fault = text.parse().unwrap();
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!(
            "close-storm".parse::<Fault>(),
            Ok(Fault::CloseStorm { closers: 4 })
        );
        for bad in [
            "panic",
            "close-storm:0",
            "producer-panic:x",
            "consumer-stall:5",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad:?} parsed");
        }
    }
}
