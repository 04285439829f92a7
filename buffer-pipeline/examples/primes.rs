//! The pipeline API over every backend: count the primes below a bound with 2 producers and
//! 4 workers, logging progress from the callbacks.
//!
//! Run it with `cargo run --release -p buffer-pipeline --example primes [BOUND]`.

use std::sync::atomic::{AtomicU64, Ordering};

use buffer_api::Backend;
use buffer_pipeline::Pipeline;
use harness::registry::{self, BackendVisitor, for_each_backend};

fn is_prime(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

struct CountPrimes {
    bound: u64,
    /// The longest backend name, so that the columns line up.
    name_width: usize,
}

impl BackendVisitor for CountPrimes {
    fn visit<B: Backend>(&mut self) {
        let produced = AtomicU64::new(0);
        let primes_seen = AtomicU64::new(0);
        let result = Pipeline::new()
            .producers(2)
            .workers(4)
            .capacity(64)
            .on_produce(|_producer, _n: &u64| {
                produced.fetch_add(1, Ordering::Relaxed);
            })
            .on_consume(|_worker, &(_, prime): &(u64, bool)| {
                if prime {
                    primes_seen.fetch_add(1, Ordering::Relaxed);
                }
            })
            .run::<B, _, _>(0..self.bound, |n| (n, is_prime(n)));
        match result {
            Ok(out) => {
                let primes = out.outputs.iter().filter(|(_, prime)| *prime).count();
                let largest = out.outputs.iter().rev().find(|(_, prime)| *prime);
                let largest = largest.map_or_else(|| "none".to_owned(), |(n, _)| n.to_string());
                println!(
                    "{:<width$}  {primes} primes below {}, largest {largest}  {:>8.1} ms  \
                     {:>6.2} M items/s  producers sent {:?}, workers handled {:?}; callbacks \
                     saw {} inputs and {} primes",
                    B::NAME,
                    self.bound,
                    out.stats.wall.as_secs_f64() * 1e3,
                    out.stats.throughput / 1e6,
                    out.stats.per_producer,
                    out.stats.per_worker,
                    produced.load(Ordering::Relaxed),
                    primes_seen.load(Ordering::Relaxed),
                    width = self.name_width,
                );
            }
            Err(e) => eprintln!("{:<width$}  failed: {e}", B::NAME, width = self.name_width),
        }
    }
}

fn main() {
    let bound = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(200_000);
    let name_width = registry::names().iter().map(|n| n.len()).max().unwrap_or(0);
    for_each_backend(&mut CountPrimes { bound, name_width });
}
