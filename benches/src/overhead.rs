//! The adapter-overhead groups: what exact close costs. Each raw backend of the registry (a
//! crate as it is, no close) next to the exact-close backend that declares it in
//! [`Backend::ADDS_CLOSE_TO`] (`crossbeam` and `crossbeam-close`, `flume` and `flume-close`), in
//! `seq` and `spsc`. The pairs come from walking [`harness::registry::for_each_backend`], so a
//! close adapter added to the registry later joins with no edit here. Each loop is written
//! once, generic over [`Channel`], so both backends of a pair run the same code and differ only
//! in the adapter underneath. (`harness calibrate` measures the raw crate against the harness.)

use std::marker::PhantomData;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use buffer_api::{Backend, Consumer, Producer};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use harness::registry::{BackendVisitor, for_each_backend};
use harness::spec::Topology;

use crate::profile::Profile;
use crate::workloads::{NamedTopology, SEQ, SPSC};

/// The little a benchmark loop needs from a channel of `u64`s.
pub trait Channel: 'static {
    /// The sending side.
    type Sender: Send;
    /// The receiving side.
    type Receiver: Send;

    /// A bounded channel of `capacity` (0: rendezvous).
    fn bounded(capacity: usize) -> (Self::Sender, Self::Receiver);

    /// Sends `value`, blocking while full; false when the receivers are gone.
    fn send(tx: &Self::Sender, value: u64) -> bool;

    /// Receives, blocking while empty; `None` once the channel is empty and every sender gone.
    fn recv(rx: &Self::Receiver) -> Option<u64>;
}

/// A registry backend through the buffer-api traits.
pub struct Adapter<B>(PhantomData<fn() -> B>);

impl<B: Backend> Channel for Adapter<B> {
    type Sender = B::Producer<u64>;
    type Receiver = B::Consumer<u64>;

    fn bounded(capacity: usize) -> (Self::Sender, Self::Receiver) {
        B::bounded(capacity)
            .unwrap_or_else(|e| panic!("{} refused capacity {capacity}: {e}", B::NAME))
    }

    #[inline]
    fn send(tx: &Self::Sender, value: u64) -> bool {
        tx.send(value).is_ok()
    }

    #[inline]
    fn recv(rx: &Self::Receiver) -> Option<u64> {
        rx.recv().ok()
    }
}

/// The topologies of the overhead groups, named `adapter-<topology>`.
pub const OVERHEAD_TOPOLOGIES: [NamedTopology; 2] = [SEQ, SPSC];

/// Registers the group `adapter-<topology>` for `named` (`seq` or a 1:1 topology): at every capacity of
/// the profile, each raw backend with an exact-close twin (`crossbeam/<capacity>`,
/// `flume/<capacity>`) and right after it the twin (`crossbeam-close/<capacity>`,
/// `flume-close/<capacity>`), so the two are measured in the same minute.
///
/// # Panics
///
/// For a topology with more than one producer or consumer.
pub fn bench_overhead(c: &mut Criterion, named: NamedTopology, profile: &Profile) {
    let mut group = c.benchmark_group(format!("adapter-{}", named.name));
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(profile.messages));
    let pairs = close_pairs();
    for &capacity in profile.overhead_capacities {
        let mut cell = Cell {
            group: &mut group,
            named,
            capacity,
            messages: profile.messages,
        };
        for_each_backend(&mut RawThenTwins {
            pairs: &pairs,
            cell: &mut cell,
        });
    }
    group.finish();
}

/// Every `(raw, exact-close)` pair of backend names in the registry, in registry order of the
/// close backends: a close backend's [`Backend::ADDS_CLOSE_TO`] names its raw twin.
///
/// # Panics
///
/// When a close backend names a raw backend that is not in the registry.
pub fn close_pairs() -> Vec<(&'static str, &'static str)> {
    struct Pairs(Vec<(&'static str, &'static str)>);
    impl BackendVisitor for Pairs {
        fn visit<B: Backend>(&mut self) {
            if let Some(raw) = B::ADDS_CLOSE_TO {
                self.0.push((raw, B::NAME));
            }
        }
    }
    let mut pairs = Pairs(Vec::new());
    for_each_backend(&mut pairs);
    let names = harness::registry::names();
    for (raw, close) in &pairs.0 {
        assert!(
            names.contains(raw),
            "{close} adds close to `{raw}`, which is not in the registry"
        );
    }
    pairs.0
}

