//! A narrated run for learners, in the manner of the classic producer-consumer demos: every
//! send and receive is logged (through `tracing`, at INFO) with the thread's name and the
//! buffer's fill (`size=2/2`), waiting is logged when it happens, shutdown is logged, and the
//! order in which each consumer received items is returned for printing.
//!
//! To log "buffer full, producer-2 waiting" exactly when it happens, producers first try
//! `try_send` and fall back to a blocking `send` only when the buffer is full; consumers do the
//! same with `try_recv` and `recv`. The sizes logged are snapshots taken just after the
//! operation, so under concurrency they may already be stale when printed.
//!
//! The log is in causal order: a consumer that receives an item waits, before it logs the
//! receive, until the producer has logged the send ([`SentLog`]). Without that a learner could
//! read "received P1#0" above "sent P1#0": the send's line is written after the send returns,
//! and by then the item may already be out.

use std::fmt;
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use buffer_api::{Backend, Consumer, Handle, Producer, RecvError, TryRecvError, TrySendError};
use tracing::{info, warn};

use crate::engine::MAX_PLANNED;
use crate::spec::{MAX_THREADS, counted};
use crate::verify::{
    ConsumerRecord, Exactness, Ledger, ProducerRecord, Refusal, RunFacts, Verification,
};

/// What to narrate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Demo {
    /// Producer threads.
    pub(crate) producers: usize,
    /// Consumer threads.
    pub(crate) consumers: usize,
    /// Buffer capacity.
    pub(crate) capacity: usize,
    /// Items over all producers.
    pub(crate) items: u64,
    /// Time a producer spends "making" each item (it sleeps).
    pub(crate) producer_delay: Duration,
    /// Time a consumer spends "using" each item (it sleeps).
    pub(crate) consumer_delay: Duration,
}

impl Default for Demo {
    /// 2 producers, 2 consumers, capacity 2, 12 items, producers taking 50 ms per item and
    /// consumers 150 ms, so that the buffer fills up and producers have to wait.
    fn default() -> Self {
        Self {
            producers: 2,
            consumers: 2,
            capacity: 2,
            items: 12,
            producer_delay: Duration::from_millis(50),
            consumer_delay: Duration::from_millis(150),
        }
    }
}

/// An item of the demo: which producer made it and its number there. Shown as `P2#0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DemoItem {
    /// The producer's index (0-based; `P1` is index 0).
    pub(crate) producer: u32,
    /// Its sequence number at that producer.
    pub(crate) seq: u64,
}

impl fmt::Display for DemoItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}#{}", self.producer + 1, self.seq)
    }
}

/// What the demo saw.
#[derive(Clone, Debug)]
pub(crate) struct DemoOutcome {
    /// The backend's name.
    pub(crate) backend: &'static str,
    /// For each consumer (`consumer-1` first), the items in the order it received them.
    pub(crate) received: Vec<Vec<DemoItem>>,
    /// The ledger's verdict on the run.
    pub(crate) verification: Verification,
}

/// Why the demo could not run.
#[derive(Debug)]
pub(crate) enum DemoError {
    /// The backend refused the capacity.
    Capacity(buffer_api::CapacityError),
    /// Producers or consumers is zero.
    NoThreads(Side),
    /// A thread could not be spawned.
    Spawn(std::io::Error),
    /// More than [`MAX_THREADS`] threads on one side (the count asked for).
    TooManyThreads(Side, usize),
    /// More than [`MAX_DEMO_ITEMS`] items (the count asked for).
    TooManyItems(u64),
    /// One side's thread plans more than [`MAX_PLANNED`] of delays (hours planned).
    TooSlow(Side, f64),
}

/// The most items a demo narrates: each is a few log lines.
pub(crate) const MAX_DEMO_ITEMS: u64 = 100_000;

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Capacity(e) => e.fmt(f),
            Self::NoThreads(_) => write!(f, "at least one thread is needed"),
            Self::Spawn(e) => write!(f, "could not spawn a thread: {e}"),
            Self::TooManyThreads(side, n) => {
                write!(
                    f,
                    "{n} {side} is more than the {MAX_THREADS} a run may start"
                )
            }
            Self::TooManyItems(n) => write!(
                f,
                "{n} items is more than the {MAX_DEMO_ITEMS} a demo narrates; use `harness run`"
            ),
            Self::TooSlow(side, hours) => write!(
                f,
                "one of the {side} plans {hours:.0} hours of delays, more than the {} hours a run \
                 may plan",
                MAX_PLANNED.as_secs() / 3600
            ),
        }
    }
}

