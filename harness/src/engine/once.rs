//! One run (one repetition or warm-up): build the buffer, spawn every thread, release them
//! through the start gate, wait for their reports while watching the board, join, verify.

use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use buffer_api::{Backend, Consumer, Producer};

use super::RunError;
use super::closer::close_storm;
use super::consumer::{ConsumerLog, consume};
use super::fault::FaultPlan;
use super::interrupt::interrupted;
use super::item::{self, Body, Item};
use super::outcome::RunOutcome;
use super::producer::{ProducerLog, produce};
use super::seq::sequential;
use super::shared::Shared;
use super::watchdog::Watchdog;
use super::worker::{Role, WorkerReport, spawn_worker};
use crate::measure::CpuTime;
use crate::spec::{Fault, Stall, Workload};
use crate::verify::{Exactness, Ledger, OrderChecks};

/// How often the waiting thread looks at the watchdog board.
const TICK: Duration = Duration::from_millis(50);
/// How long workers get to notice an abort before they are left behind.
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// Run number `index` of `workload` on backend `B` with payload `P`.
pub(super) fn run_once<B: Backend, P: Body>(
    workload: &Workload,
    index: usize,
) -> Result<RunOutcome, RunError> {
    let main_drops_before = item::drops_on_this_thread();
    let (tx, rx) = B::bounded::<Item<P>>(workload.capacity).map_err(RunError::Capacity)?;
    let plan = FaultPlan::new(workload, workload.seed.wrapping_add(index as u64));
    let names = thread_names(workload, plan.closers);
    let checks = OrderChecks::for_run(
        &B::CAPABILITIES,
        workload.producer_count(),
        workload.consumer_count(),
        workload.priorities,
    );
    let exactness = Exactness::for_run(index < workload.warmup, workload.fault);
    let ledger = Ledger::new(workload.shares(), checks.per_producer, exactness);
    let shared = Arc::new(Shared::new(
        workload,
        plan,
        ledger,
        checks.logged,
        names.clone(),
    ));
    let (report_tx, report_rx) = mpsc::channel();
    let cpu_before = CpuTime::now();
    let handles = spawn_all::<P, _, _>(&shared, &names, tx, rx, report_tx)?;
    let reports = wait(&shared, &report_rx, names.len(), handles)?;
    let cpu = match (cpu_before, CpuTime::now()) {
        (Some(before), Some(after)) => Some(after.since(&before)),
        _ => None,
    };
    let main_drops = item::drops_on_this_thread() - main_drops_before;
    let payloads_dropped = shared.drops.load(std::sync::atomic::Ordering::Relaxed) + main_drops;
    Ok(RunOutcome::verified(
        &shared,
        reports,
        cpu,
        payloads_dropped,
    ))
}

/// Every thread's name, in board order: producers, consumers (or `seq-1`), then closers.
fn thread_names(workload: &Workload, closers: usize) -> Vec<String> {
    let mut names = workload.topology.thread_names();
    names.extend((0..closers).map(|i| format!("closer-{}", i + 1)));
    names
}