/// One cell of an overhead group: where to register, and the workload.
struct Cell<'c, 'g> {
    group: &'c mut BenchmarkGroup<'g, WallTime>,
    named: NamedTopology,
    capacity: usize,
    messages: u64,
}

impl Cell<'_, '_> {
    fn bench<B: Backend>(&mut self) {
        bench_channel::<Adapter<B>>(
            self.group,
            B::NAME.to_owned(),
            self.named,
            self.capacity,
            self.messages,
        );
    }
}

/// Benchmarks each raw backend that has an exact-close twin, then its twins.
struct RawThenTwins<'p, 'c, 'g> {
    pairs: &'p [(&'static str, &'static str)],
    cell: &'p mut Cell<'c, 'g>,
}

impl BackendVisitor for RawThenTwins<'_, '_, '_> {
    fn visit<Raw: Backend>(&mut self) {
        let cell = &self.cell;
        let runnable = cell
            .named
            .topology
            .accepts(cell.capacity, &Raw::CAPABILITIES);
        if runnable.is_err() || !self.pairs.iter().any(|(raw, _)| *raw == Raw::NAME) {
            return;
        }
        self.cell.bench::<Raw>();
        for_each_backend(&mut TwinsOf {
            raw: Raw::NAME,
            cell: self.cell,
        });
    }
}

/// Benchmarks every backend that adds close to `raw`.
struct TwinsOf<'p, 'c, 'g> {
    raw: &'static str,
    cell: &'p mut Cell<'c, 'g>,
}

impl BackendVisitor for TwinsOf<'_, '_, '_> {
    fn visit<Close: Backend>(&mut self) {
        let runnable = (self.cell.named.topology).accepts(self.cell.capacity, &Close::CAPABILITIES);
        if Close::ADDS_CLOSE_TO == Some(self.raw) && runnable.is_ok() {
            self.cell.bench::<Close>();
        }
    }
}

fn bench_channel<C: Channel>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    function: String,
    named: NamedTopology,
    capacity: usize,
    messages: u64,
) {
    let id = BenchmarkId::new(function, capacity);
    match named.topology {
        Topology::Seq => group.bench_function(id, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| seq::<C>(capacity, messages)).sum());
        }),
        Topology::Threads {
            producers: 1,
            consumers: 1,
        } => group.bench_function(id, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| spsc::<C>(capacity, messages)).sum());
        }),
        other => panic!("the adapter-overhead loops are seq and 1:1, not {other}"),
    };
}

/// One `seq` run on the calling thread: send `min(capacity, remaining)` values, receive them,
/// repeat. Returns the time of the loop alone (the channel is built before the clock starts and
/// dropped after it stops).
///
/// # Panics
///
/// When a value comes back out of order, or the channel disconnects.
pub fn seq<C: Channel>(capacity: usize, messages: u64) -> Duration {
    assert!(capacity > 0, "one thread cannot rendezvous with itself");
    let (tx, rx) = C::bounded(capacity);
    let start = Instant::now();
    let mut sent = 0;
    let mut received = 0;
    while sent < messages {
        let count = (capacity as u64).min(messages - sent);
        for _ in 0..count {
            assert!(C::send(&tx, sent), "seq: the channel disconnected");
            sent += 1;
        }
        for _ in 0..count {
            let value = C::recv(&rx);
            assert_eq!(value, Some(received), "seq: wrong value");
            received += 1;
        }
    }
    let elapsed = start.elapsed();
    drop((tx, rx));
    elapsed
}

