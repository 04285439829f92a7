//! How much the benches run: the default profile a plain `cargo bench` uses, 2.5 s per
//! benchmark (299 of them with the registry's nine backends: at least twelve and a half minutes
//! on 2 cores), and the full matrix that `BENCH_FULL=1` selects.

use std::time::Duration;

use criterion::Criterion;

/// The environment variable that selects [`Profile::FULL`]: `1`, `true`, `yes` or `on`.
/// Unset, empty, `0`, `false`, `no` or `off` keep [`Profile::DEFAULT`].
pub const FULL_ENV: &str = "BENCH_FULL";

/// Items per `send_batch`/`recv_batch` call in the batch variants.
pub const BATCH: usize = 64;

/// The capacities every workload group runs (0 only for backends that declare rendezvous, and
/// never in `seq`: one thread cannot meet itself).
pub const CAPACITIES: [usize; 4] = [0, 1, 64, 1024];

/// Message counts, sampling and which optional cells run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Which profile this is, for messages.
    pub name: &'static str,
    /// Messages per iteration, over all producers (the harness's `Workload::messages`).
    pub messages: u64,
    /// Criterion samples per benchmark.
    pub sample_size: usize,
    /// Criterion warm-up time per benchmark.
    pub warm_up: Duration,
    /// Criterion measurement time per benchmark (measured wall time, not counting the untimed
    /// thread spawning and verification around each iteration).
    pub measurement: Duration,
    /// The capacities at which the batch variants ([`BATCH`] items per call) run.
    pub batch_capacities: &'static [usize],
    /// The capacities of the adapter-overhead groups.
    pub overhead_capacities: &'static [usize],
    /// Criterion's bootstrap resamples. Plotting the bootstrap distributions for the HTML
    /// report costs time in proportion; at criterion's 100,000 it took about 8 s per
    /// benchmark on 2 cores, more than the benchmark itself.
    pub nresamples: usize,
}

impl Profile {
    /// What a plain `cargo bench` runs: 20,000 messages per iteration, 10 samples, 0.5 s of
    /// warm-up and 2 s of measurement per benchmark, 10,000 bootstrap resamples; batch variants
    /// at capacity 1024 only; adapter overhead at capacities 1 and 1024.
    pub const DEFAULT: Self = Self {
        name: "default",
        messages: 20_000,
        sample_size: 10,
        warm_up: Duration::from_millis(500),
        measurement: Duration::from_secs(2),
        batch_capacities: &[1024],
        overhead_capacities: &[1, 1024],
        nresamples: 10_000,
    };

    /// What `BENCH_FULL=1` runs: 200,000 messages per iteration, 20 samples, 2 s of warm-up
    /// and 10 s of measurement per benchmark, criterion's default 100,000 bootstrap resamples;
    /// batch variants at capacities 64 and 1024; adapter overhead at every capacity.
    pub const FULL: Self = Self {
        name: "full",
        messages: 200_000,
        sample_size: 20,
        warm_up: Duration::from_secs(2),
        measurement: Duration::from_secs(10),
        batch_capacities: &[64, 1024],
        overhead_capacities: &CAPACITIES,
        nresamples: 100_000,
    };

    /// The profile [`FULL_ENV`] selects.
    ///
    /// # Panics
    ///
    /// When the variable holds anything but the values listed on [`FULL_ENV`], so a typo does
    /// not silently run the other profile.
    pub fn from_env() -> Self {
        let value = std::env::var(FULL_ENV).unwrap_or_default();
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "no" | "off" => Self::DEFAULT,
            "1" | "true" | "yes" | "on" => Self::FULL,
            other => panic!("{FULL_ENV}={other:?}: expected 1/true/yes/on or 0/false/no/off"),
        }
    }

    /// A `Criterion` with this profile's sample size, times and resamples. Command-line flags
    /// (`--sample-size`, `--warm-up-time`, `--measurement-time`, `--nresamples`, `--quick`)
    /// still override them,
    /// because `criterion_group!` applies the arguments after this configuration.
    pub fn criterion(&self) -> Criterion {
        Criterion::default()
            .sample_size(self.sample_size)
            .warm_up_time(self.warm_up)
            .measurement_time(self.measurement)
            .nresamples(self.nresamples)
    }
}

impl Default for Profile {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profiles_are_valid_for_criterion() {
        for profile in [Profile::DEFAULT, Profile::FULL] {
            // Criterion refuses fewer than 10 samples.
            assert!(profile.sample_size >= 10, "{}", profile.name);
            assert!(profile.messages > 0);
            assert!(
                profile
                    .batch_capacities
                    .iter()
                    .all(|c| CAPACITIES.contains(c) && *c >= BATCH),
                "{}: a batch variant needs room for a whole batch",
                profile.name
            );
            assert!(
                profile
                    .overhead_capacities
                    .iter()
                    .all(|c| CAPACITIES.contains(c))
            );
        }
    }
}
