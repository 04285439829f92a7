//! What to run: the [`Workload`] and the closed vocabulary it is built from ([`Topology`],
//! [`Policy`], [`Payload`], [`Fault`]), with the parsers for durations, rates and lists.
//!
//! Nothing here runs anything or knows a command-line flag; errors carry the offending value
//! and the command line names the flag.

mod delays;
mod fault;
mod parse;
mod payload;
mod policy;
mod topology;
mod workload;

pub use delays::{ConsumerDelays, MAX_DELAY_CYCLE};
pub use fault::{Fault, Stall};
pub use parse::{DisplayDuration, ParseError, parse_capacities, parse_duration, parse_rate};
pub(crate) use parse::{counted, parse_list, parse_topologies};
pub use payload::Payload;
pub use policy::Policy;
pub use topology::{Topology, Unrunnable};
pub use workload::{MAX_BATCH, MAX_PRIORITIES, MAX_THREADS, MIN_WATCHDOG, Workload, WorkloadError};

/// A value serialises as its `Display` text, so that a report shows it as the command line
/// writes it (`4:4`, `drop-oldest`, `boxed4k`).
macro_rules! serialize_as_text {
    ($($value:ty),*) => {$(
        impl serde::Serialize for $value {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    )*};
}

serialize_as_text!(Topology, Policy, Payload);
