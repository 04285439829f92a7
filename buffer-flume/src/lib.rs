//! Adapters of flume to the buffer-api contract, two of them:
//!
//! | backend | name | what it is |
//! | --- | --- | --- |
//! | [`Flume`] | `flume` | flume as its users use it: `bounded`, its own blocking, timeouts and disconnect, and no `close()` |
//! | [`FlumeClose`] | `flume-close` | the same channel with an exact emulated `close()` ([`close`] says how, and what it costs) |
//!
//! Both build a `flume::bounded` channel, and their handles are thin newtypes over its `Sender`
//! and `Receiver`. Capacity 0 is flume's native rendezvous channel. Dropping every handle of
//! one side disconnects natively. Like flume itself, the adapters have no `unsafe`.
//!
//! Items still buffered when the last consumer goes stay in the channel until the last handle of
//! both sides is gone: flume's disconnect leaves the queue alone and frees it with the channel.
//!
//! ```
//! use buffer_api::{Backend, Consumer, Handle, Producer, RecvError};
//! use buffer_flume::{Flume, FlumeClose};
//!
//! let (tx, rx) = FlumeClose::bounded::<u32>(2)?;
//! tx.send(1).expect("open");
//! assert!(rx.close());
//! assert!(tx.send(2).is_err());
//! assert_eq!(rx.recv(), Ok(1));
//! assert_eq!(rx.recv(), Err(RecvError));
//!
//! // Raw flume offers no close: only dropping one side ends the buffer.
//! let (tx, rx) = Flume::bounded::<u32>(2)?;
//! assert!(!rx.close());
//! tx.send(1).expect("still open");
//! drop(tx);
//! assert_eq!(rx.recv(), Ok(1));
//! assert_eq!(rx.recv(), Err(RecvError));
//! # Ok::<(), buffer_api::CapacityError>(())
//! ```

use buffer_api::TrySendError;

pub mod close;
pub mod raw;

pub use close::{CLOSE_POLL, FlumeClose};
pub use raw::Flume;

/// The capacity of a channel built by `bounded`, which flume always reports.
fn capacity(reported: Option<usize>) -> usize {
    // `None` would mean unbounded, which `bounded` never builds.
    reported.unwrap_or(usize::MAX)
}

fn try_send_error<T>(error: flume::TrySendError<T>) -> TrySendError<T> {
    match error {
        flume::TrySendError::Full(item) => TrySendError::Full(item),
        flume::TrySendError::Disconnected(item) => TrySendError::Disconnected(item),
    }
}
