//! The bare loop `harness calibrate` holds the harness against: raw crossbeam-channel moving
//! `u64`s with the same threads, the same start gate and the same timing as a harness run, and
//! nothing recorded. Its throughput is what the channel does with no harness around it.

use std::sync::Barrier;
use std::thread;
use std::time::Instant;

use crossbeam_channel as cb;

use crate::spec::Topology;

/// Moves `messages` `u64`s through a `crossbeam_channel::bounded(capacity)` in `topology` and
/// returns the delivered rate in messages per second, timed like a harness run: from the first
/// worker's start after the gate to the last worker's end.
///
/// `seq` fills the channel up to its capacity, then drains it, as the harness's `seq` does; it
/// needs a capacity of at least 1.
pub(crate) fn crossbeam_rate(topology: Topology, capacity: usize, messages: u64) -> f64 {
    let wall = match topology {
        Topology::Seq => seq(capacity.max(1), messages),
        Topology::Threads {
            producers,
            consumers,
        } => threads(producers, consumers, capacity, messages),
    };
    if wall > 0.0 {
        messages as f64 / wall
    } else {
        0.0
    }
}

fn seq(capacity: usize, messages: u64) -> f64 {
    let (tx, rx) = cb::bounded::<u64>(capacity);
    let started = Instant::now();
    let mut sum = 0_u64;
    let mut first = 0;
    while first < messages {
        let count = (capacity as u64).min(messages - first);
        for i in first..first + count {
            tx.send(i).expect("the receiver is alive");
        }
        for _ in 0..count {
            sum = sum.wrapping_add(rx.recv().expect("the sender is alive"));
        }
        first += count;
    }
    std::hint::black_box(sum);
    started.elapsed().as_secs_f64()
}

fn threads(producers: usize, consumers: usize, capacity: usize, messages: u64) -> f64 {
    let (tx, rx) = cb::bounded::<u64>(capacity);
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
                    tx.send(i).expect("a receiver is alive");
                }
                (start, Instant::now())
            }));
        }
        for _ in 0..consumers {
            let (rx, gate) = (rx.clone(), &gate);
            workers.push(s.spawn(move || {
                gate.wait();
                let start = Instant::now();
                let mut sum = 0_u64;
                while let Ok(v) = rx.recv() {
                    sum = sum.wrapping_add(v);
                }
                std::hint::black_box(sum);
                (start, Instant::now())
            }));
        }
        drop((tx, rx));
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
    fn the_bare_loop_moves_every_message() {
        for topology in [
            Topology::Seq,
            Topology::Threads {
                producers: 3,
                consumers: 2,
            },
        ] {
            for capacity in [1, 7] {
                assert!(crossbeam_rate(topology, capacity, 1000) > 0.0);
            }
        }
        let rendezvous = Topology::Threads {
            producers: 1,
            consumers: 1,
        };
        assert!(crossbeam_rate(rendezvous, 0, 100) > 0.0);
    }
}
