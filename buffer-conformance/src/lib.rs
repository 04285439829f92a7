//! The conformance suite of the bounded-buffer contract: every behaviour of the catalogue
//! (`docs/conformance.md`) written once as a generic function over
//! [`Backend`](buffer_api::Backend), and a macro that runs all of them against one backend.
//!
//! A backend's test crate, with this crate in its `[dev-dependencies]`, runs the suite with one
//! line:
//!
//! ```text
//! buffer_conformance::conformance_suite!(buffer_condvar::CondvarFifo);
//! ```
//!
//! Each behaviour is a public function named for what it checks, `name::<B>()`, that panics on
//! a violation; the macro turns each into a `#[test]` of the same name, run under a
//! [`watchdog`], so a hang becomes a named failure instead of a stuck test binary.
//!
//! Behaviours that depend on a declared capability check the declaration instead of being
//! skipped: a backend that declares rendezvous must behave as one, a backend that does not must
//! refuse capacity 0 with
//! [`CapacityError::RendezvousUnsupported`](buffer_api::CapacityError::RendezvousUnsupported),
//! and the moment buffered items are dropped must match
//! [`Capabilities::buffered_drop`](buffer_api::Capabilities::buffered_drop). Order is checked
//! against the declared [`Discipline`](buffer_api::Discipline): per-producer FIFO only where
//! FIFO is declared, and every backend is held to its own discipline.
//! [`Producer::force_send`](buffer_api::Producer::force_send) is loaded where `drop_oldest` is
//! declared and must refuse with `Unsupported` where it is not. A backend that declares
//! [`Support::Unsupported`](buffer_api::Support::Unsupported) for `close` skips the behaviours
//! of `close()` itself; those that use close only to end the sending side drop the last
//! producer handle instead.
//!
//! # Sizes
//!
//! Sizes are small by default, so that the whole workspace's tests take a few minutes on two
//! cores. Set `BUFFER_CONFORMANCE_SCALE=N` to multiply item counts and repetitions by `N` for a
//! soak run, and `BUFFER_WATCHDOG_SECS=S` to change how long one behaviour may run (default
//! 120 s).
//!
//! # Timing
//!
//! [`EPSILON`] is the "must not have happened yet" probe; [`SLACK`] is the generous upper bound for
//! "promptly". Lower bounds on timeouts are hard; upper bounds are soft. No verdict relies on a
//! sleep: a sleep only makes a race more likely.

mod support;

mod close;
mod closed_is_final;
mod construction;
mod discipline;
mod drops;
mod fifo;
mod rendezvous;
mod robust;
mod timeouts;
mod try_ops;

pub use support::{
    DropCounter, EPSILON, Probe, SLACK, Tracked, new_buffer, scale, scaled, spawn_probe,
    stop_sending, watchdog,
};

pub use close::*;
pub use closed_is_final::*;
pub use construction::*;
pub use discipline::*;
pub use drops::*;
pub use fifo::*;
pub use rendezvous::*;
pub use robust::*;
pub use timeouts::*;
pub use try_ops::*;

/// Instantiates the whole conformance suite for a backend: one `#[test]` per behaviour.
///
/// Put it in a test file of the backend crate, with `buffer-api`'s `conformance` feature enabled
/// in `[dev-dependencies]`:
///
/// ```text
/// buffer_conformance::conformance_suite!(buffer_condvar::CondvarFifo);
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($backend:ty) => {
        $crate::__conformance_tests! {
            $backend;
            construction_capacity,
            zero_capacity_declared,
            overflowing_capacity_refused,
            try_send_fills_to_capacity,
            backpressure_blocks_send,
            empty_recv_blocks,
            wraparound_keeps_fifo,
            len_exact_single_thread,
            spsc_fifo,
            per_producer_order,
            exactly_once,
            mixed_operations,
            churn_of_short_lived_buffers,
            own_send_visible_to_next_try_recv,
            try_send_full_unchanged,
            try_recv_empty_then_drain,
            timeouts_never_early,
            zero_timeout_with_work,
            timeout_early_wake,
            huge_timeouts,
            no_stealing_after_timeout,
            timeout_racing_close,
            timed_stress,
            close_wakes_consumers,
            close_wakes_producers,
            drain_after_close,
            send_after_close,
            close_racing_sends_keeps_accepted_items,
            close_idempotent,
            concurrent_close_returns_true_once,
            close_under_load,
            last_producer_drop_disconnects,
            last_consumer_drop_disconnects,
            every_item_dropped_once,
            handed_back_items_belong_to_caller,
            bounded_memory,
            panicking_buffered_drop_drops_once_without_deadlock,
            panicking_received_drop_keeps_buffer_usable,
            zero_capacity_try_ops,
            zero_capacity_pairs,
            zero_capacity_hand_off,
            panicking_consumer_hangs_nobody,
            panicking_producer_hangs_nobody,
            panicking_last_consumer_releases_producers,
            panicking_batch_iterator_keeps_buffer_usable,
            concurrent_len,
            batches_bounded_ordered_and_complete,
            fairness_reported,
            discipline_one_thread,
            discipline_concurrent_fill,
            force_send_one_thread,
            force_send_exactly_once,
            closed_stays_closed,
            zero_sized_capacity,
            close_unsupported,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($backend:ty; $($behaviour:ident),* $(,)?) => {
        $(
            #[test]
            fn $behaviour() {
                $crate::watchdog(
                    stringify!($behaviour),
                    $crate::$behaviour::<$backend>,
                );
            }
        )*
    };
}
