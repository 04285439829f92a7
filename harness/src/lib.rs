//! The workload engine, verification ledger and reporters behind the `harness` command: the
//! same N:M producer-consumer workloads against every bounded-buffer backend, each run proved
//! complete and then measured.
//!
//! # Layout
//!
//! Each folder is one layer and depends only on the layers above it in this list.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`spec`] | what to run: [`Workload`], [`spec::Topology`], [`spec::Policy`], [`spec::Payload`], [`spec::Fault`], parsing of durations and rates |
//! | [`verify`] | whether a run was correct: the ledger, the [`Violation`]s, the order checks, and the rules that pick which order checks a run makes and how it proves exactly once (item by item, or by count and fingerprint) |
//! | [`measure`] | what a run measured: [`Measurement`] and its parts, and the statistics over repetitions |
//! | [`engine`] | how to run it: [`run()`], the shared state, the producer, consumer and `seq` loops, the spawner and watchdog loop, items; one role per file |
//! | [`registry`] | the one list of backends, walked with a [`BackendVisitor`] |
//! | [`compare`] | the matrix of topologies, capacities and policies over several backends |
//! | [`report`] | a typed model of the results and one renderer per format (table, markdown, csv, json, and the SVG pictures); also the backend list (`harness list`) and the demo's receive order |
//! | [`cli`] | the commands and `main`: parses, dispatches and maps errors to exit codes; the only place that knows flag names and exit codes |
//!
//! A narrated small run for learners (`harness demo`) sits beside them in `demo.rs`.
//!
//! # Where to change what
//!
//! | to add | touch |
//! | --- | --- |
//! | a backend | an adapter crate with a marker type implementing `buffer_api::Backend`; one line in [`registry::for_each_backend`] and its dependency in `harness/Cargo.toml`. The command line, the tests, the benches and `buffer-pipeline`'s tests walk the registry; the plots give each backend a style by its place in it. For `harness calibrate` to measure it against its own crate, a bare loop over the raw crate in `engine/bare.rs`. |
//! | a report format | a variant of [`report::Format`] and its `--help` name in the `clap::ValueEnum` impl in `cli/args.rs`, a renderer file in `report/` (`impl Report { fn ...(&self) -> String }`), one arm in [`report::Report::render`] and one in `report/list.rs` (`harness list`) |
//! | a topology kind | a variant of [`spec::Topology`] in `spec/topology.rs` with all it means: its text and parse, its thread counts and names, whether it takes faults, and which cells it can run ([`spec::Topology::accepts`], which the comparison, the reports, `calibrate` and the benches ask); how its threads are spawned in `engine/once.rs`; its loop in a file of `engine/` with its `mod` line in `engine/mod.rs`; its bare loop for `calibrate` in `engine/bare.rs`. |
//! | a policy | a variant of [`spec::Policy`] with its text in `spec/policy.rs`; how a producer offers under it in `engine/producer.rs` (`offer`); a new way of refusing an item is a `Refusal` in `verify/records.rs`, counted by the ledger and in [`Verification`]; a capability it needs is checked in `engine/error.rs` ([`engine::Unsupported`]); the load line in `report/text.rs` |
//! | a fault | a variant of [`spec::Fault`] with its text in `spec/fault.rs`; its concrete plan and its rule in `engine/fault.rs`; where it fires in `engine/producer.rs`, `engine/consumer.rs` or (extra threads) `engine/once.rs`; what the ledger may then allow in `engine/outcome.rs` (`RunFacts`), and, if it lets items go unnamed by any producer, its runs checked by the full ledger in `verify/exactness.rs`; any wait it adds in the watchdog timeout in `engine/once.rs` |
//!
//! # Public API
//!
//! What benches, examples, tests and embedders use; everything else is crate-private.
//!
//! - running: [`run()`], [`engine::run_observed`] with [`engine::Progress`], [`RunError`]
//!   (with [`engine::Unsupported`] and [`engine::WatchdogReport`]), [`engine::ItemPriority`]
//! - describing a run: [`Workload`] and the [`spec`] vocabulary, [`spec::parse_duration`],
//!   [`spec::parse_rate`], [`spec::DisplayDuration`]
//! - results: [`Measurement`] and the [`measure`] types it holds, [`Verification`],
//!   [`Violation`], [`verify::OrderCheck`]
//! - backends: [`for_each_backend`], [`BackendVisitor`], [`registry::names`],
//!   [`registry::backends`]
//! - comparisons and reports: [`compare::Matrix`] (with [`compare::quick`]),
//!   [`compare::run_matrix`], [`report::Report`] and its renderers, [`report::Environment`]
//! - the binary: [`cli::main`]
//!
//! The callback pipeline for embedding, over any backend, is its own crate, `buffer-pipeline`.
//!
//! # Running a workload
//!
//! ```
//! use harness::registry::{BackendVisitor, for_each_backend};
//! use harness::{Workload, run};
//!
//! struct Check(Workload);
//! impl BackendVisitor for Check {
//!     fn visit<B: buffer_api::Backend>(&mut self) {
//!         let m = run::<B>(&self.0).expect("the workload is valid");
//!         assert!(m.verification.ok, "{}: {}", B::NAME, m.verification.summary());
//!         assert_eq!(m.verification.delivered, 3 * 1_001);
//!     }
//! }
//! let small = Workload::new().producers(3).consumers(2).capacity(8).messages(1_001).repeats(2);
//! for_each_backend(&mut Check(small));
//! ```
//!
//! # Method and verification
//!
//! How a run is timed, what CPU time and latency mean, and every check the ledger makes are
//! explained in `docs/method.md`; the behaviour every backend must show, with the test that
//! checks each item, in `docs/conformance.md`. In short: all threads start through one gate
//! and the wall time is `max(end) - min(start)` of the workers' own timestamps; every run,
//! warm-ups included, is verified (exactly once, per-producer order where the backend keeps
//! it, the declared priority or LIFO order from a log of sends and receives, the accounting,
//! every payload dropped once). Warm-ups prove exactly once item by item and name the first
//! offending items; measured repetitions prove it by count and fingerprint, which says which of
//! the two disagreed.
//!
//! # Exit codes of the binary
//!
//! 0 success, 1 I/O or internal error, 2 usage error, 3 correctness violation, 4 watchdog.
//!
//! # JSON output
//!
//! `--format json` writes the [`report::Report`] as it stands; its fields, and those of the
//! types it holds, are documented on the types themselves (see [`report`]).

pub mod cli;
pub mod compare;
mod demo;
pub mod engine;
pub mod measure;
pub mod registry;
pub mod report;
pub mod spec;
pub mod verify;

pub use engine::{RunError, run};
pub use measure::Measurement;
pub use registry::{BackendVisitor, for_each_backend};
pub use spec::Workload;
pub use verify::{Verification, Violation};
