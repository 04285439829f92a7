//! A process-wide request to stop, made from a signal handler (the command line's Ctrl-C)
//! and read by the thread that waits for each run's workers, which then aborts the run the
//! way the watchdog does. Process-wide because a signal is.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every run in this process to stop: the run in progress aborts within a tick of its
/// watchdog loop (50 ms), and [`run()`](super::run) returns the repetitions measured so far.
/// Only a store, so it is safe to call from a signal handler's thread.
pub fn interrupt() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether [`interrupt`] was called.
pub fn interrupted() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
