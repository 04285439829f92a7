//! The bare loops `harness calibrate` holds the harness against: each raw channel crate moving
//! `u64`s with the same threads, the same start gate and the same timing as a harness run, and
//! nothing recorded. Their throughput is what the crate does with no harness around it.
//!
//! The loops are written once, over [`BareChannel`]: a crate's `bounded`, `send` and `recv`, and
//! the sender's `Clone`. A crate is one small impl of it.

use std::sync::{Arc, Barrier, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::Instant;

use buffer_api::Backend;
use crossbeam_channel as cb;

use crate::spec::Topology;

/// A raw crate that has a bare loop, named by the backend that adapts it as its users use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BareLoop {
    /// `crossbeam_channel::bounded`, for the `crossbeam` backend.
    Crossbeam,
    /// `flume::bounded`, for the `flume` backend.
    Flume,
    /// `std::sync::mpsc::sync_channel`, for the `std` backend.
    Std,
}

impl BareLoop {
    /// Every bare loop, in the registry's order of their backends.
    pub(crate) const ALL: [Self; 3] = [Self::Crossbeam, Self::Flume, Self::Std];

    /// The name of the backend this loop calibrates.
    pub(crate) fn backend(self) -> &'static str {
        match self {
            Self::Crossbeam => buffer_crossbeam::Crossbeam::NAME,
            Self::Flume => buffer_flume::Flume::NAME,
            Self::Std => buffer_std::Std::NAME,
        }
    }

    /// The bare loop for the backend called `name`, if it has one.
    pub(crate) fn for_backend(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|bare| bare.backend() == name)
    }

    /// What the loop runs, as the report names it.
    pub(crate) fn crate_call(self) -> &'static str {
        match self {
            Self::Crossbeam => "crossbeam_channel::bounded",
            Self::Flume => "flume::bounded",
            Self::Std => {
                "std::sync::mpsc::sync_channel, its receiver behind a Mutex for several consumers"
            }
        }
    }

    /// Moves `messages` `u64`s through the crate's bounded channel of `capacity` in `topology`
    /// and returns the delivered rate in messages per second, timed like a harness run: from
    /// the first worker's start after the gate to the last worker's end.
    ///
    /// `seq` fills the channel up to its capacity, then drains it, as the harness's `seq` does;
    /// it needs a capacity of at least 1.
    pub(crate) fn rate(self, topology: Topology, capacity: usize, messages: u64) -> f64 {
        match self {
            Self::Crossbeam => rate::<RawCrossbeam>(topology, capacity, messages),
            Self::Flume => rate::<RawFlume>(topology, capacity, messages),
            Self::Std => rate::<RawStd>(topology, capacity, messages),
        }
    }
}

/// A raw crate's bounded channel of `u64`, as a program uses it.
trait BareChannel {
    /// The crate's sender; each producer thread takes a clone.
    type Sender: Clone + Send;
    /// What one consumer thread receives through.
    type Receiver: Send;

    /// The crate's bounded channel of `capacity`, with one receiver per consumer thread.
    fn bounded(capacity: usize, consumers: usize) -> (Self::Sender, Vec<Self::Receiver>);

    /// The crate's blocking send; `false` once every receiver is gone.
    fn send(tx: &Self::Sender, value: u64) -> bool;

    /// The crate's blocking receive; `None` once every sender is gone and the channel is empty.
    fn recv(rx: &Self::Receiver) -> Option<u64>;
}

