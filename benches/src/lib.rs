//! Criterion benchmarks over the harness workloads and the backend registry. The bench targets
//! live in `benches/`; this library holds what they share.
//!
//! # Running
//!
//! ```text
//! cargo bench -p benches                      # everything, default profile
//! cargo bench -p benches --bench workloads    # the seven workload groups
//! cargo bench -p benches -- spsc/crossbeam    # a filter (a regex over the IDs)
//! cargo bench -p benches -- --quick           # a quick pass over every benchmark
//! BENCH_FULL=1 cargo bench -p benches         # the full matrix
//! ```
//!
//! The HTML report is written to `target/criterion/report/index.html`.
//!
//! # Groups and IDs
//!
//! IDs are `<group>/<function>/<capacity>`, built from the table of named topologies,
//! `Backend::NAME` and the capacity.
//!
//! | group | what runs | functions |
//! | --- | --- | --- |
//! | `seq` | one thread sends `min(capacity, remaining)`, then receives them | `<backend>`, `<backend>-batch64` |
//! | `spsc`, `mpsc`, `spmc`, `mpmc` | 1:1, 4:1, 1:4, 4:4 producer and consumer threads | `<backend>`, `<backend>-batch64` |
//! | `oversubscribed` | 16:16 threads, more than cores | `<backend>`, `<backend>-batch64` |
//! | `uneven` | 4:4, every fourth consumer taking 20 µs per item (`harness::compare::UNEVEN_CONSUMER_DELAYS`), at capacities 1 and 1024 | `<backend>`, `<backend>-batch64` |
//! | `adapter-seq`, `adapter-spsc` | each raw backend next to its exact-close twin | `<backend>` (for example `crossbeam`, then `crossbeam-close`) |
//!
//! The six topology groups run every backend of [`harness::registry::for_each_backend`] at
//! capacities 0 (only where `Backend::CAPABILITIES.rendezvous`, and never in `seq`), 1, 64 and
//! 1024, so a backend added to the registry is benchmarked with no change here. The
//! `-batch64` variants use `send_batch`/`recv_batch` with 64 items per call: the backend's
//! native batches where it declares them, the trait's fallback otherwise. Every group sets
//! `Throughput::Elements` to the messages of one iteration.
//!
//! # Timing
//!
//! - **Workload groups**: one criterion iteration is one run of [`harness::run()`], the function
//!   the `harness` command line uses, on the base workload of `harness compare` (see
//!   [`workloads::base_workload`]), with one repetition and no warm-up; the benchmark is an
//!   `iter_custom` that returns the sum of the harness's wall times. The harness spawns every
//!   thread first, releases them through one start gate, and takes the wall time as
//!   `max(worker end) - min(worker start)` from the workers' own timestamps, so building the
//!   buffer, spawning and joining threads and verifying are not timed, and nothing prints.
//!   Every run is verified (exactly once, per-producer order, accounting); a violation, or fewer
//!   messages delivered than sent, panics the benchmark.
//! - **Adapter-overhead groups** (what exact close costs): the loops in [`overhead`] are
//!   written once, generic over a small [`Channel`] trait, and run for each raw backend and its
//!   exact-close twin, the pairs that the registry's close backends declare in
//!   `Backend::ADDS_CLOSE_TO` (today `crossbeam` with `crossbeam-close`, `flume` with
//!   `flume-close`), so the two differ only in the adapter. `seq` runs on the benchmark thread
//!   and times the loop alone; `spsc` spawns its two threads first and times them like the
//!   harness. Both check every value
//!   arrives once and in order.
//!
//! All groups use flat sampling: an iteration takes milliseconds to seconds, and flat sampling
//! keeps a slow cell at `sample_size` iterations.
//!
//! # Profiles and `BENCH_FULL`
//!
//! | | default | `BENCH_FULL=1` |
//! | --- | --- | --- |
//! | messages per iteration | 20,000 | 200,000 |
//! | samples | 10 | 20 |
//! | warm-up, measurement per benchmark | 0.5 s, 2 s | 2 s, 10 s |
//! | bootstrap resamples | 10,000 | 100,000 (criterion's default) |
//! | batch variants at capacities | 1024 | 64, 1024 |
//! | adapter overhead at capacities | 1, 1024 | 0 (spsc), 1, 64, 1024 |
//!
//! [`FULL_ENV`] (`BENCH_FULL`) takes `1`, `true`, `yes` or `on` for the full profile and `0`,
//! `false`, `no`, `off` or nothing for the default; anything else panics rather than silently
//! running the other profile. Criterion's own flags (`--sample-size`, `--warm-up-time`,
//! `--measurement-time`, `--nresamples`, `--quick`) override either profile. The default
//! profile resamples less because drawing the bootstrap distributions for the HTML report
//! costs time in proportion (about 8 s per benchmark at 100,000 on 2 cores).
//!
//! The measured time of a benchmark is its warm-up plus measurement time; on top come the
//! untimed thread spawning and verification of every iteration (up to about as much again for
//! short iterations with 32 threads) and criterion's analysis. A cell whose single iteration
//! takes longer than `measurement / samples` (a backend that parks on every message at
//! capacity 0 or 1) runs `samples` iterations however long they take.
//!
//! Ratios between backends are only meaningful within one run on one machine: absolute
//! numbers on small shared machines move with the host (see `docs/method.md`). For the
//! numbers the README reports, with CPU time and spread, use `harness compare`.

pub mod overhead;
pub mod profile;
pub mod workloads;

pub use overhead::{Adapter, Channel, OVERHEAD_TOPOLOGIES, bench_overhead};
pub use profile::{BATCH, CAPACITIES, FULL_ENV, Profile};
pub use workloads::{
    NamedTopology, TOPOLOGIES, base_workload, bench_topology, bench_uneven, bench_workload, measure,
};
