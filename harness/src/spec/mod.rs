//! What to run: the [`Workload`] and the closed vocabulary it is built from ([`Topology`],
//! [`Policy`], [`Payload`], [`Fault`]), with the parsers for durations, rates and lists.
//!
//! Nothing here runs anything or knows a command-line flag; errors carry the offending value
//! and the command line names the flag.

mod fault;
mod parse;
mod payload;
mod policy;
mod topology;
mod workload;

pub use fault::{Fault, Stall};
pub use parse::{DisplayDuration, ParseError, parse_duration, parse_rate};
pub(crate) use parse::{counted, parse_capacities, parse_list, parse_topologies};
pub use payload::Payload;
pub use policy::Policy;
pub use topology::{Topology, Unrunnable};
pub use workload::{MAX_BATCH, MAX_PRIORITIES, MAX_THREADS, MIN_WATCHDOG, Workload, WorkloadError};