/// A crate whose `bounded` returns a cloneable multi-consumer receiver and whose `send` and
/// `recv` return `Result`s, as crossbeam-channel's and flume's do.
macro_rules! raw_mpmc_channel {
    ($name:ident, $krate:ident) => {
        struct $name;

        impl BareChannel for $name {
            type Sender = $krate::Sender<u64>;
            type Receiver = $krate::Receiver<u64>;

            fn bounded(capacity: usize, consumers: usize) -> (Self::Sender, Vec<Self::Receiver>) {
                let (tx, rx) = $krate::bounded(capacity);
                (tx, vec![rx; consumers])
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
    };
}

raw_mpmc_channel!(RawCrossbeam, cb);
raw_mpmc_channel!(RawFlume, flume);

struct RawStd;

/// std's receiver as a program holds it: alone with one consumer; with several, shared behind
/// a mutex (std's `Receiver` is single-consumer), as a thread pool's `Arc<Mutex<Receiver>>` is.
enum StdReceiver {
    Alone(mpsc::Receiver<u64>),
    Shared(Arc<Mutex<mpsc::Receiver<u64>>>),
}

impl BareChannel for RawStd {
    type Sender = mpsc::SyncSender<u64>;
    type Receiver = StdReceiver;

    fn bounded(capacity: usize, consumers: usize) -> (Self::Sender, Vec<Self::Receiver>) {
        let (tx, rx) = mpsc::sync_channel(capacity);
        let receivers = if consumers == 1 {
            vec![StdReceiver::Alone(rx)]
        } else {
            let shared = Arc::new(Mutex::new(rx));
            (0..consumers)
                .map(|_| StdReceiver::Shared(Arc::clone(&shared)))
                .collect()
        };
        (tx, receivers)
    }

    #[inline]
    fn send(tx: &Self::Sender, value: u64) -> bool {
        tx.send(value).is_ok()
    }

    #[inline]
    fn recv(rx: &Self::Receiver) -> Option<u64> {
        match rx {
            StdReceiver::Alone(rx) => rx.recv().ok(),
            StdReceiver::Shared(rx) => rx
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .recv()
                .ok(),
        }
    }
}

fn rate<C: BareChannel>(topology: Topology, capacity: usize, messages: u64) -> f64 {
    let wall = match topology {
        Topology::Seq => seq::<C>(capacity.max(1), messages),
        Topology::Threads {
            producers,
            consumers,
        } => threads::<C>(producers, consumers, capacity, messages),
    };
    if wall > 0.0 {
        messages as f64 / wall
    } else {
        0.0
    }
}

fn seq<C: BareChannel>(capacity: usize, messages: u64) -> f64 {
    let (tx, receivers) = C::bounded(capacity, 1);
    let rx = &receivers[0];
    let started = Instant::now();
    let mut sum = 0_u64;
    let mut first = 0;
    while first < messages {
        let count = (capacity as u64).min(messages - first);
        for i in first..first + count {
            assert!(C::send(&tx, i), "the receiver is alive");
        }
        for _ in 0..count {
            sum = sum.wrapping_add(C::recv(rx).expect("the sender is alive"));
        }
        first += count;
    }
    std::hint::black_box(sum);
    started.elapsed().as_secs_f64()
}

fn threads<C: BareChannel>(
    producers: usize,
    consumers: usize,
    capacity: usize,
    messages: u64,
) -> f64 {
    let (tx, receivers) = C::bounded(capacity, consumers);
    let gate = Barrier::new(producers + consumers);
    let spans: Vec<(Instant, Instant)> = thread::scope(|s| {
        let mut workers = Vec::new();
        for p in 0..producers as u64 {
            let (tx, gate) = (tx.clone(), &gate);
            let share = messages / producers as u64 + u64::from(p < messages % producers as u64);
            workers.push(s.spawn(move || {
                gate.wait();
                let start = Instant::now();
                for i in 0..share {
                    assert!(C::send(&tx, i), "a receiver is alive");
                }
                (start, Instant::now())
            }));
        }
        for rx in receivers {
            let gate = &gate;
            workers.push(s.spawn(move || {
                gate.wait();
                let start = Instant::now();
                let mut sum = 0_u64;
                while let Some(v) = C::recv(&rx) {
                    sum = sum.wrapping_add(v);
                }
                std::hint::black_box(sum);
                (start, Instant::now())
            }));
        }
        drop(tx);
        workers
            .into_iter()
            .map(|w| w.join().expect("a bare worker does not panic"))
            .collect()
    });
    let first = spans.iter().map(|s| s.0).min();
    let last = spans.iter().map(|s| s.1).max();
    match (first, last) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bare_loop_names_a_backend_of_the_registry() {
        let names = crate::registry::names();
        for bare in BareLoop::ALL {
            assert!(names.contains(&bare.backend()), "{bare:?}");
            assert_eq!(BareLoop::for_backend(bare.backend()), Some(bare));
        }
        assert_eq!(BareLoop::for_backend("condvar"), None);
        assert_eq!(BareLoop::for_backend("crossbeam-close"), None);
    }

    /// Counts what a bare loop delivers, through the same trait the loops use.
    fn delivered<C: BareChannel>(producers: u64, consumers: usize, capacity: usize) -> u64 {
        let (tx, receivers) = C::bounded(capacity, consumers);
        thread::scope(|s| {
            for p in 0..producers {
                let tx = tx.clone();
                s.spawn(move || (0..10).for_each(|i| assert!(C::send(&tx, p * 10 + i))));
            }
            drop(tx);
            let takers: Vec<_> = receivers
                .into_iter()
                .map(|rx| s.spawn(move || std::iter::from_fn(|| C::recv(&rx)).sum::<u64>()))
                .collect();
            takers
                .into_iter()
                .map(|t| t.join().expect("no panic"))
                .sum()
        })
    }

    #[test]
    fn every_bare_channel_delivers_each_message_once() {
        // 0 + 1 + ... + 29 for three producers of ten.
        for (consumers, capacity) in [(1, 0), (1, 1), (2, 7)] {
            assert_eq!(delivered::<RawCrossbeam>(3, consumers, capacity), 435);
            assert_eq!(delivered::<RawFlume>(3, consumers, capacity), 435);
            assert_eq!(delivered::<RawStd>(3, consumers, capacity), 435);
        }
    }

    #[test]
    fn every_bare_loop_runs_each_topology() {
        for bare in BareLoop::ALL {
            for topology in [
                Topology::Seq,
                Topology::Threads {
                    producers: 3,
                    consumers: 2,
                },
            ] {
                for capacity in [1, 7] {
                    assert!(bare.rate(topology, capacity, 1000) > 0.0, "{bare:?}");
                }
            }
            let rendezvous = Topology::Threads {
                producers: 1,
                consumers: 1,
            };
            assert!(bare.rate(rendezvous, 0, 100) > 0.0, "{bare:?}");
        }
    }
}
