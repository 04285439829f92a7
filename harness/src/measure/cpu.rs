//! The process's CPU time, read from `/proc/self/stat` (fields 14 and 15, in clock ticks of
//! `getconf CLK_TCK`, usually 100 per second). That is the same account
//! `getrusage(RUSAGE_SELF)` reads, without the `unsafe` call the workspace forbids; its
//! resolution is one tick (10 ms), so short repetitions report CPU time coarsely.

use std::sync::OnceLock;
use std::time::Duration;

/// The process's CPU time so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CpuTime {
    /// User time.
    pub(crate) user: Duration,
    /// System time.
    pub(crate) system: Duration,
}

impl CpuTime {
    /// Reads the process's user and system time from `/proc/self/stat`; `None` where that file
    /// does not exist.
    pub(crate) fn now() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        parse_stat(&stat, clock_ticks_per_second())
    }

    /// The time from `earlier` to `self`.
    pub(crate) fn since(&self, earlier: &Self) -> Self {
        Self {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// Parses utime and stime (fields 14 and 15) of a `/proc/<pid>/stat` line.
fn parse_stat(stat: &str, ticks_per_second: u64) -> Option<CpuTime> {
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    let tick =
        |ticks: u64| Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / ticks_per_second);
    Some(CpuTime {
        user: tick(user),
        system: tick(system),
    })
}

/// `getconf CLK_TCK`, read once; 100 when it cannot be run.
pub(crate) fn clock_ticks_per_second() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_line_with_a_strange_command_name() {
        let line = "1234 (we ird) name)) S 1 2 3 4 5 6 7 8 9 10 250 30 0 0 20 0 1 0";
        let cpu = parse_stat(line, 100).unwrap();
        assert_eq!(cpu.user, Duration::from_millis(2500));
        assert_eq!(cpu.system, Duration::from_millis(300));
        assert!(parse_stat("garbage", 100).is_none());
    }

    #[test]
    fn cpu_time_is_readable_here() {
        let before = CpuTime::now().expect("/proc/self/stat is readable on Linux");
        let after = CpuTime::now().unwrap();
        assert!(after.user >= before.user);
    }
}
