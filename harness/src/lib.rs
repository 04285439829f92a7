//! The workload engine, verification ledger and reporters behind the `harness` command.

pub mod commands;
pub mod compare;
pub mod demo;
pub mod env;
pub mod fault;
mod item;
pub mod ledger;
pub mod measurement;
pub mod pipeline;
pub mod registry;
pub mod report;
pub mod run;
pub mod watchdog;
pub mod workload;

pub use ledger::{Ledger, Verification, Violation};
pub use measurement::Measurement;
pub use registry::{BackendVisitor, for_each_backend};
pub use run::{RunError, run};
pub use workload::Workload;
