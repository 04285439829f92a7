//! What each message carries besides its header.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::ParseError;

/// What a message carries besides its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Payload {
    /// A `u64` (the default).
    U64,
    /// 64 bytes inline.
    Bytes64,
    /// A boxed 4 KiB block: one allocation per message, freed by the consumer.
    Boxed4K,
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::U64 => "u64",
            Self::Bytes64 => "bytes64",
            Self::Boxed4K => "boxed4k",
        })
    }
}

impl FromStr for Payload {
    type Err = ParseError;

    /// Parses `u64`, `bytes64` (or `64b`) and `boxed4k` (or `4k`).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "u64" => Ok(Self::U64),
            "bytes64" | "64b" | "64" => Ok(Self::Bytes64),
            "boxed4k" | "4k" | "4kib" | "box4k" => Ok(Self::Boxed4K),
            _ => Err(ParseError::new(format!(
                "`{s}` is not a payload (u64, bytes64, boxed4k)"
            ))),
        }
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