impl std::error::Error for DemoError {}

/// Which side of the demo has no thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// No producer.
    Producers,
    /// No consumer.
    Consumers,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Producers => "producers",
            Self::Consumers => "consumers",
        })
    }
}

/// Runs the narrated demo on backend `B`.
///
/// # Errors
///
/// See [`DemoError`].
pub(crate) fn demo<B: Backend>(demo: &Demo) -> Result<DemoOutcome, DemoError> {
    if demo.producers == 0 {
        return Err(DemoError::NoThreads(Side::Producers));
    }
    if demo.consumers == 0 {
        return Err(DemoError::NoThreads(Side::Consumers));
    }
    for (side, n) in [
        (Side::Producers, demo.producers),
        (Side::Consumers, demo.consumers),
    ] {
        if n > MAX_THREADS {
            return Err(DemoError::TooManyThreads(side, n));
        }
    }
    if demo.items > MAX_DEMO_ITEMS {
        return Err(DemoError::TooManyItems(demo.items));
    }
    for (side, n, delay) in [
        (Side::Producers, demo.producers, demo.producer_delay),
        (Side::Consumers, demo.consumers, demo.consumer_delay),
    ] {
        let hours = demo.items.div_ceil(n as u64) as f64 * delay.as_secs_f64() / 3600.0;
        if hours * 3600.0 > MAX_PLANNED.as_secs_f64() {
            return Err(DemoError::TooSlow(side, hours));
        }
    }
    let (tx, rx) = B::bounded::<DemoItem>(demo.capacity).map_err(DemoError::Capacity)?;
    let shares: Vec<u64> = (0..demo.producers as u64)
        .map(|i| {
            let n = demo.producers as u64;
            demo.items / n + u64::from(i < demo.items % n)
        })
        .collect();
    // A demo is about watching items move, so its one run names every item.
    let ledger = Ledger::new(
        shares.clone(),
        B::CAPABILITIES.preserves_producer_order(),
        Exactness::Ledger,
    );
    let sent = SentLog::new(demo.producers);
    info!(
        backend = B::NAME,
        "{}, {}, capacity {}, {}",
        counted(demo.producers as u64, "producer"),
        counted(demo.consumers as u64, "consumer"),
        demo.capacity,
        counted(demo.items, "item")
    );

    let (producer_records, received, consumer_records) =
        thread::scope(|scope| narrate_threads::<B>(scope, demo, &sent, &ledger, &shares, tx, rx))?;
    let offered: u64 = producer_records.iter().map(|r| r.offered()).sum();
    let verification = ledger.verify(
        &producer_records,
        &consumer_records,
        RunFacts {
            // Demo items carry no drop counter: each offered item was dropped by whoever held
            // it last, and the exactly-once check covers the rest.
            payloads_dropped: offered,
            ..RunFacts::default()
        },
    );
    info!("all threads joined; {}", verification.summary());
    Ok(DemoOutcome {
        backend: B::NAME,
        received,
        verification,
    })
}

/// What the demo's threads hand back: each producer's record, and each consumer's receive
/// order with its record.
type Narrated = (Vec<ProducerRecord>, Vec<Vec<DemoItem>>, Vec<ConsumerRecord>);

/// Spawns the named producers and consumers, drops the demo's own handles (the buffer
/// disconnects when the last producer is done), and joins them.
fn narrate_threads<'scope, B: Backend>(
    scope: &'scope thread::Scope<'scope, '_>,
    demo: &'scope Demo,
    sent: &'scope SentLog,
    ledger: &Ledger,
    shares: &[u64],
    tx: B::Producer<DemoItem>,
    rx: B::Consumer<DemoItem>,
) -> Result<Narrated, DemoError> {
    let mut producers = Vec::new();
    for (index, &share) in shares.iter().enumerate() {
        let tx = tx.clone();
        let mut record = ledger.producer_record();
        let handle = thread::Builder::new()
            .name(format!("producer-{}", index + 1))
            .spawn_scoped(scope, move || {
                narrate_producer(
                    &tx,
                    sent,
                    index as u32,
                    share,
                    demo.producer_delay,
                    &mut record,
                );
                info!("done after {}; dropping its handle", counted(share, "item"));
                record
            })
            .map_err(DemoError::Spawn)?;
        producers.push(handle);
    }
    let mut consumers = Vec::new();
    for index in 0..demo.consumers {
        let rx = rx.clone();
        let mut record = ledger.consumer_record();
        let handle = thread::Builder::new()
            .name(format!("consumer-{}", index + 1))
            .spawn_scoped(scope, move || {
                let order = narrate_consumer(&rx, sent, demo.consumer_delay, &mut record);
                info!(
                    "buffer empty and disconnected after {}: shutting down",
                    counted(order.len() as u64, "item")
                );
                (order, record)
            })
            .map_err(DemoError::Spawn)?;
        consumers.push(handle);
    }
    drop(tx);
    drop(rx);
    let producer_records: Vec<_> = producers
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|_| ledger.producer_record()))
        .collect();
    let mut received = Vec::new();
    let mut consumer_records = Vec::new();
    for handle in consumers {
        let (order, record) = handle
            .join()
            .unwrap_or_else(|_| (Vec::new(), ledger.consumer_record()));
        received.push(order);
        consumer_records.push(record);
    }
    Ok((producer_records, received, consumer_records))
}

