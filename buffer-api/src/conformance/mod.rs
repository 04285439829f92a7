//! The conformance suite: every behaviour of the catalogue (`docs/conformance.md`, items
//! 1-44), items 45-46 for the drop-oldest policy
//! ([`Producer::force_send`](crate::Producer::force_send)), item 47 (a buffer reported closed
//! stays closed, raced against the last consumer's drop), item 48 (the capacity limit for
//! zero-sized payloads) and item 49 (a `close()` declared unsupported changes
//! nothing), written once as generic functions over [`Backend`](crate::Backend).
//!
//! A backend that declares [`Support::Unsupported`](crate::Support::Unsupported) for `close`
//! skips the close behaviours (items 22, 24-29 and 42, and the close parts of items 20, 33, 36
//! and 41), the way the order checks skip a discipline other than FIFO. Items that use close
//! only to end the sending side drop the last producer handle instead.
//!
//! A backend's test crate runs all of it with one line:
//!
//! ```text
//! buffer_api::conformance_suite!(buffer_condvar::Condvar);
//! ```
//!
//! Each item is a public function `itemNN_...::<B>()` that panics on a violation; the macro turns
//! each into a `#[test]` run under a [`watchdog`], so a hang becomes a named failure instead of a
//! stuck test binary.
//!
//! Items whose behaviour depends on a declared capability check the declaration: a backend that
//! declares rendezvous must behave as one, a backend that does not must refuse capacity 0 with
//! [`CapacityError::RendezvousUnsupported`](crate::CapacityError::RendezvousUnsupported), and the
//! moment buffered items are dropped must match [`Capabilities::buffered_drop`](crate::Capabilities::buffered_drop).
//! Order is checked against the declared [`Discipline`](crate::Discipline): per-producer FIFO
//! checks run only where FIFO is declared, and items 43-44 hold every backend to its own
//! discipline. `force_send` is loaded where `drop_oldest` is declared and must refuse with
//! `Unsupported` where it is not (items 45-46).
//!
//! # Sizes
//!
//! Sizes are small by default, so that the whole workspace's tests take a few minutes on two
//! cores. Set `BUFFER_CONFORMANCE_SCALE=N` to multiply item counts and repetitions by `N` for a
//! soak run, and `BUFFER_WATCHDOG_SECS=S` to change how long one item may run (default 120 s).
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

/// Instantiates the whole conformance suite for a backend: one `#[test]` per catalogue item.
///
/// Put it in a test file of the backend crate, with `buffer-api`'s `conformance` feature enabled
/// in `[dev-dependencies]`:
///
/// ```text
/// buffer_api::conformance_suite!(buffer_condvar::Condvar);
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($backend:ty) => {
        $crate::__conformance_tests! {
            $backend;
            item01_construction_capacity,
            item02_zero_capacity_declared,
            item03_overflowing_capacity_refused,
            item04_try_send_fills_to_capacity,
            item05_backpressure_blocks_send,
            item06_empty_recv_blocks,
            item07_wraparound_keeps_fifo,
            item08_len_exact_single_thread,
            item09_spsc_fifo,
            item10_per_producer_order,
            item11_exactly_once,
            item12_mixed_operations,
            item13_churn,
            item14_visibility,
            item15_try_send_full_unchanged,
            item16_try_recv_empty_then_drain,
            item17_timeouts_never_early,
            item18_zero_timeout_with_work,
            item19_timeout_early_wake,
            item20_huge_timeouts,
            item21_no_stealing_after_timeout,
            item22_timeout_racing_close,
            item23_timed_stress,
            item24_close_wakes_consumers,
            item25_close_wakes_producers,
            item26_drain_after_close,
            item27_send_after_close,
            item28_close_idempotent,
            item29_close_under_load,
            item30_last_producer_drop_disconnects,
            item31_last_consumer_drop_disconnects,
            item32_every_item_dropped_once,
            item33_handed_back_items_belong_to_caller,
            item34_bounded_memory,
            item35_panicking_drop,
            item36_zero_capacity_try_ops,
            item37_zero_capacity_pairs,
            item38_zero_capacity_hand_off,
            item39_panicking_thread_hangs_nobody,
            item40_concurrent_len,
            item41_batch,
            item42_fairness_reported,
            item43_discipline_one_thread,
            item44_discipline_concurrent_fill,
            item45_force_send_one_thread,
            item46_force_send_exactly_once,
            item47_closed_is_final,
            item48_zero_sized_capacity,
            item49_close_unsupported,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($backend:ty; $($item:ident),* $(,)?) => {
        $(
            #[test]
            fn $item() {
                $crate::conformance::watchdog(
                    stringify!($item),
                    $crate::conformance::$item::<$backend>,
                );
            }
        )*
    };
}
