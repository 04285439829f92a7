//! What `is_closed()` and `close()` report.
//!
//! Once a handle has reported the buffer closed, it stays closed for every handle. An adapter
//! that counts handles beside the wrapped crate's own disconnect has a window: the count can
//! reach zero before the crate has disconnected. In that window `is_closed()` says `true`,
//! `close()` finds nothing left to close, and a send still lands in a channel that no one will
//! ever read. The window is a few instructions wide, so `closed_stays_closed` runs the race
//! many times.

use std::hint;
use std::thread;

use crate::support::{new_buffer, scaled};
use buffer_api::{
    Backend, Consumer, Handle, Producer, RecvError, SendError, TryRecvError, TrySendError,
};

/// Closed stays closed: the last consumer is dropped on another thread; a producer that sees
/// `is_closed()` then gets `false` from `close()` (the buffer is closed already) and
/// `Disconnected` from `try_send` and `send`, each with its own item handed back. Repeated 3000
/// times.
pub fn closed_stays_closed<B: Backend>() {
    let mut accepted = 0;
    let rounds = scaled(3000);
    for _ in 0..rounds {
        let (p, q) = new_buffer::<B, u64>(4);
        let dropper = thread::spawn(move || drop(q));
        while !p.is_closed() {
            hint::spin_loop();
        }
        let closed = p.close();
        let tried = p.try_send(7);
        let sent = p.send(8);
        if let Err(panic) = dropper.join() {
            std::panic::resume_unwind(panic);
        }
        assert!(
            !closed,
            "{}: close() returned true after is_closed() said the buffer was closed",
            B::NAME
        );
        match (tried, sent) {
            (Err(TrySendError::Disconnected(7)), Err(SendError(8))) => {}
            (tried, sent) => {
                accepted += usize::from(tried.is_ok()) + usize::from(sent.is_ok());
                assert!(
                    matches!(tried, Ok(()) | Err(TrySendError::Disconnected(7))),
                    "{}: try_send after close gave {tried:?}",
                    B::NAME
                );
            }
        }
    }
    assert_eq!(
        accepted,
        0,
        "{}: {accepted} sends in {rounds} rounds were accepted after is_closed() said closed",
        B::NAME
    );
}

/// A backend that declares `close` unsupported keeps `close()` callable, and it returns
/// `false` and changes nothing: sends and receives go on, `is_closed()` stays `false`. Only
/// dropping every handle of one side ends the buffer, and `is_closed()` then reports it on the
/// other side. A backend that offers close is held to the close behaviours
/// (`close_wakes_consumers` to `close_under_load`) instead.
pub fn close_unsupported<B: Backend>() {
    if B::CAPABILITIES.closes() {
        return;
    }
    let (p, q) = new_buffer::<B, u64>(2);
    assert!(!p.close(), "{}: close() on a producer", B::NAME);
    assert!(!q.close(), "{}: close() on a consumer", B::NAME);
    assert!(
        !p.is_closed() && !q.is_closed(),
        "{}: is_closed after close()",
        B::NAME
    );
    assert_eq!(p.try_send(1), Ok(()), "{}: try_send after close()", B::NAME);
    assert_eq!(p.send(2), Ok(()), "{}: send after close()", B::NAME);
    assert_eq!(q.len(), 2, "{}: len after close()", B::NAME);
    assert_eq!(q.try_recv(), Ok(1), "{}: try_recv after close()", B::NAME);

    let q2 = q.clone();
    drop(q);
    assert!(!p.is_closed(), "{}: one of two consumers dropped", B::NAME);
    drop(q2);
    assert!(p.is_closed(), "{}: every consumer dropped", B::NAME);
    assert!(!p.close(), "{}: close() after the consumers went", B::NAME);
    assert_eq!(
        p.try_send(3),
        Err(TrySendError::Disconnected(3)),
        "{}",
        B::NAME
    );
    assert_eq!(p.send(4), Err(SendError(4)), "{}", B::NAME);

    let (p, q) = new_buffer::<B, u64>(2);
    assert_eq!(p.try_send(5), Ok(()), "{}", B::NAME);
    drop(p);
    assert!(q.is_closed(), "{}: every producer dropped", B::NAME);
    assert_eq!(
        q.try_recv(),
        Ok(5),
        "{}: drain after the producers went",
        B::NAME
    );
    assert_eq!(q.try_recv(), Err(TryRecvError::Disconnected), "{}", B::NAME);
    assert_eq!(q.recv(), Err(RecvError), "{}", B::NAME);
}
