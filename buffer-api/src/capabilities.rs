//! What a backend declares about itself. The conformance suite checks every declaration that
//! has an observable consequence, so a declaration cannot drift from the behaviour.

use std::fmt;

/// How a feature is provided by a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Support {
    /// The backend implements it in its own synchronisation, in one step.
    Native,
    /// The adapter builds it on top of operations the wrapped crate does provide. Behaviour is
    /// the same; the cost may differ.
    Emulated,
    /// Not offered. Only [`Capabilities::close`] may be unsupported: `close()` stays callable,
    /// returns `false` and changes nothing, and `is_closed()` reports only disconnection (every
    /// handle of one side dropped). Every other feature of the contract must be provided.
    Unsupported,
}

/// The order in which buffered items leave the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Discipline {
    /// First in, first out: items from one producer arrive in the order they were sent.
    Fifo,
    /// Last in, first out: the newest buffered item leaves first.
    Lifo,
    /// Highest priority first; equal priorities leave in FIFO order. The backend reads each
    /// item's priority through a [`PriorityKey`](crate::PriorityKey).
    Priority,
    /// No order promised: every accepted item is received exactly once, and nothing more is
    /// said about which one leaves next. A sharded buffer whose consumers steal from each
    /// other declares it.
    Unordered,
}

/// When the items still buffered are dropped once every consumer handle is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BufferedDrop {
    /// As soon as the last consumer handle is dropped.
    OnLastConsumer,
    /// Only when the last handle of both sides has been dropped.
    OnLastHandle,
}

/// A backend's declared capabilities, shown by `harness list` and checked by the conformance
/// suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// Whether `bounded(0)` builds a rendezvous buffer, where `send` returns only once a
    /// receiver owns the item. Without it, `bounded(0)` returns
    /// [`CapacityError::RendezvousUnsupported`](crate::CapacityError::RendezvousUnsupported).
    pub rendezvous: bool,
    /// How `close()` is provided, or [`Support::Unsupported`] for a backend that offers the
    /// wrapped crate as it is, which has no close (dropping every handle of one side still
    /// disconnects).
    pub close: Support,
    /// How `send_batch` and `recv_batch` are provided.
    pub batch: Support,
    /// The order items leave the buffer in.
    pub discipline: Discipline,
    /// When buffered items are dropped after the last consumer handle goes.
    pub buffered_drop: BufferedDrop,
    /// How a blocked or timed operation waits: [`Support::Native`] when every wait parks
    /// until the event it waits for wakes it, whether that parking is the wrapped crate's own
    /// or the adapter's (a bare queue with the adapter's own condvar or `Parker` beside it);
    /// [`Support::Emulated`] when some wait polls (the adapter retries in slices, or sleeps
    /// between attempts). A polling wait answers late by up to one slice and costs wake-ups
    /// while it waits.
    pub blocking: Support,
    /// How several consumer handles share the buffer: [`Support::Native`] for a crate whose
    /// receiver is itself multi-consumer, [`Support::Emulated`] for one receiver shared behind
    /// a lock, where a receive holds the lock for as long as it waits.
    pub consumers: Support,
    /// How [`Handle::len`](crate::Handle::len) is provided: [`Support::Native`] from the
    /// crate's own count, [`Support::Emulated`] from a counter the adapter keeps beside it
    /// (exact on one thread, a moment behind under concurrency, never above the capacity).
    pub len: Support,
    /// Whether [`Producer::force_send`](crate::Producer::force_send) is offered: on a full
    /// buffer, evict the oldest item and insert the new one in one atomic step. A backend that
    /// cannot do both under one synchronisation step declares `false` and keeps the provided
    /// method, which refuses with [`ForceSendError::Unsupported`](crate::ForceSendError).
    pub drop_oldest: bool,
}

impl Capabilities {
    /// The declaration of a plain bounded buffer in `discipline`: no rendezvous, native close,
    /// blocking, multi-consumer receive and `len`, batches as the provided loops, buffered items
    /// dropped with the last consumer, no `force_send`. A backend starts here and states only
    /// what differs, with the `with_` methods:
    ///
    /// ```
    /// use buffer_api::{Capabilities, Discipline, Support};
    ///
    /// const CAPABILITIES: Capabilities =
    ///     Capabilities::new(Discipline::Fifo).with_rendezvous(true).with_batch(Support::Native);
    /// assert_eq!(CAPABILITIES.close, Support::Native);
    /// assert!(CAPABILITIES.rendezvous);
    /// ```
    pub const fn new(discipline: Discipline) -> Self {
        Self {
            rendezvous: false,
            close: Support::Native,
            batch: Support::Emulated,
            discipline,
            buffered_drop: BufferedDrop::OnLastConsumer,
            blocking: Support::Native,
            consumers: Support::Native,
            len: Support::Native,
            drop_oldest: false,
        }
    }

    /// These capabilities with [`rendezvous`](Self::rendezvous) set.
    pub const fn with_rendezvous(self, rendezvous: bool) -> Self {
        Self { rendezvous, ..self }
    }

    /// These capabilities with [`close`](Self::close) set.
    pub const fn with_close(self, close: Support) -> Self {
        Self { close, ..self }
    }

    /// These capabilities with [`batch`](Self::batch) set.
    pub const fn with_batch(self, batch: Support) -> Self {
        Self { batch, ..self }
    }

    /// These capabilities with [`buffered_drop`](Self::buffered_drop) set.
    pub const fn with_buffered_drop(self, buffered_drop: BufferedDrop) -> Self {
        Self {
            buffered_drop,
            ..self
        }
    }

    /// These capabilities with [`blocking`](Self::blocking) set.
    pub const fn with_blocking(self, blocking: Support) -> Self {
        Self { blocking, ..self }
    }

    /// These capabilities with [`consumers`](Self::consumers) set.
    pub const fn with_consumers(self, consumers: Support) -> Self {
        Self { consumers, ..self }
    }

    /// These capabilities with [`len`](Self::len) set.
    pub const fn with_len(self, len: Support) -> Self {
        Self { len, ..self }
    }

    /// These capabilities with [`drop_oldest`](Self::drop_oldest) set.
    pub const fn with_drop_oldest(self, drop_oldest: bool) -> Self {
        Self {
            drop_oldest,
            ..self
        }
    }

    /// Whether items from one producer are received in the order they were sent, so that
    /// per-producer order can be verified.
    pub fn preserves_producer_order(&self) -> bool {
        self.discipline == Discipline::Fifo
    }

    /// Whether `close()` does anything: false for [`Support::Unsupported`].
    pub fn closes(&self) -> bool {
        self.close != Support::Unsupported
    }
}

impl fmt::Display for Support {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Native => "native",
            Self::Emulated => "emulated",
            Self::Unsupported => "unsupported",
        })
    }
}

impl fmt::Display for Discipline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fifo => "fifo",
            Self::Lifo => "lifo",
            Self::Priority => "priority",
            Self::Unordered => "unordered",
        })
    }
}

impl fmt::Display for BufferedDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OnLastConsumer => "on last consumer",
            Self::OnLastHandle => "on last handle",
        })
    }
}
