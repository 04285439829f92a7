//! A producer-worker pipeline for embedding, over any [`buffer_api::Backend`]: inputs from an
//! iterator are sent by N producer threads through a bounded buffer to M worker threads
//! running a user closure; the outputs come back in input order, with statistics.
//!
//! The crate depends on the contract alone: the caller picks the backend as a type parameter
//! of [`Pipeline::run`], so any adapter crate serves, and a new one needs no change here.
//!
//! ```
//! use buffer_pipeline::Pipeline;
//!
//! let squares = Pipeline::new()
//!     .producers(2)
//!     .workers(3)
//!     .capacity(8)
//!     .run::<buffer_crossbeam::Crossbeam, _, _>(1..=100u64, |n| n * n)
//!     .expect("the pipeline runs");
//! assert_eq!(squares.outputs.len(), 100);
//! assert_eq!(squares.outputs[9], 100);
//! assert_eq!(squares.stats.per_worker.iter().sum::<u64>(), 100);
//! ```
//!
//! Producers take inputs from the shared iterator one at a time (under a lock, which also
//! numbers them), call `on_produce`, and send. Workers receive until the buffer disconnects,
//! which happens when the iterator is exhausted and every producer has dropped its handle: no
//! sentinel values. Each worker keeps its outputs locally, tagged with the input's number; they
//! are merged and checked after the threads are joined, so a lost or duplicated item (a backend
//! bug) is an error, not a silently short result.
//!
//! `examples/primes.rs` counts primes with it over every backend the harness registers.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use buffer_api::{Backend, CapacityError, Consumer, Producer, SendError};

type ProduceHook<'a, I> = Box<dyn Fn(usize, &I) + Send + Sync + 'a>;
type ConsumeHook<'a, O> = Box<dyn Fn(usize, &O) + Send + Sync + 'a>;

/// A pipeline's configuration: thread counts, capacity and optional callbacks.
///
/// Defaults: 1 producer, as many workers as the machine has CPUs, capacity 64, no callbacks.
pub struct Pipeline<'a, I, O> {
    producers: usize,
    workers: usize,
    capacity: usize,
    on_produce: Option<ProduceHook<'a, I>>,
    on_consume: Option<ConsumeHook<'a, O>>,
}

impl<I, O> Default for Pipeline<'_, I, O> {
    fn default() -> Self {
        Self {
            producers: 1,
            workers: thread::available_parallelism().map_or(1, usize::from),
            capacity: 64,
            on_produce: None,
            on_consume: None,
        }
    }
}

impl<I, O> fmt::Debug for Pipeline<'_, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("producers", &self.producers)
            .field("workers", &self.workers)
            .field("capacity", &self.capacity)
            .field("on_produce", &self.on_produce.is_some())
            .field("on_consume", &self.on_consume.is_some())
            .finish()
    }
}

