//! What each message carries besides its header.

use std::fmt;

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
