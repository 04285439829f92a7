//! `compare --preset`: named matrices, each written as the flags it stands for, so that a
//! preset is a command line a user could type, and every flag typed beside it wins.

use std::ffi::OsString;

use clap::{CommandFactory, Parser};

use super::args::{Cli, ParsedCommand};
use crate::compare::{UNEVEN_CAPACITIES, UNEVEN_CONSUMER_DELAYS, quick};

/// A named comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Preset {
    // No doc comments here: clap would show them as help lines and switch the whole `--help`
    // to its long layout. The flag's own docs say what each preset is.
    Quick,
    Full,
    Overload,
    Uneven,
}

impl Preset {
    /// The flags the preset stands for.
    pub(super) fn flags(self) -> Vec<String> {
        let pairs: &[(&str, &str)] = match self {
            // The matrix `harness` runs without arguments (`compare::quick`).
            Self::Quick => &[
                ("--topologies", quick::TOPOLOGIES),
                ("--capacities", quick::CAPACITIES),
                ("--baseline", quick::BASELINE),
                ("--target-time", quick::TARGET_TIME),
            ],
            // The README's Results matrix, as `scripts/results.sh` measures it.
            Self::Full => &[
                ("--topologies", "seq,1:1,4:1,1:4,4:4,16:16"),
                ("--capacities", "0,1,1024"),
                ("--messages", "1000000"),
                ("--target-time", "0"),
                ("--repeats", "5"),
                ("--warmup", "1"),
            ],
            // The README's overload comparison: one consumer at most 50 k/s, 100 k/s offered.
            Self::Overload => &[
                ("--topologies", "1:1,4:1"),
                ("--capacities", "64"),
                ("--policies", "block,drop-newest,drop-oldest"),
                ("--rate", "100k"),
                ("--consumer-delay", "20us"),
                ("--messages", "20000"),
                ("--target-time", "0"),
                ("--repeats", "3"),
            ],
            // The README's uneven consumers (`compare::UNEVEN_CONSUMER_DELAYS`).
            Self::Uneven => &[
                ("--topologies", "4:4,16:16"),
                ("--capacities", UNEVEN_CAPACITIES),
                ("--consumer-delay", UNEVEN_CONSUMER_DELAYS),
                ("--messages", "200000"),
                ("--target-time", "0"),
                ("--repeats", "5"),
                ("--warmup", "1"),
            ],
        };
        let mut flags: Vec<String> = pairs
            .iter()
            .flat_map(|(flag, value)| [(*flag).to_owned(), (*value).to_owned()])
            .collect();
        if self == Self::Quick {
            flags.extend([
                "--repeats".to_owned(),
                quick::REPEATS.to_string(),
                "--warmup".to_owned(),
                quick::WARMUP.to_string(),
            ]);
        }
        flags
    }
}

/// Parses the command line; a `compare --preset` is parsed again with the preset's flags
/// placed right after `compare`, so that every flag the user typed comes later and wins
/// (`args_override_self`).
///
/// # Errors
///
/// Clap's error for a command line it refuses (`--help` and `--version` included).
pub(super) fn parse(argv: Vec<OsString>) -> Result<Cli, clap::Error> {
    let cli = Cli::try_parse_from(&argv)?;
    let Some(ParsedCommand::Compare(args)) = &cli.command else {
        return Ok(cli);
    };
    let Some(preset) = args.preset else {
        return Ok(cli);
    };
    let at = subcommand_index(&argv);
    let mut expanded = argv[..=at].to_vec();
    expanded.extend(preset.flags().into_iter().map(OsString::from));
    expanded.extend_from_slice(&argv[at + 1..]);
    Cli::try_parse_from(expanded)
}