/// How far each producer's sends have been logged, so that a receive is logged after the
/// send of the same item.
#[derive(Debug)]
struct SentLog {
    /// For each producer, how many of its items (in sequence order) have a "sent" line.
    logged: Mutex<Vec<u64>>,
    /// Notified whenever a count grows.
    grew: Condvar,
}

impl SentLog {
    fn new(producers: usize) -> Self {
        Self {
            logged: Mutex::new(vec![0; producers]),
            grew: Condvar::new(),
        }
    }

    /// Records that the send of `item` has been logged. A producer sends in sequence order,
    /// so the count is `item.seq + 1`.
    fn logged(&self, item: DemoItem) {
        let mut logged = self.logged.lock().unwrap_or_else(PoisonError::into_inner);
        logged[item.producer as usize] = item.seq + 1;
        drop(logged);
        self.grew.notify_all();
    }

    /// Waits until the send of `item`, which this thread has received, has been logged. Its
    /// send has taken effect, so the producer is on its way to the log line: the wait ends.
    fn wait_for(&self, item: DemoItem) {
        let mut logged = self.logged.lock().unwrap_or_else(PoisonError::into_inner);
        while logged[item.producer as usize] <= item.seq {
            logged = self
                .grew
                .wait(logged)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

fn size<H: Handle>(handle: &H) -> String {
    format!("size={}/{}", handle.len(), handle.capacity())
}

fn narrate_producer<P: Producer<DemoItem>>(
    tx: &P,
    sent: &SentLog,
    producer: u32,
    share: u64,
    delay: Duration,
    record: &mut ProducerRecord,
) {
    let name = thread::current().name().unwrap_or("producer").to_owned();
    for seq in 0..share {
        thread::sleep(delay);
        let item = DemoItem { producer, seq };
        match tx.try_send(item) {
            Ok(()) => {
                record.accepted(seq, 1);
                info!("sent {item} {}", size(tx));
                sent.logged(item);
            }
            Err(TrySendError::Full(item)) => {
                info!("buffer full, {name} waiting to send {item} {}", size(tx));
                match tx.send(item) {
                    Ok(()) => {
                        record.accepted(seq, 1);
                        info!("sent {item} after waiting {}", size(tx));
                        sent.logged(item);
                    }
                    Err(e) => {
                        record.refused(seq, Refusal::HandedBack);
                        warn!("buffer disconnected; {} handed back", e.into_inner());
                        return;
                    }
                }
            }
            Err(TrySendError::Disconnected(item)) => {
                record.refused(seq, Refusal::HandedBack);
                warn!("buffer disconnected; {item} handed back");
                return;
            }
        }
    }
}

fn narrate_consumer<C: Consumer<DemoItem>>(
    rx: &C,
    sent: &SentLog,
    delay: Duration,
    record: &mut ConsumerRecord,
) -> Vec<DemoItem> {
    let name = thread::current().name().unwrap_or("consumer").to_owned();
    let mut order = Vec::new();
    loop {
        let item = match rx.try_recv() {
            Ok(item) => item,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                info!("buffer empty, {name} waiting {}", size(rx));
                match rx.recv() {
                    Ok(item) => item,
                    Err(RecvError) => break,
                }
            }
        };
        sent.wait_for(item);
        info!("received {item} {}", size(rx));
        record.record(item.producer, item.seq);
        order.push(item);
        thread::sleep(delay);
    }
    order
}
