//! The adapter-overhead groups: what exact close costs. The raw `crossbeam` and `flume`
//! backends (the crates as they are, no close) against `crossbeam-close` and `flume-close` (the
//! same channels with the emulated close), in `seq` and `spsc`. Each loop is written once,
//! generic over [`Channel`], so both backends of a pair run the same code and differ only in
//! the adapter underneath. (`harness calibrate` measures the raw crate against the harness.)

use std::marker::PhantomData;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use buffer_api::{Backend, Consumer, Producer};
use buffer_crossbeam::{Crossbeam, CrossbeamClose};
use buffer_flume::{Flume, FlumeClose};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use harness::spec::Topology;

use crate::profile::Profile;
use crate::workloads::{SEQ, SPSC, Shape};

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

/// The shapes of the overhead groups, named `adapter-<shape>`.
pub const OVERHEAD_SHAPES: [Shape; 2] = [SEQ, SPSC];

/// Registers the group `adapter-<shape>` for `shape` (`seq` or a 1:1 shape): at every capacity of
/// the profile, each raw backend (`crossbeam/<capacity>`, `flume/<capacity>`) next to its
/// exact-close twin (`crossbeam-close/<capacity>`, `flume-close/<capacity>`), so the two are
/// measured in the same minute.
///
/// # Panics
///
/// For a shape with more than one producer or consumer.
pub fn bench_overhead(c: &mut Criterion, shape: Shape, profile: &Profile) {
    let mut group = c.benchmark_group(format!("adapter-{}", shape.name));
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(profile.messages));
    for &capacity in profile.overhead_capacities {
        if capacity == 0 && shape.topology == Topology::Seq {
            continue;
        }
        bench_pair::<Crossbeam, CrossbeamClose>(&mut group, shape, capacity, profile.messages);
        bench_pair::<Flume, FlumeClose>(&mut group, shape, capacity, profile.messages);
    }
    group.finish();
}

fn bench_pair<Raw: Backend, Close: Backend>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    shape: Shape,
    capacity: usize,
    messages: u64,
) {
    bench_channel::<Adapter<Raw>>(group, Raw::NAME.to_owned(), shape, capacity, messages);
    bench_channel::<Adapter<Close>>(group, Close::NAME.to_owned(), shape, capacity, messages);
}

fn bench_channel<C: Channel>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    function: String,
    shape: Shape,
    capacity: usize,
    messages: u64,
) {
    let id = BenchmarkId::new(function, capacity);
    match shape.topology {
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

    fn both_loops<C: Channel>() {
        for capacity in [1, 3, 64] {
            assert!(seq::<C>(capacity, 1_000) > Duration::ZERO);
        }
        for capacity in [0, 1, 64] {
            assert!(spsc::<C>(capacity, 1_000) > Duration::ZERO);
        }
    }

    #[test]
    fn raw_and_close_loops_verify() {
        both_loops::<Adapter<Crossbeam>>();
        both_loops::<Adapter<CrossbeamClose>>();
        both_loops::<Adapter<Flume>>();
        both_loops::<Adapter<FlumeClose>>();
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
