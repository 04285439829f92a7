//! The workload groups: one criterion group per topology, every backend of the registry at every
//! capacity, each iteration one verified run of the harness's own [`harness::run()`].

use std::time::Duration;

use buffer_api::Backend;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use harness::compare::{Matrix, UNEVEN_CAPACITIES, UNEVEN_CONSUMER_DELAYS};
use harness::registry::{BackendVisitor, for_each_backend};
use harness::spec::{Topology, parse_capacities};
use harness::{Workload, run};

use crate::profile::{BATCH, CAPACITIES, Profile};

/// A topology with its name: the criterion group's name and the harness topology it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamedTopology {
    /// The group name, from the vocabulary in `docs/method.md`.
    pub name: &'static str,
    /// Producer and consumer threads, or one thread for `seq`.
    pub topology: Topology,
}

impl NamedTopology {
    const fn threads(name: &'static str, producers: usize, consumers: usize) -> Self {
        Self {
            name,
            topology: Topology::Threads {
                producers,
                consumers,
            },
        }
    }
}

/// One thread: sends `min(capacity, remaining)`, then receives them.
pub const SEQ: NamedTopology = NamedTopology {
    name: "seq",
    topology: Topology::Seq,
};
/// One producer, one consumer.
pub const SPSC: NamedTopology = NamedTopology::threads("spsc", 1, 1);
/// Four producers, one consumer.
pub const MPSC: NamedTopology = NamedTopology::threads("mpsc", 4, 1);
/// One producer, four consumers.
pub const SPMC: NamedTopology = NamedTopology::threads("spmc", 1, 4);
/// Four producers, four consumers.
pub const MPMC: NamedTopology = NamedTopology::threads("mpmc", 4, 4);
/// Sixteen producers, sixteen consumers: more threads than cores.
pub const OVERSUBSCRIBED: NamedTopology = NamedTopology::threads("oversubscribed", 16, 16);

/// Every named topology, in the order the groups run.
pub const TOPOLOGIES: [NamedTopology; 6] = [SEQ, SPSC, MPSC, SPMC, MPMC, OVERSUBSCRIBED];

/// Registers the group for `topology`: for every capacity in [`CAPACITIES`], every backend of the
/// registry with single-item calls (ID `<topology>/<backend>/<capacity>`), then, at the profile's
/// batch capacities, every backend with [`BATCH`]-item calls (`<topology>/<backend>-batch64/<capacity>`).
///
/// A cell runs where the topology accepts it ([`Topology::accepts`]): capacity 0 only for
/// backends that declare rendezvous, and not in `seq`.
pub fn bench_topology(c: &mut Criterion, named: NamedTopology, profile: &Profile) {
    let base = base_workload().topology(named.topology);
    bench_group(c, named.name, &base, &CAPACITIES, profile);
}

/// Registers the `uneven` group: 4:4 with consumers of uneven speed
/// ([`harness::compare::UNEVEN_CONSUMER_DELAYS`]: every fourth consumer takes 20 µs per item,
/// the others nothing), at [`harness::compare::UNEVEN_CAPACITIES`], as [`bench_topology`]
/// registers a topology.
pub fn bench_uneven(c: &mut Criterion, profile: &Profile) {
    let delays = UNEVEN_CONSUMER_DELAYS
        .parse()
        .expect("the uneven delays parse");
    let base = base_workload()
        .topology(MPMC.topology)
        .consumer_delay(delays);
    let capacities = parse_capacities(UNEVEN_CAPACITIES).expect("the uneven capacities parse");
    bench_group(c, "uneven", &base, &capacities, profile);
}

/// One group named `name`: `base` at each of `capacities`, every backend of the registry that
/// accepts the cell, single items and, at the profile's batch capacities, batches.
fn bench_group(
    c: &mut Criterion,
    name: &str,
    base: &Workload,
    capacities: &[usize],
    profile: &Profile,
) {
    let mut group = c.benchmark_group(name);
    // Iterations take milliseconds to seconds: flat sampling keeps a slow cell at
    // `sample_size` iterations instead of the 55 that linear sampling needs at least.
    group.sampling_mode(SamplingMode::Flat);
    for &capacity in capacities {
        let workload = base.clone().capacity(capacity).messages(profile.messages);
        if workload.topology.fits(capacity).is_err() {
            continue;
        }
        if let Err(e) = workload.validate() {
            panic!("{name}, capacity {capacity}: {e}");
        }
        for_each_backend(&mut Register {
            group: &mut group,
            workload: workload.clone(),
            batch: None,
        });
        if profile.batch_capacities.contains(&capacity) {
            for_each_backend(&mut Register {
                group: &mut group,
                workload: workload.batch(BATCH),
                batch: Some(BATCH),
            });
        }
    }
    group.finish();
}

