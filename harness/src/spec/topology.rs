//! The topology of a workload: `seq` or `P:C` threads. (Reports call it the *shape*, in
//! their `shape` column and field.)

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::ParseError;

/// The topology of a workload: `seq` (one thread) or `P:C` threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topology {
    /// One thread that alternates sending and receiving.
    Seq,
    /// Separate producer and consumer threads.
    Threads {
        /// Producer threads.
        producers: usize,
        /// Consumer threads.
        consumers: usize,
    },
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Seq => f.write_str("seq"),
            Self::Threads {
                producers,
                consumers,
            } => write!(f, "{producers}:{consumers}"),
        }
    }
}

impl FromStr for Topology {
    type Err = ParseError;

    /// Parses `seq` or `P:C` with both counts at least 1.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("seq") {
            return Ok(Self::Seq);
        }
        let bad = || ParseError::new(format!("`{s}` is not a topology (`seq` or P:C, like 4:1)"));
        let (p, c) = s.split_once(':').ok_or_else(bad)?;
        let producers: usize = p.trim().parse().map_err(|_| bad())?;
        let consumers: usize = c.trim().parse().map_err(|_| bad())?;
        if producers == 0 || consumers == 0 {
            return Err(ParseError::new(format!(
                "`{s}`: producers and consumers must be at least 1"
            )));
        }
        Ok(Self::Threads {
            producers,
            consumers,
        })
    }
}

impl Serialize for Topology {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
