//! The asymmetric fence pair of the close gate: a [`light`] fence that senders issue on every
//! send and a [`heavy`] one that the closer issues once.
//!
//! On Linux, where the kernel offers `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, the light
//! fence is only a compiler fence and the heavy one is that system call: it returns after every
//! running thread of the process has executed a full memory barrier. Anywhere else, or where the
//! kernel refuses (an old kernel, a sandbox that filters the call), both are `SeqCst` fences.
//! The choice is made once per process, by the first [`CloseGate`](super::CloseGate) built, and
//! never changes, so both sides of every gate always use the same pair.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering, compiler_fence, fence};

/// Whether the process-wide barrier is in use. Written once, inside [`init`]'s `OnceLock`,
/// before any gate exists; read by every send.
static EXPEDITED: AtomicBool = AtomicBool::new(false);

/// Decides the fence pair for the process, once. Called by `CloseGate::new`, so every send
/// through a gate reads the decision after it was made.
pub(super) fn init() {
    static DECIDED: OnceLock<()> = OnceLock::new();
    DECIDED.get_or_init(|| EXPEDITED.store(expedited_available(), Ordering::Relaxed));
}

/// Whether the kernel offers the private expedited barrier, registering this process for it;
/// `false` off Linux.
fn expedited_available() -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::thread::{MembarrierCommand, membarrier, membarrier_query};
        let offered = membarrier_query();
        offered.contains_command(MembarrierCommand::PrivateExpedited)
            && offered.contains_command(MembarrierCommand::RegisterPrivateExpedited)
            && membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// The sender's half: orders the sender's store of its count before its load of `closed`,
/// given that the closer issues [`heavy`] between its store of `closed` and its loads of the
/// counts.
#[inline]
pub(super) fn light() {
    if EXPEDITED.load(Ordering::Relaxed) {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// The closer's half: after it returns, every store a sender made before its [`light`] fence
/// is visible to the closer, or that sender's load after the fence sees the closer's stores.
pub(super) fn heavy() {
    if EXPEDITED.load(Ordering::Relaxed) {
        heavy_expedited();
    } else {
        fence(Ordering::SeqCst);
    }
}

/// The system's barrier (only ever called where [`expedited_available`] said yes).
fn heavy_expedited() {
    // The process registered for it in `init`, and the kernel documents no way for a
    // registered process's barrier to fail.
    #[cfg(target_os = "linux")]
    rustix::thread::membarrier(rustix::thread::MembarrierCommand::PrivateExpedited)
        .expect("membarrier(PRIVATE_EXPEDITED) failed after it was registered");
    #[cfg(not(target_os = "linux"))]
    fence(Ordering::SeqCst);
}

/// Whether this process uses the system's barrier (`true`) or plain fences.
pub fn expedited() -> bool {
    init();
    EXPEDITED.load(Ordering::Relaxed)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::thread::{MembarrierCommand, membarrier_query};

    /// Where the kernel offers the private expedited barrier, the gate registers for it and
    /// uses it, and a later barrier goes through; where it does not, the plain fences.
    #[test]
    fn the_system_barrier_is_used_where_the_kernel_offers_it() {
        let offered = membarrier_query();
        let offered = offered.contains_command(MembarrierCommand::PrivateExpedited)
            && offered.contains_command(MembarrierCommand::RegisterPrivateExpedited);
        eprintln!("membarrier private expedited offered: {offered}");
        assert_eq!(super::expedited(), offered);
        super::heavy();
        super::light();
    }
}