/// The workload `harness compare` runs (the same payload, policy, latency sampling, and no
/// blocked-time probe), so criterion and the command line measure the same code; the groups
/// set its topology, capacity and message count.
pub fn base_workload() -> Workload {
    Matrix::quick().base
}

/// Registers one benchmark per visited backend.
struct Register<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    workload: Workload,
    batch: Option<usize>,
}

impl BackendVisitor for Register<'_, '_> {
    fn visit<B: Backend>(&mut self) {
        let capacity = self.workload.capacity;
        let topology = self.workload.topology;
        if topology.accepts(capacity, &B::CAPABILITIES).is_err() {
            return;
        }
        let function = match self.batch {
            None => B::NAME.to_owned(),
            Some(batch) => format!("{}-batch{batch}", B::NAME),
        };
        bench_workload::<B>(
            self.group,
            BenchmarkId::new(function, capacity),
            &self.workload,
        );
    }
}

/// Registers `workload` on backend `B` under `id`, with `Throughput::Elements` of the
/// workload's messages, timed by [`measure`].
pub fn bench_workload<B: Backend>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    workload: &Workload,
) {
    group.throughput(Throughput::Elements(workload.messages));
    group.bench_with_input(id, workload, |b, workload| {
        b.iter_custom(|iters| measure::<B>(workload, iters));
    });
}

/// Runs `workload` `iters` times on backend `B` through [`harness::run()`] (one repetition, no
/// warm-up, each time) and returns the sum of the harness's wall times: per run,
/// `max(worker end) - min(worker start)` from the workers' own timestamps. Building the buffer,
/// spawning and joining the threads and verifying are not in it.
///
/// # Panics
///
/// When the harness cannot run the workload, or a run fails verification or delivers fewer
/// messages than the workload's: a fast wrong answer is a failure, not a result.
pub fn measure<B: Backend>(workload: &Workload, iters: u64) -> Duration {
    let once = workload.clone().repeats(1).warmup(0);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let measurement = run::<B>(&once).unwrap_or_else(|e| {
            panic!(
                "{} {} capacity {}: {e}",
                B::NAME,
                once.topology,
                once.capacity
            )
        });
        let verification = &measurement.verification;
        assert!(
            verification.ok && verification.delivered == once.messages,
            "{} {} capacity {} batch {}: {}",
            B::NAME,
            once.topology,
            once.capacity,
            once.batch,
            verification.summary()
        );
        total += measurement
            .repetitions
            .iter()
            .map(|r| Duration::from_secs_f64(r.wall_s))
            .sum::<Duration>();
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_topologies_have_distinct_names_and_are_valid() {
        for (i, named) in TOPOLOGIES.iter().enumerate() {
            assert!(TOPOLOGIES[..i].iter().all(|t| t.name != named.name));
            let workload = Workload::new().topology(named.topology).capacity(1);
            assert!(workload.validate().is_ok(), "{}", named.name);
        }
    }

    #[test]
    fn measure_runs_and_verifies_every_backend() {
        struct Check;
        impl BackendVisitor for Check {
            fn visit<B: Backend>(&mut self) {
                for named in [SEQ, MPMC] {
                    let workload = Workload::new()
                        .topology(named.topology)
                        .capacity(4)
                        .messages(1_000);
                    let wall = measure::<B>(&workload, 2);
                    assert!(wall > Duration::ZERO, "{} {}", B::NAME, named.name);
                    let _ = measure::<B>(&workload.batch(BATCH), 1);
                }
            }
        }
        for_each_backend(&mut Check);
    }

    #[test]
    fn measure_panics_on_a_lost_item() {
        let lossy = Workload::new()
            .topology(SPSC.topology)
            .capacity(4)
            .messages(1_000)
            .fault(Some(harness::spec::Fault::LoseItem));
        let outcome = std::panic::catch_unwind(|| {
            measure::<buffer_crossbeam::Crossbeam>(&lossy, 1);
        });
        assert!(
            outcome.is_err(),
            "a verification failure must not be a result"
        );
    }
}