/// Where the subcommand stands in `argv`: the first word that is neither a global flag nor
/// the value of one. Which flags take a value is read from the parser itself.
fn subcommand_index(argv: &[OsString]) -> usize {
    let root = Cli::command();
    let takes_value = |word: &str| {
        root.get_arguments().any(|a| {
            a.get_action().takes_values()
                && (a.get_long().is_some_and(|l| word == format!("--{l}"))
                    || a.get_short().is_some_and(|s| word == format!("-{s}")))
        })
    };
    let mut i = 1;
    while let Some(word) = argv.get(i).and_then(|w| w.to_str()) {
        if !word.starts_with('-') {
            return i;
        }
        i += if takes_value(word) { 2 } else { 1 };
    }
    // Unreachable for a command line that parsed as `compare`.
    argv.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cli::compare::CompareRequest;
    use crate::spec::{ConsumerDelays, Policy, parse_topologies};

    fn request(args: &[&str]) -> CompareRequest {
        let argv = std::iter::once("harness").chain(args.iter().copied());
        match parse(argv.map(OsString::from).collect())
            .expect("parses")
            .command
        {
            Some(ParsedCommand::Compare(args)) => args.request(),
            other => panic!("not compare: {other:?}"),
        }
    }

    /// `compare` without flags, and with `--preset quick`, asks for the quick matrix. Its one
    /// policy, `block`, comes from `--policy`'s default: `--policies` is left empty.
    #[test]
    fn no_flags_and_quick_are_the_default_matrix() {
        let quick = CompareRequest::quick();
        for args in [&["compare"][..], &["compare", "--preset", "quick"]] {
            let asked = request(args);
            assert_eq!(asked.backends, quick.backends, "{args:?}");
            assert_eq!(asked.topologies, quick.topologies, "{args:?}");
            assert_eq!(asked.capacities, quick.capacities, "{args:?}");
            assert_eq!(asked.baseline, quick.baseline, "{args:?}");
            assert_eq!(asked.target_time, quick.target_time, "{args:?}");
            assert_eq!(asked.base, quick.base, "{args:?}");
            assert_eq!(asked.policies, Vec::new(), "{args:?}");
        }
        assert_eq!(quick.policies, vec![Policy::Block]);
    }

    #[test]
    fn full_is_the_results_matrix() {
        let asked = request(&["compare", "--preset", "full"]);
        assert_eq!(
            asked.topologies,
            parse_topologies("seq,1:1,4:1,1:4,4:4,16:16").unwrap()
        );
        assert_eq!(asked.capacities, vec![0, 1, 1024]);
        assert_eq!(asked.base.messages, 1_000_000);
        assert_eq!(asked.target_time, None);
        assert_eq!(asked.base.repeats, 5);
        assert_eq!(asked.base.warmup, 1);
        assert_eq!(asked.backends, "all");
    }

    #[test]
    fn overload_is_the_readme_comparison_and_typed_flags_win() {
        let asked = request(&[
            "--log-level",
            "warn",
            "compare",
            "--messages",
            "500",
            "--preset=overload",
            "--repeats",
            "1",
        ]);
        assert_eq!(asked.topologies, parse_topologies("1:1,4:1").unwrap());
        assert_eq!(asked.capacities, vec![64]);
        assert_eq!(
            asked.policies,
            vec![Policy::Block, Policy::DropNewest, Policy::DropOldest]
        );
        assert_eq!(asked.base.rate, Some(100_000.0));
        assert_eq!(
            asked.base.consumer_delay,
            ConsumerDelays::uniform(Duration::from_micros(20))
        );
        assert_eq!(asked.base.messages, 500);
        assert_eq!(asked.base.repeats, 1);
        assert_eq!(asked.target_time, None);
    }

    #[test]
    fn uneven_slows_every_fourth_consumer() {
        let asked = request(&["compare", "--preset", "uneven", "--topologies", "8:8"]);
        assert_eq!(asked.topologies, parse_topologies("8:8").unwrap());
        assert_eq!(asked.capacities, vec![1, 1024]);
        let delays = &asked.base.consumer_delay;
        assert_eq!(delays.to_string(), "0,0,0,20us");
        assert_eq!(delays.of(3), Duration::from_micros(20));
        assert_eq!(delays.of(4), Duration::ZERO);
        assert_eq!(asked.base.messages, 200_000);
        assert_eq!(asked.target_time, None);
    }
}
