//! The synchronisation primitives the hand-written buffers (`buffer-condvar`, `buffer-steal`)
//! are built on, chosen at compile time, so that a model checker sees every lock, wait,
//! notification and atomic access a buffer makes.
//!
//! - Normal builds: `parking_lot`'s `Mutex`, `MutexGuard` and `Condvar`, `std`'s `Arc`, atomics
//!   and `yield_now`, re-exported as they are. No wrapper exists in these builds.
//! - `cfg(loom)`: thin adapters over `loom::sync` and `loom::thread`.
//! - `cfg(shuttle)`: the same adapters over `shuttle::sync` and `shuttle::thread`.
//!
//! The buffers are written against parking_lot's API, so the adapters mimic it: `lock` returns
//! the guard itself (there is no poisoning), and `Condvar::wait` borrows the guard mutably
//! where loom's and shuttle's take it by value and hand it back. The adapter's guard holds the
//! checker's guard in an `Option` so that `wait` can move it out and put it back. The adapter's
//! `wait_while` is parking_lot's loop: it asks its condition before the first wait and after
//! every wake-up; the buffers park through it and trust its answer.
//!
//! Under the checkers a timed wait (`wait_until`, `wait_while_until`) is a plain wait: neither
//! loom nor shuttle models time, so it never times out. Timed operations are therefore kept out
//! of the models.
//!
//! The hand-written mutants of `scripts/mutants.sh` (`cfg(mutant_if_wait)`,
//! `cfg(mutant_one_condvar)`, `cfg(mutant_close_notify_one)`) live in the adapter too, in its
//! `mutants` module: each replaces one adapter method, so they exist only under a checker, and
//! the buffers' code is the same in every build. Every buffer built on the facade is checked
//! against them.

#[cfg(all(loom, shuttle))]
compile_error!("`cfg(loom)` and `cfg(shuttle)` exclude each other: build one model at a time");

#[cfg(not(any(loom, shuttle)))]
pub use parking_lot::{Condvar, Mutex, MutexGuard};
#[cfg(not(any(loom, shuttle)))]
pub use std::sync::Arc;
#[cfg(not(any(loom, shuttle)))]
pub use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(not(any(loom, shuttle)))]
pub use std::thread::yield_now;

#[cfg(any(loom, shuttle))]
pub use self::model::{
    Arc, AtomicBool, AtomicUsize, Condvar, Mutex, MutexGuard, Ordering, yield_now,
};

/// parking_lot's API over a model checker's primitives.
#[cfg(any(loom, shuttle))]
mod model {
    use std::ops::{Deref, DerefMut};
    use std::sync::PoisonError;
    use std::time::Instant;

    #[cfg(loom)]
    use loom as checker;
    #[cfg(shuttle)]
    use shuttle as checker;

    pub use checker::sync::Arc;
    pub use checker::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub use checker::thread::yield_now;

    /// A mutex whose `lock` returns the guard, as parking_lot's does.
    pub struct Mutex<T>(checker::sync::Mutex<T>);