/// One `spsc` run: a producer sends `0..messages` and drops its sender, a consumer receives
/// until disconnected and checks every value arrives once, in order. Both threads are spawned
/// first and released by one barrier; each takes its own timestamps and the result is
/// `max(end) - min(start)`, the harness's method, so spawning is not timed.
///
/// # Panics
///
/// When a value is missing, duplicated or out of order.
pub fn spsc<C: Channel>(capacity: usize, messages: u64) -> Duration {
    let (tx, rx) = C::bounded(capacity);
    let gate = Barrier::new(2);
    let gate = &gate;
    let ((p_start, p_end), (c_start, c_end)) = thread::scope(|s| {
        let producer = s.spawn(move || {
            gate.wait();
            let start = Instant::now();
            for value in 0..messages {
                assert!(C::send(&tx, value), "spsc: the consumer went away");
            }
            drop(tx);
            (start, Instant::now())
        });
        let consumer = s.spawn(move || {
            gate.wait();
            let start = Instant::now();
            let mut expected = 0;
            while let Some(value) = C::recv(&rx) {
                assert_eq!(value, expected, "spsc: wrong value");
                expected += 1;
            }
            assert_eq!(expected, messages, "spsc: values lost");
            (start, Instant::now())
        });
        let consumer = consumer.join().expect("the consumer panicked");
        (producer.join().expect("the producer panicked"), consumer)
    });
    p_end.max(c_end) - p_start.min(c_start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use buffer_api::Support;

    fn both_loops<C: Channel>() {
        for capacity in [1, 3, 64] {
            assert!(seq::<C>(capacity, 1_000) > Duration::ZERO);
        }
        for capacity in [0, 1, 64] {
            assert!(spsc::<C>(capacity, 1_000) > Duration::ZERO);
        }
    }

    /// The pairs are declared, not listed: this workspace's two among them (a backend added
    /// later may bring more), each a raw backend without close and a twin with an emulated one.
    #[test]
    fn the_pairs_come_from_the_registry() {
        let pairs = close_pairs();
        for known in [("crossbeam", "crossbeam-close"), ("flume", "flume-close")] {
            assert!(pairs.contains(&known), "{known:?} in {pairs:?}");
        }
        for info in harness::registry::backends() {
            let in_pair = |pair: &(&str, &str)| pair.0 == info.name || pair.1 == info.name;
            if let Some(pair) = close_pairs().iter().find(|pair| in_pair(pair)) {
                let expected = if pair.0 == info.name {
                    Support::Unsupported
                } else {
                    Support::Emulated
                };
                assert_eq!(info.capabilities.close, expected, "{}", info.name);
            }
        }
    }

    #[test]
    fn raw_and_close_loops_verify() {
        struct BothLoops(Vec<&'static str>);
        impl BackendVisitor for BothLoops {
            fn visit<B: Backend>(&mut self) {
                if close_pairs()
                    .iter()
                    .any(|(raw, close)| B::NAME == *raw || B::NAME == *close)
                {
                    both_loops::<Adapter<B>>();
                    self.0.push(B::NAME);
                }
            }
        }
        let mut visited = BothLoops(Vec::new());
        for_each_backend(&mut visited);
        let pairs = close_pairs();
        let paired: Vec<&str> = (harness::registry::names().into_iter())
            .filter(|name| {
                pairs
                    .iter()
                    .any(|(raw, close)| name == raw || name == close)
            })
            .collect();
        assert_eq!(visited.0, paired);
        for name in ["crossbeam", "crossbeam-close", "flume", "flume-close"] {
            assert!(visited.0.contains(&name), "{name} in {:?}", visited.0);
        }
    }

    #[test]
    fn the_loops_see_a_lost_value() {
        /// Drops every tenth value.
        struct Lossy;
        impl Channel for Lossy {
            type Sender = crossbeam_channel::Sender<u64>;
            type Receiver = crossbeam_channel::Receiver<u64>;
            fn bounded(capacity: usize) -> (Self::Sender, Self::Receiver) {
                crossbeam_channel::bounded(capacity)
            }
            fn send(tx: &Self::Sender, value: u64) -> bool {
                value % 10 == 9 || tx.send(value).is_ok()
            }
            fn recv(rx: &Self::Receiver) -> Option<u64> {
                rx.recv().ok()
            }
        }
        assert!(std::panic::catch_unwind(|| spsc::<Lossy>(4, 100)).is_err());
    }
}