impl<'a, I: Send + 'static, O: Send> Pipeline<'a, I, O> {
    /// A pipeline with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Producer threads (`producer-N`) feeding the buffer from the inputs.
    #[must_use]
    pub fn producers(mut self, producers: usize) -> Self {
        self.producers = producers;
        self
    }

    /// Worker threads (`worker-N`) running the closure.
    #[must_use]
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// The buffer's capacity (0 for rendezvous, where the backend supports it).
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Called on the producer thread with the producer's index (0-based) and each input, just
    /// before it is sent.
    #[must_use]
    pub fn on_produce(mut self, hook: impl Fn(usize, &I) + Send + Sync + 'a) -> Self {
        self.on_produce = Some(Box::new(hook));
        self
    }

    /// Called on the worker thread with the worker's index (0-based) and each output, just
    /// after the closure returned it.
    #[must_use]
    pub fn on_consume(mut self, hook: impl Fn(usize, &O) + Send + Sync + 'a) -> Self {
        self.on_consume = Some(Box::new(hook));
        self
    }

    /// Runs `work` over every input on backend `B` and returns the outputs in input order.
    ///
    /// # Errors
    ///
    /// See [`PipelineError`]. A panic in `work` or a callback is caught and reported; the
    /// other threads finish first.
    pub fn run<B, Inputs, F>(
        self,
        inputs: Inputs,
        work: F,
    ) -> Result<PipelineOutput<O>, PipelineError>
    where
        B: Backend,
        Inputs: IntoIterator<Item = I>,
        Inputs::IntoIter: Send,
        F: Fn(I) -> O + Sync,
    {
        if self.producers == 0 {
            return Err(PipelineError::NoThreads("producers"));
        }
        if self.workers == 0 {
            return Err(PipelineError::NoThreads("workers"));
        }
        let (tx, rx) = B::bounded::<(u64, I)>(self.capacity).map_err(PipelineError::Capacity)?;
        let source = Mutex::new((0u64, inputs.into_iter()));
        let started = Instant::now();
        let this = &self;
        let work = &work;
        let source = &source;

        let (producer_results, worker_results) = thread::scope(|scope| {
            let mut producers = Vec::with_capacity(self.producers);
            for index in 0..self.producers {
                let tx = tx.clone();
                let spawned = thread::Builder::new()
                    .name(format!("producer-{}", index + 1))
                    .spawn_scoped(scope, move || catch(|| this.produce(index, &tx, source)));
                producers.push(spawned);
            }
            let mut workers = Vec::with_capacity(self.workers);
            for index in 0..self.workers {
                let rx = rx.clone();
                let spawned = thread::Builder::new()
                    .name(format!("worker-{}", index + 1))
                    .spawn_scoped(scope, move || catch(|| this.consume(index, &rx, work)));
                workers.push(spawned);
            }
            drop(tx);
            drop(rx);
            let producers: Vec<_> = producers.into_iter().map(join).collect();
            let workers: Vec<_> = workers.into_iter().map(join).collect();
            (producers, workers)
        });
        let wall = started.elapsed();

        let mut per_producer = Vec::with_capacity(producer_results.len());
        for result in producer_results {
            per_producer.push(result?);
        }
        let mut tagged = Vec::new();
        let mut per_worker = Vec::with_capacity(worker_results.len());
        for result in worker_results {
            let outputs = result?;
            per_worker.push(outputs.len() as u64);
            tagged.extend(outputs);
        }
        let offered = source.lock().unwrap_or_else(|e| e.into_inner()).0;
        let outputs = in_input_order(tagged, offered)?;
        let items = outputs.len() as u64;
        Ok(PipelineOutput {
            outputs,
            stats: PipelineStats {
                items,
                wall,
                throughput: items as f64 / wall.as_secs_f64().max(f64::MIN_POSITIVE),
                per_producer,
                per_worker,
            },
        })
    }

    /// One producer: take the next input, number it, call the hook, send. Returns how many it
    /// sent.
    fn produce<T, Source>(&self, index: usize, tx: &T, source: &Mutex<(u64, Source)>) -> u64
    where
        T: Producer<(u64, I)>,
        Source: Iterator<Item = I>,
    {
        let mut sent = 0;
        loop {
            let next = {
                let mut source = source.lock().unwrap_or_else(|e| e.into_inner());
                let (count, iter) = &mut *source;
                iter.next().map(|input| {
                    *count += 1;
                    (*count - 1, input)
                })
            };
            let Some((number, input)) = next else {
                return sent;
            };
            if let Some(hook) = &self.on_produce {
                hook(index, &input);
            }
            if let Err(SendError(_)) = tx.send((number, input)) {
                // Every worker is gone (they panicked); the run reports that.
                return sent;
            }
            sent += 1;
        }
    }

    /// One worker: receive until disconnected, run the closure, keep the tagged outputs.
    fn consume<C, F>(&self, index: usize, rx: &C, work: &F) -> Vec<(u64, O)>
    where
        C: Consumer<(u64, I)>,
        F: Fn(I) -> O,
    {
        let mut outputs = Vec::new();
        while let Ok((number, input)) = rx.recv() {
            let output = work(input);
            if let Some(hook) = &self.on_consume {
                hook(index, &output);
            }
            outputs.push((number, output));
        }
        outputs
    }
}