    /// The guard of a [`Mutex`]; always `Some` outside [`Condvar::wait`].
    pub struct MutexGuard<'a, T>(Option<checker::sync::MutexGuard<'a, T>>);

    /// A condvar whose `wait` borrows the guard, as parking_lot's does.
    pub struct Condvar(
        // Unread in the mutant that routes every condvar to one (see `mutants`).
        #[cfg_attr(mutant_one_condvar, allow(dead_code))] checker::sync::Condvar,
    );

    impl<T> Mutex<T> {
        /// An unlocked mutex holding `value`.
        pub fn new(value: T) -> Self {
            Self(checker::sync::Mutex::new(value))
        }

        /// Locks; a poisoned lock is taken anyway, like parking_lot, which has no poisoning.
        #[track_caller]
        pub fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap_or_else(PoisonError::into_inner)))
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;

        fn deref(&self) -> &T {
            self.0.as_ref().expect("the guard is held outside `wait`")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("the guard is held outside `wait`")
        }
    }

    impl Default for Condvar {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Condvar {
        /// A condvar nobody waits on.
        pub fn new() -> Self {
            Self(checker::sync::Condvar::new())
        }

        /// The checker's condvar this one stands for.
        #[cfg(not(mutant_one_condvar))]
        fn inner(&self) -> &checker::sync::Condvar {
            &self.0
        }

        /// Unlocks, parks until notified, relocks.
        #[track_caller]
        pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("the guard is held outside `wait`");
            guard.0 = Some(
                self.inner()
                    .wait(inner)
                    .unwrap_or_else(PoisonError::into_inner),
            );
        }

        /// A plain [`wait`](Self::wait): the checkers do not model time, so this never times out.
        #[track_caller]
        pub fn wait_until<T>(&self, guard: &mut MutexGuard<'_, T>, _deadline: Instant) {
            self.wait(guard);
        }

        /// Waits while `condition` holds, asking it before the first wait and after each one.
        #[cfg(not(mutant_if_wait))]
        #[track_caller]
        pub fn wait_while<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            mut condition: impl FnMut(&mut T) -> bool,
        ) {
            while condition(guard) {
                self.wait(guard);
            }
        }

        /// A plain [`wait_while`](Self::wait_while): never times out, as
        /// [`wait_until`](Self::wait_until).
        #[track_caller]
        pub fn wait_while_until<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            condition: impl FnMut(&mut T) -> bool,
            _deadline: Instant,
        ) {
            self.wait_while(guard, condition);
        }

        /// Wakes one waiter. The checkers do not say whether one was waiting, so this answers
        /// `true`, which callers may only take as "perhaps": a buffer may use the answer to stop
        /// notifying early, and notifying an empty condvar is harmless.
        #[track_caller]
        pub fn notify_one(&self) -> bool {
            self.inner().notify_one();
            true
        }

        /// Wakes every waiter.
        #[cfg(not(mutant_close_notify_one))]
        #[track_caller]
        pub fn notify_all(&self) {
            self.inner().notify_all();
        }
    }

    /// The deliberately broken variants that `scripts/mutants.sh` builds, one cfg each, and
    /// that the loom and shuttle suites must catch. Each replaces one method of the adapter
    /// above, so a buffer's own code is the same in every build; none exists outside the
    /// checkers.
    #[cfg(any(mutant_if_wait, mutant_one_condvar, mutant_close_notify_one))]
    mod mutants {
        use super::{Condvar, MutexGuard, checker};

        /// `mutant_if_wait`: `if` instead of `while`. Waits at most once and trusts the
        /// wake-up, so a thread woken after another took its item or slot acts on a predicate
        /// that no longer holds.
        #[cfg(mutant_if_wait)]
        impl Condvar {
            #[track_caller]
            pub fn wait_while<T>(
                &self,
                guard: &mut MutexGuard<'_, T>,
                mut condition: impl FnMut(&mut T) -> bool,
            ) {
                if condition(guard) {
                    self.wait(guard);
                }
            }
        }

        #[cfg(mutant_one_condvar)]
        checker::lazy_static! {
            /// The one condvar of an execution (the checkers reset their statics for each).
            static ref ONE: checker::sync::Condvar = checker::sync::Condvar::new();
        }

        /// `mutant_one_condvar`: every condvar is one (per model execution), still notified
        /// with `notify_one`, so a wake-up meant for a receiver can land on a sender (or the
        /// reverse) and be lost.
        #[cfg(mutant_one_condvar)]
        impl Condvar {
            pub(super) fn inner(&self) -> &checker::sync::Condvar {
                &ONE
            }
        }

        /// `mutant_close_notify_one`: `notify_one` for `notify_all`, so a disconnect wakes one
        /// waiter per condvar and the others sleep on.
        #[cfg(mutant_close_notify_one)]
        impl Condvar {
            #[track_caller]
            pub fn notify_all(&self) {
                self.inner().notify_one();
            }
        }
    }
}

/// The schedules every shuttle test of the workspace runs under, so that the buffers built
/// on this facade are explored the same way and one pair of variables steers them all.
///
/// The schedulers' seeds are fixed, so a run is reproducible; `BUFFER_SHUTTLE_SEED` explores
/// other schedules and `BUFFER_SHUTTLE_ITERATIONS` sets how many each test runs.
#[cfg(shuttle)]
pub mod schedules {
    use shuttle::scheduler::{PctScheduler, RandomScheduler};
    use shuttle::{Config, Runner};

    /// Schedules per test unless `BUFFER_SHUTTLE_ITERATIONS` says otherwise.
    pub const ITERATIONS: usize = 2000;
    /// PCT's bug depth: how many priority changes a schedule may contain.
    pub const PCT_DEPTH: usize = 3;

    fn env_or(name: &str, default: u64) -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(default)
    }

    fn iterations() -> usize {
        usize::try_from(env_or("BUFFER_SHUTTLE_ITERATIONS", ITERATIONS as u64))
            .unwrap_or(ITERATIONS)
    }

    fn seed() -> u64 {
        env_or("BUFFER_SHUTTLE_SEED", 0x5eed_b0ff)
    }

    /// Shuttle's configuration, without its warning that it treats every atomic as `SeqCst`:
    /// the buffers' `Relaxed` atomics are hints that decide nothing, and weak orderings are
    /// loom's job.
    fn config() -> Config {
        let mut config = Config::new();
        config.silence_warnings = true;
        config
    }

    /// Runs `f` under the random scheduler.
    pub fn check_random(f: impl Fn() + Send + Sync + 'static) {
        let scheduler = RandomScheduler::new_from_seed(seed(), iterations());
        Runner::new(scheduler, config()).run(f);
    }

    /// Runs `f` under the PCT scheduler of depth [`PCT_DEPTH`].
    pub fn check_pct(f: impl Fn() + Send + Sync + 'static) {
        let scheduler = PctScheduler::new_from_seed(seed(), PCT_DEPTH, iterations());
        Runner::new(scheduler, config()).run(f);
    }
}
