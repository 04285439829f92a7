//! What each message carries besides its header.

use std::fmt;

use serde::{Serialize, Serializer};

/// What a message carries besides its header.
/// On the command line: `u64`, `bytes64` (or `64b`) and `boxed4k` (or `4k`), any case.
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

// Written out rather than derived: a derived `ValueEnum` shows each variant's docs as a help
// line, which switches clap's whole `--help` to its long layout.
impl clap::ValueEnum for Payload {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::U64, Self::Bytes64, Self::Boxed4K]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            Self::U64 => PossibleValue::new("u64"),
            Self::Bytes64 => PossibleValue::new("bytes64").aliases(["64b", "64"]),
            Self::Boxed4K => PossibleValue::new("boxed4k").aliases(["4k", "4kib", "box4k"]),
        })
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
