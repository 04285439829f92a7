//! Adapters of crossbeam-channel to the buffer-api contract, two of them:
//!
//! | backend | name | what it is |
//! | --- | --- | --- |
//! | [`Crossbeam`] | `crossbeam` | crossbeam-channel as its users use it: `bounded`, its own blocking, timeouts and disconnect, and no `close()` |
//! | [`CrossbeamClose`] | `crossbeam-close` | the same channel with an exact emulated `close()` ([`close`] says what that costs) |
//!
//! Both build a `crossbeam_channel::bounded` channel, and their handles are thin newtypes over
//! its `Sender` and `Receiver`. Capacity 0 is crossbeam's native rendezvous channel. Dropping
//! every handle of one side disconnects natively.
//!
//! Items still buffered when the last consumer goes stay in the channel until the last handle of
//! both sides is gone: crossbeam's array flavour frees its slots only then.
//!
//! ```
//! use buffer_api::{Backend, Consumer, Handle, Producer, RecvError};
//! use buffer_crossbeam::{Crossbeam, CrossbeamClose};
//!
//! let (tx, rx) = CrossbeamClose::bounded::<u32>(2)?;
//! tx.send(1).expect("open");
//! assert!(rx.close());
//! assert!(tx.send(2).is_err());
//! assert_eq!(rx.recv(), Ok(1));
//! assert_eq!(rx.recv(), Err(RecvError));
//!
//! // Raw crossbeam offers no close: only dropping one side ends the buffer.
//! let (tx, rx) = Crossbeam::bounded::<u32>(2)?;
//! assert!(!rx.close());
//! tx.send(1).expect("still open");
//! drop(tx);
//! assert_eq!(rx.recv(), Ok(1));
//! assert_eq!(rx.recv(), Err(RecvError));
//! # Ok::<(), buffer_api::CapacityError>(())
//! ```

use std::sync::atomic::AtomicUsize;

use buffer_api::{SendTimeoutError, TrySendError};
use crossbeam_channel as cb;

pub mod close;
pub mod raw;

pub use close::CrossbeamClose;
pub use raw::Crossbeam;

/// The size of one slot of crossbeam's array flavour, which stores a stamp beside each item and
/// allocates every slot up front: the capacity check probes with this, not with bare `T`, so that
/// even a zero-sized `T` cannot ask for a slot array that would abort on allocation.
type ArraySlot<T> = (AtomicUsize, T);

/// The capacity of a channel built by `bounded`, which crossbeam always reports.
fn capacity(reported: Option<usize>) -> usize {
    // `None` would mean unbounded, which `bounded` never builds.
    reported.unwrap_or(usize::MAX)
}

fn try_send_error<T>(error: cb::TrySendError<T>) -> TrySendError<T> {
    match error {
        cb::TrySendError::Full(item) => TrySendError::Full(item),
        cb::TrySendError::Disconnected(item) => TrySendError::Disconnected(item),
    }
}

fn send_disconnected<T>(cb::SendError(item): cb::SendError<T>) -> SendTimeoutError<T> {
    SendTimeoutError::Disconnected(item)
}
