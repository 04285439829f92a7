//! The process's CPU time and context switches, from `getrusage(RUSAGE_SELF)` through the `nix`
//! crate (a sound wrapper of the system call, which this workspace could not make without
//! `unsafe`). User and system time come at microsecond resolution, so a 100 ms repetition is
//! measured to within a thousandth; the switch counts tell a thread that spins (few voluntary
//! switches, CPU time close to wall time per core) from one that parks (a voluntary switch per
//! wait).

use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

/// The resolution of [`CpuTime`]: `getrusage` reports microseconds.
pub(crate) const RESOLUTION_S: f64 = 1e-6;

/// The process's CPU account so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CpuTime {
    /// User time.
    pub(crate) user: Duration,
    /// System time.
    pub(crate) system: Duration,
    /// Context switches a thread asked for: it blocked (parked, slept, waited on a lock).
    pub(crate) voluntary: u64,
    /// Context switches the scheduler imposed: a thread's time slice ran out.
    pub(crate) involuntary: u64,
}

impl CpuTime {
    /// The process's account now; `None` where `getrusage` fails.
    pub(crate) fn now() -> Option<Self> {
        let usage = getrusage(UsageWho::RUSAGE_SELF).ok()?;
        let micros = |t: nix::sys::time::TimeVal| {
            let us = i128::from(t.tv_sec()) * 1_000_000 + i128::from(t.tv_usec());
            Duration::from_micros(u64::try_from(us).unwrap_or(0))
        };
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Some(Self {
            user: micros(usage.user_time()),
            system: micros(usage.system_time()),
            voluntary: count(usage.voluntary_context_switches()),
            involuntary: count(usage.involuntary_context_switches()),
        })
    }

    /// The account from `earlier` to `self`.
    pub(crate) fn since(&self, earlier: &Self) -> Self {
        Self {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_and_switches_only_grow() {
        let before = CpuTime::now().expect("getrusage works on Linux");
        // Work the CPU and block once, so both accounts have something to count.
        let mut x = 0_u64;
        for i in 0..2_000_000_u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        std::thread::spawn(|| {})
            .join()
            .expect("a thread that does nothing");
        let after = CpuTime::now().unwrap();
        let spent = after.since(&before);
        assert!(after.user >= before.user && after.system >= before.system);
        assert!(spent.user + spent.system > Duration::ZERO, "{spent:?}");
        assert!(after.voluntary >= before.voluntary);
        assert_eq!(before.since(&after).user, Duration::ZERO, "saturates");
    }
}