/// The outputs sorted back into input order, checked to hold each of the `offered` inputs
/// exactly once.
fn in_input_order<O>(mut tagged: Vec<(u64, O)>, offered: u64) -> Result<Vec<O>, PipelineError> {
    tagged.sort_unstable_by_key(|(index, _)| *index);
    let mut outputs = Vec::with_capacity(tagged.len());
    for (expected, (index, output)) in tagged.into_iter().enumerate() {
        if index != expected as u64 {
            return Err(PipelineError::Unaccounted {
                offered,
                first_missing_or_duplicated: expected as u64,
            });
        }
        outputs.push(output);
    }
    if outputs.len() as u64 != offered {
        return Err(PipelineError::Unaccounted {
            offered,
            first_missing_or_duplicated: outputs.len() as u64,
        });
    }
    Ok(outputs)
}

/// Joins a thread that may not have spawned.
fn join<T>(
    spawned: std::io::Result<thread::ScopedJoinHandle<'_, Result<T, PipelineError>>>,
) -> Result<T, PipelineError> {
    spawned
        .map_err(PipelineError::Spawn)
        .and_then(|h| h.join().unwrap_or_else(|_| Err(panicked("unknown", None))))
}

/// Runs `body`, turning a panic into [`PipelineError::Panicked`] named after this thread.
fn catch<R>(body: impl FnOnce() -> R) -> Result<R, PipelineError> {
    panic::catch_unwind(AssertUnwindSafe(body)).map_err(|payload| {
        let name = thread::current().name().unwrap_or("unnamed").to_owned();
        panicked(&name, Some(payload.as_ref()))
    })
}

fn panicked(thread: &str, payload: Option<&(dyn std::any::Any + Send)>) -> PipelineError {
    let message = payload
        .and_then(|p| {
            p.downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
        })
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    PipelineError::Panicked {
        thread: thread.to_owned(),
        message,
    }
}

/// The outputs of a pipeline, in input order, with statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineOutput<O> {
    /// `outputs[i]` is the closure's result for the i-th input.
    pub outputs: Vec<O>,
    /// How the run went.
    pub stats: PipelineStats,
}

/// Statistics of a pipeline run.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineStats {
    /// Items processed.
    pub items: u64,
    /// Wall time from the first spawn to the last join.
    pub wall: Duration,
    /// Items per second of wall time.
    pub throughput: f64,
    /// Items each producer sent (`per_producer[0]` is `producer-1`).
    pub per_producer: Vec<u64>,
    /// Items each worker processed (`per_worker[0]` is `worker-1`).
    pub per_worker: Vec<u64>,
}

/// Why a pipeline did not return every output.
#[derive(Debug)]
pub enum PipelineError {
    /// Zero producers or workers.
    NoThreads(&'static str),
    /// The backend refused the capacity.
    Capacity(CapacityError),
    /// A thread could not be spawned.
    Spawn(std::io::Error),
    /// The closure or a callback panicked on this thread.
    Panicked {
        /// The thread's name.
        thread: String,
        /// The panic message.
        message: String,
    },
    /// The outputs do not match the inputs one to one (a backend lost or duplicated an item).
    Unaccounted {
        /// Inputs taken from the iterator.
        offered: u64,
        /// The first input number with no output, or with two.
        first_missing_or_duplicated: u64,
    },
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoThreads(what) => write!(f, "a pipeline needs at least one of its {what}"),
            Self::Capacity(e) => e.fmt(f),
            Self::Spawn(e) => write!(f, "could not spawn a thread: {e}"),
            Self::Panicked { thread, message } => write!(f, "{thread} panicked: {message}"),
            Self::Unaccounted {
                offered,
                first_missing_or_duplicated,
            } => write!(
                f,
                "{offered} inputs but the outputs do not match them one to one \
                 (first wrong input number: {first_missing_or_duplicated})"
            ),
        }
    }
}

impl std::error::Error for PipelineError {}
