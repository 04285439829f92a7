//! What a producer does when the buffer is full.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::parse::{DisplayDuration, ParseError, parse_duration};

/// What a producer does when the buffer is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Wait for room (`send`, or `send_batch` when batching).
    Block,
    /// Wait at most this long (`send_timeout`); an item that times out is counted and the
    /// producer goes on with its next item.
    Timeout(Duration),
    /// Drop the item being sent (`try_send`); it is counted as dropped by policy.
    DropNewest,
    /// On a full buffer, evict the oldest buffered item and insert the new one in one atomic
    /// step (`force_send`); the evicted item comes back to the producer and is counted as
    /// evicted. Only backends declaring `Capabilities::drop_oldest` offer it.
    DropOldest,
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Block => f.write_str("block"),
            Self::Timeout(d) => write!(f, "timeout:{}", DisplayDuration(*d)),
            Self::DropNewest => f.write_str("drop-newest"),
            Self::DropOldest => f.write_str("drop-oldest"),
        }
    }
}

impl FromStr for Policy {
    type Err = ParseError;

    /// Parses `block`, `timeout:<duration>`, `drop-newest` and `drop-oldest`.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        match s {
            "block" => Ok(Self::Block),
            "drop-newest" => Ok(Self::DropNewest),
            "drop-oldest" => Ok(Self::DropOldest),
            _ => match s.strip_prefix("timeout:") {
                Some(d) => Ok(Self::Timeout(parse_duration(d)?)),
                None => Err(ParseError::new(format!(
                    "`{s}` is not a policy (block, timeout:<dur>, drop-newest, drop-oldest)"
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies() {
        assert_eq!("block".parse(), Ok(Policy::Block));
        assert_eq!("drop-newest".parse(), Ok(Policy::DropNewest));
        assert_eq!(
            "timeout:5ms".parse(),
            Ok(Policy::Timeout(Duration::from_millis(5)))
        );
        assert_eq!("drop-oldest".parse(), Ok(Policy::DropOldest));
        assert_eq!(Policy::DropOldest.to_string(), "drop-oldest");
        assert!("timeout:-1ms".parse::<Policy>().is_err());
        assert!("wait".parse::<Policy>().is_err());
        assert_eq!(
            Policy::Timeout(Duration::from_millis(5)).to_string(),
            "timeout:5ms"
        );
    }
}
