//! The environment header every report carries: CPU, cores, OS and kernel, rustc, commit, date
//! and build profile. Absolute numbers on shared machines move with the host; the header says
//! where a result came from.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Where and how a result was produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Environment {
    /// CPU model name from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs listed in `/proc/cpuinfo`.
    pub cores: usize,
    /// CPUs this process may run on (`std::thread::available_parallelism`).
    pub available_parallelism: usize,
    /// Operating system (`PRETTY_NAME` of `/etc/os-release`).
    pub os: String,
    /// Kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// `rustc -V` of the compiler that built the harness.
    pub rustc: String,
    /// `git describe --always --dirty` at build time (the commit, with `-dirty` when the tree
    /// had uncommitted changes), or `unknown`.
    pub commit: String,
    /// When the report was made, UTC, ISO 8601.
    pub date: String,
    /// Cargo profile the harness was built with (`release`, `debug`).
    pub profile: String,
    /// The harness crate's version.
    pub harness_version: String,
}

impl Environment {
    /// Reads the environment now.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let cores = cpuinfo
            .lines()
            .filter(|line| {
                line.split(':')
                    .next()
                    .is_some_and(|k| k.trim() == "processor")
            })
            .count();
        let available_parallelism = std::thread::available_parallelism().map_or(1, usize::from);
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|text| {
                text.lines().find_map(|line| {
                    line.strip_prefix("PRETTY_NAME=")
                        .map(|v| v.trim_matches('"').to_owned())
                })
            })
            .unwrap_or_else(|| std::env::consts::OS.to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned());
        Self {
            cpu,
            cores: if cores == 0 {
                available_parallelism
            } else {
                cores
            },
            available_parallelism,
            os,
            kernel,
            rustc: env!("HARNESS_RUSTC_VERSION").to_owned(),
            commit: env!("HARNESS_GIT_COMMIT").to_owned(),
            date: utc_now(),
            profile: env!("HARNESS_BUILD_PROFILE").to_owned(),
            harness_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// The header as text, one line each after `prefix`.
    pub(super) fn header(&self, prefix: &str) -> String {
        self.lines()
            .iter()
            .map(|line| format!("{prefix}{line}\n"))
            .collect()
    }

    /// The header as `key: value` lines.
    pub fn lines(&self) -> Vec<String> {
        vec![
            format!(
                "cpu: {} ({} cores, {} available)",
                self.cpu, self.cores, self.available_parallelism
            ),
            format!("os: {}, kernel {}", self.os, self.kernel),
            format!("rustc: {}", self.rustc),
            format!(
                "commit: {}, profile: {}, date: {}",
                self.commit, self.profile, self.date
            ),
        ]
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// Formats seconds since the Unix epoch as an ISO 8601 UTC timestamp.
fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn detects_something_for_every_field() {
        let env = Environment::detect();
        assert!(env.cores >= 1);
        assert!(env.rustc.starts_with("rustc "), "{}", env.rustc);
        assert!(!env.commit.is_empty());
        assert_eq!(env.lines().len(), 4);
    }

    #[test]
    fn the_commit_says_whether_the_tree_was_dirty() {
        let described = std::process::Command::new("git")
            .args(["describe", "--always", "--dirty"])
            .output()
            .ok()
            .filter(|out| out.status.success());
        // Built outside a git checkout (from a crate archive, say) the stamp is `unknown`.
        let expected = described.map_or_else(
            || "unknown".to_owned(),
            |out| String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        );
        assert_eq!(Environment::detect().commit, expected);
    }
}
