//! The workload engine, verification ledger and reporters behind the `harness` command: the
//! same N:M producer-consumer workloads against every bounded-buffer backend, each run proved
//! complete and then measured.
//!
//! # Pieces
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`spec`] | [`Workload`], the builder with documented defaults, and the parsers for durations, rates, shapes, payloads, policies and faults |
//! | [`mod@run`] | [`run()`]: one workload against one backend, returning a [`Measurement`]; never prints |
//! | [`ledger`] | the [`Ledger`] that checks exactly-once, per-producer order, the accounting and payload drops |
//! | [`discipline`] | the priority and LIFO order checks, made from a log of sends and receives |
//! | [`measurement`] | wall and CPU time with their spread, latency percentiles, per-thread counts, blocked time, queue depth |
//! | [`registry`] | [`for_each_backend`], the one list of backends, walked with a [`BackendVisitor`] |
//! | [`item`] | [`item::ItemPriority`], the key the registry's priority backend reads the harness's items with |
//! | [`compare`] | a matrix of shapes and capacities over several backends, with ratios to a baseline |
//! | [`report`] | tables, JSON, CSV, Markdown and an SVG plot, with the [`mod@env`] header |
//! | [`fault`], [`watchdog`] | fault injection rules, and turning a hang into a report |
//! | [`pipeline`] | a producer-worker pipeline for embedding, over any backend |
//! | [`demo`] | a narrated small run for learners |
//! | [`commands`] | what the `harness` binary's subcommands do, and its exit codes |
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
//! # Method
//!
//! Every run spawns all threads, named `producer-N` and `consumer-N`, releases them through
//! one start gate, and takes its wall time as `max(end) - min(start)` over the workers' own
//! timestamps. Producers finish by dropping their handles. Each item carries its producer, its
//! sequence number and (one item in [`Workload::latency_sample_every`]) its send time. Warm-up
//! runs come first, then the measured repetitions, reported as median, min and max. CPU time is
//! the process's user + system time from `/proc/self/stat`, the same account as `getrusage`,
//! read without `unsafe` (see [`measurement`]).
//!
//! # Verification
//!
//! Every run, warm-ups included, is checked by the [`Ledger`]: every accepted item received
//! exactly once (an item `drop-oldest` evicted: never); per-producer order kept on FIFO
//! backends, among the delivered items (and on a priority backend whose
//! items all share one priority); with one consumer, no item received while a higher-priority
//! item was buffered on a priority backend, and with one producer too, none received while a
//! newer item was buffered on a LIFO backend, both checked from a log of sends and receives
//! (see [`discipline`]); `offered = delivered + handed back +
//! dropped by policy + evicted + timed out + in hand at a panic + discarded by the buffer`, item by item;
//! every payload dropped exactly once. A failed check names the first offending items, and the
//! binary exits with code 3.
//!
//! # Faults
//!
//! `consumer-panic`, `consumer-stall`, `producer-panic` and `close-storm` follow the rules in
//! [`fault`]; each keeps the ledger whole. `lose-item` is a self-test of the verifier. A watchdog
//! ends a run in which no thread makes progress, naming what each thread was doing (exit
//! code 4).
//!
//! # Exit codes of the binary
//!
//! 0 success, 1 I/O or internal error, 2 usage error, 3 correctness violation, 4 watchdog. See
//! [`commands::Exit`].
//!
//! # JSON output (`--format json`)
//!
//! One object ([`report::Report`]):
//!
//! | field | meaning |
//! | --- | --- |
//! | `schema_version` | [`report::SCHEMA_VERSION`] (1); changes when a field is renamed or removed |
//! | `command` | `"run"` or `"compare"` |
//! | `environment` | [`env::Environment`]: `cpu`, `cores`, `available_parallelism`, `os`, `kernel`, `rustc`, `commit`, `date` (UTC), `profile`, `harness_version` |
//! | `baseline` | the ratio baseline (compare), else `null` |
//! | `backends` | backend names in column order |
//! | `results` | one [`report::ResultEntry`] per workload and backend that ran |
//! | `skipped` | cells that could not run (`backend`, `shape`, `capacity`, `reason`) |
//! | `failures` | runs that ended in an error (`backend`, `shape`, `capacity`, `error`, `watchdog`) |
//!
//! Each result holds the whole [`Measurement`] at its top level plus two comparison fields:
//!
//! | field | meaning |
//! | --- | --- |
//! | `backend` | the backend's `NAME` |
//! | `shape` | `seq` or `P:C` |
//! | `ratio` | median throughput / the baseline's in the same shape and capacity (compare), else `null` |
//! | `workload` | [`Workload`]: `producers`, `consumers`, `capacity`, `messages`, `payload`, `batch`, `policy`, `priorities`, `producer_delay_ns`, `consumer_delay_ns`, `rate_per_s`, `repeats`, `warmup`, `seed`, `fault`, `sequential`, `latency_sample_every`, `blocked_time`, `watchdog_ns` |
//! | `repetitions` | per measured repetition: `wall_s`, `user_s`, `sys_s`, `delivered`, `msgs_per_s`, `offered`, `shed`, `timed_out`, `send_rate` |
//! | `wall_s`, `throughput` | `median`, `min`, `max` over the repetitions (seconds; messages per second) |
//! | `load` | [`measurement::Load`]: `offered`, `shed` (dropped by `drop-newest` + evicted by `drop-oldest`), `timed_out`, `shed_fraction`, `timed_out_fraction`, `shed_per_s`, `timed_out_per_s`, `send_rate`, `target_rate` (`--rate`), `kept_up` (`null` without a rate) |
//! | `cpu` | `user_s`, `sys_s` (summed over repetitions), `utilisation` (cores busy), `ns_per_message`, `available`, `tick_s` |
//! | `latency` | `samples`, `sample_every`, `p50_ns`, `p90_ns`, `p99_ns`, `p999_ns`, `max_ns`, `mean_ns`; `null` without samples |
//! | `producers` | per producer: `thread`, `produced`, `handed_back`, `dropped_by_policy`, `evicted`, `timed_out`, `blocked_s` (`null` when not measured) |
//! | `consumers` | per consumer: `thread`, `consumed`, `blocked_s` |
//! | `depth` | `capacity`, `samples`, `buckets` of `from`, `to`, `count` |
//! | `verification` | [`Verification`]: `ok`, `runs`, `planned`, `offered`, `delivered`, `handed_back`, `dropped_by_policy`, `evicted`, `timed_out`, `in_hand_at_panic`, `discarded_by_buffer`, `not_offered`, `lost`, `duplicated`, `reordered`, `unexpected`, `payloads_dropped`, `order_checked`, `discipline_checked`, `violation_count`, `violations` (objects with a `kind`), `first_failure` |
//! | `fault` | `fault`, `triggered_runs`, `runs`; `null` without a fault |
//!
//! Counts that cover a run (per-thread counts, blocked time, latency, depth) are summed over
//! the measured repetitions; `verification` covers every run, warm-ups included.

pub mod cli;
pub mod compare;
mod demo;
pub mod engine;
pub mod measure;
pub mod pipeline;
pub mod registry;
pub mod report;
pub mod spec;
pub mod verify;

pub use engine::{RunError, run};
pub use measure::Measurement;
pub use registry::{BackendVisitor, for_each_backend};
pub use spec::Workload;
pub use verify::{Verification, Violation};
