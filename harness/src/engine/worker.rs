//! One worker thread: named, released by the start gate, run under `catch_unwind` so that what
//! it recorded survives a panic, and reported back to the waiting thread when it ends.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};

use super::consumer::ConsumerLog;
use super::fault::InjectedPanic;
use super::item;
use super::producer::ProducerLog;
use super::shared::Shared;
use super::watchdog::WorkerState;

/// What a worker was, with what it kept.
pub(super) enum Role {
    Producer(usize, ProducerLog),
    Consumer(usize, ConsumerLog),
    Sequential(Box<(ProducerLog, ConsumerLog)>),
    Closer,
}

/// How a worker ended.
pub(super) enum Ending {
    Normal,
    Injected,
    Panicked(String),
}

/// What a worker sends back when it ends.
pub(super) struct WorkerReport {
    pub(super) name: String,
    pub(super) role: Role,
    /// When it passed the start gate; `None` if the run was abandoned before.
    pub(super) start_ns: Option<u64>,
    pub(super) end_ns: u64,
    pub(super) ending: Ending,
}

/// Spawns one worker: waits at the start gate, runs `body` under `catch_unwind` (so records in
/// `out` survive a panic), counts the payload drops on this thread and reports.
pub(super) fn spawn_worker<O: Send + 'static>(
    shared: &Arc<Shared>,
    name: String,
    slot: usize,
    out: O,
    reports: mpsc::Sender<WorkerReport>,
    role: impl FnOnce(O) -> Role + Send + 'static,
    body: impl FnOnce(&Shared, &mut O) + Send + 'static,
) -> std::io::Result<JoinHandle<()>> {
    let shared = Arc::clone(shared);
    thread::Builder::new().name(name.clone()).spawn(move || {
        let drops_before = item::drops_on_this_thread();
        let mut out = out;
        let mut start_ns = None;
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            if shared.start.wait() {
                start_ns = Some(shared.now_ns());
                body(&shared, &mut out);
            }
        }));
        let end_ns = shared.now_ns();
        let ending = match result {
            Ok(()) => Ending::Normal,
            Err(payload) if payload.is::<InjectedPanic>() => Ending::Injected,
            Err(payload) => Ending::Panicked(panic_message(payload.as_ref())),
        };
        shared.board.set(
            slot,
            match ending {
                Ending::Normal => WorkerState::Finished,
                _ => WorkerState::Panicked,
            },
        );
        let drops = item::drops_on_this_thread() - drops_before;
        shared.drops.fetch_add(drops, Ordering::Relaxed);
        // The receiver is gone only if the run was abandoned; nobody is left to tell.
        let _ = reports.send(WorkerReport {
            name,
            role: role(out),
            start_ns,
            end_ns,
            ending,
        });
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