/// Spawns every worker, one handle each, cloned before any thread starts so the originals
/// can go first. On a spawn failure the run is aborted: the workers already spawned are
/// released from the start gate and exit.
fn spawn_all<P: Body, T: Producer<Item<P>>, R: Consumer<Item<P>>>(
    shared: &Arc<Shared>,
    names: &[String],
    tx: T,
    rx: R,
    reports: mpsc::Sender<WorkerReport>,
) -> Result<Vec<JoinHandle<()>>, RunError> {
    let workload = &shared.workload;
    let producers = workload.producer_count();
    let closers = shared.plan.closers;
    let producer_handles: Vec<T> = (0..producers).map(|_| tx.clone()).collect();
    let consumer_handles: Vec<R> = (0..workload.consumer_count()).map(|_| rx.clone()).collect();
    let closer_producers: Vec<T> = (0..closers.div_ceil(2)).map(|_| tx.clone()).collect();
    let closer_consumers: Vec<R> = (0..closers / 2).map(|_| rx.clone()).collect();
    drop(tx);
    drop(rx);

    let mut handles = Vec::with_capacity(names.len());
    let mut spawn = |result: std::io::Result<JoinHandle<()>>| match result {
        Ok(handle) => {
            handles.push(handle);
            Ok(())
        }
        Err(e) => {
            shared.abort();
            Err(RunError::Spawn(e))
        }
    };
    if workload.topology.is_sequential() {
        let (tx, rx) = (producer_handles, consumer_handles);
        let (tx, rx) = (tx.into_iter().next(), rx.into_iter().next());
        if let (Some(tx), Some(rx)) = (tx, rx) {
            spawn(spawn_worker(
                shared,
                names[0].clone(),
                0,
                (ProducerLog::new(shared), ConsumerLog::new(shared, 0)),
                reports.clone(),
                |logs| Role::Sequential(Box::new(logs)),
                move |shared, (p, c)| sequential(shared, tx, rx, p, c),
            ))?;
        }
    } else {
        for (i, tx) in producer_handles.into_iter().enumerate() {
            spawn(spawn_worker(
                shared,
                names[i].clone(),
                i,
                ProducerLog::new(shared),
                reports.clone(),
                move |out| Role::Producer(i, out),
                move |shared, out| produce(shared, i, tx, out),
            ))?;
        }
        for (i, rx) in consumer_handles.into_iter().enumerate() {
            let slot = producers + i;
            spawn(spawn_worker(
                shared,
                names[slot].clone(),
                slot,
                ConsumerLog::new(shared, i),
                reports.clone(),
                move |out| Role::Consumer(i, out),
                move |shared, out| consume(shared, slot, rx, out),
            ))?;
        }
    }
    let first_closer = names.len() - closers;
    let consumer_closers = first_closer + closer_producers.len();
    for (tx, slot) in closer_producers.into_iter().zip(first_closer..) {
        spawn(spawn_closer(shared, names, slot, tx, &reports))?;
    }
    for (rx, slot) in closer_consumers.into_iter().zip(consumer_closers..) {
        spawn(spawn_closer(shared, names, slot, rx, &reports))?;
    }
    Ok(handles)
}

fn spawn_closer<H: buffer_api::Handle>(
    shared: &Arc<Shared>,
    names: &[String],
    slot: usize,
    handle: H,
    reports: &mpsc::Sender<WorkerReport>,
) -> std::io::Result<JoinHandle<()>> {
    spawn_worker(
        shared,
        names[slot].clone(),
        slot,
        (),
        reports.clone(),
        |()| Role::Closer,
        move |shared, ()| close_storm(shared, slot, handle),
    )
}

/// Collects the workers' reports, looking at the board every [`TICK`]; joins the workers.
/// When the watchdog fires or the process is interrupted, the run is aborted and the workers that do not notice within
/// [`ABORT_GRACE`] are left behind, detached.
fn wait(
    shared: &Shared,
    report_rx: &mpsc::Receiver<WorkerReport>,
    threads: usize,
    handles: Vec<JoinHandle<()>>,
) -> Result<Vec<WorkerReport>, RunError> {
    let mut reports = Vec::with_capacity(threads);
    let mut watchdog = Watchdog::new(watchdog_timeout(&shared.workload));
    while reports.len() < threads {
        match report_rx.recv_timeout(TICK) {
            Ok(report) => reports.push(report),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let stop = match watchdog.check(&shared.board) {
            Some(report) => RunError::Watchdog(report),
            None if interrupted() => RunError::Interrupted,
            None => continue,
        };
        shared.abort();
        let deadline = Instant::now() + ABORT_GRACE;
        while reports.len() < threads {
            let left = deadline.saturating_duration_since(Instant::now());
            match report_rx.recv_timeout(left) {
                Ok(report) => reports.push(report),
                Err(_) => break,
            }
        }
        for handle in handles {
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
        return Err(stop);
    }
    for handle in handles {
        // Workers catch their own panics, so joining cannot fail.
        let _ = handle.join();
    }
    Ok(reports)
}

/// The watchdog's timeout for a workload: its own, plus every wait the workload asks for.
fn watchdog_timeout(workload: &Workload) -> Duration {
    let pacing = workload.rate.map_or(Duration::ZERO, |rate| {
        Duration::try_from_secs_f64(workload.producer_count() as f64 / rate)
            .unwrap_or(Duration::MAX)
    });
    let stall = match workload.fault {
        Some(Fault::ConsumerStall {
            stall: Stall::For(d),
        }) => d,
        _ => Duration::ZERO,
    };
    workload
        .watchdog
        .saturating_add(workload.producer_delay)
        .saturating_add(workload.consumer_delay.longest())
        .saturating_add(pacing)
        .saturating_add(stall)
}
