//! The close storm's closer threads (see the `close-storm` fault).

use std::sync::atomic::Ordering;

use super::shared::Shared;
use super::watchdog::WorkerState;

/// Waits for the moment, meets the other closers, closes, drops the handle.
pub(super) fn close_storm<H: buffer_api::Handle>(shared: &Shared, slot: usize, handle: H) {
    shared.board.set(slot, WorkerState::WaitingToClose);
    if !shared.storm.wait(|| shared.aborted()) || !shared.closers_meet.wait() {
        return;
    }
    shared.board.set(slot, WorkerState::Closing);
    if handle.close() {
        shared.closes_returning_true.fetch_add(1, Ordering::Relaxed);
    }
}
