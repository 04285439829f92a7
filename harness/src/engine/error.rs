//! Why a run could not produce a measurement, and the capacity check made before any backend
//! runs. The errors carry values; the command line names the flags.

use buffer_api::CapacityError;

use super::item::Item;
use super::watchdog::WatchdogReport;
use crate::spec::{Fault, Payload, Policy, Workload, WorkloadError};

/// Why a run could not produce a measurement. A run that completes but fails verification is
/// not an error: its measurement says so in `verification.ok`.
#[derive(Debug)]
pub enum RunError {
    /// The workload is invalid.
    Workload(WorkloadError),
    /// The backend refused the capacity.
    Capacity(CapacityError),
    /// A thread could not be spawned.
    Spawn(std::io::Error),
    /// No thread made progress for the watchdog's timeout.
    Watchdog(WatchdogReport),
    /// The backend does not offer what the workload needs (`drop-oldest` needs
    /// `Capabilities::drop_oldest`, `close-storm` needs a `close()`).
    Unsupported(Unsupported),
    /// [`interrupt`](super::interrupt) stopped the run before any repetition finished.
    Interrupted,
}

impl RunError {
    /// Whether the watchdog ended the run.
    pub fn is_watchdog(&self) -> bool {
        matches!(self, Self::Watchdog(_))
    }
}

impl std::fmt::Display for RunError {
    /// One line, without the flag a command line would name: the workload's, the capacity's
    /// or the policy's error, a spawn failure, or the watchdog's report.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Workload(e) => e.fmt(f),
            Self::Capacity(e) => e.fmt(f),
            Self::Spawn(e) => write!(f, "could not spawn a thread: {e}"),
            Self::Watchdog(report) => write!(f, "watchdog fired: {report}"),
            Self::Unsupported(e) => e.fmt(f),
            Self::Interrupted => write!(f, "interrupted before any repetition finished"),
        }
    }
}

impl std::error::Error for RunError {}

/// A backend that does not offer what a workload needs. `Display` is one line naming both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The backend's name.
    pub backend: &'static str,
    /// What it does not offer.
    pub needs: Needs,
}

/// A part of a workload that only some backends can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// The `drop-oldest` policy: an atomic evict-and-insert.
    DropOldest,
    /// The `close-storm` fault: a `close()`.
    Close,
}

impl Unsupported {
    /// `Some` when backend `name` with `capabilities` cannot run `workload`.
    pub(crate) fn check(
        name: &'static str,
        capabilities: &buffer_api::Capabilities,
        workload: &Workload,
    ) -> Option<Self> {
        let needs = if workload.policy == Policy::DropOldest && !capabilities.drop_oldest {
            Needs::DropOldest
        } else if matches!(workload.fault, Some(Fault::CloseStorm { .. })) && !capabilities.closes()
        {
            Needs::Close
        } else {
            return None;
        };
        Some(Self {
            backend: name,
            needs,
        })
    }
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.needs {
            Needs::DropOldest => write!(
                f,
                "{} cannot evict and insert atomically, so it does not offer {}",
                self.backend,
                Policy::DropOldest
            ),
            Needs::Close => write!(
                f,
                "{} offers no close(), so it cannot run close-storm",
                self.backend
            ),
        }
    }
}

/// Checks the workload's capacity the way every backend does, for the workload's item type,
/// without building a buffer: a capacity too large to allocate is refused here, before any
/// backend runs. Capacity 0 passes; whether a backend has rendezvous is its own question.
///
/// # Errors
///
/// [`CapacityError::TooLarge`].
pub(crate) fn check_capacity(workload: &Workload) -> Result<(), CapacityError> {
    let any = buffer_api::Capabilities::new(buffer_api::Discipline::Fifo).with_rendezvous(true);
    let capacity = workload.capacity;
    match workload.payload {
        Payload::U64 => buffer_api::check_capacity::<Item<u64>>("harness", &any, capacity),
        Payload::Bytes64 => buffer_api::check_capacity::<Item<[u8; 64]>>("harness", &any, capacity),
        Payload::Boxed4K => {
            buffer_api::check_capacity::<Item<Box<[u8; 4096]>>>("harness", &any, capacity)
        }
    }
}
