//! Where a report goes (stdout or a file), the check that a file can be written before
//! anything runs, logging, and progress bars on stderr when it is a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::exit::CommandError;
use crate::report::Format;

/// Where and how to write a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Output {
    /// The format.
    pub(super) format: Format,
    /// A file to write instead of stdout.
    pub(super) path: Option<PathBuf>,
}

impl Output {
    pub(super) fn write(&self, text: &str) -> Result<(), CommandError> {
        match &self.path {
            Some(path) => write_file("--output", path, text),
            None => write_stdout(text),
        }
    }
}

/// Writes `text` to the file that `flag` named; a failure names the flag and the file.
pub(super) fn write_file(flag: &str, path: &Path, text: &str) -> Result<(), CommandError> {
    std::fs::write(path, text).map_err(|e| {
        CommandError::internal(format!("{flag}: cannot write {}: {e}", path.display()))
    })
}

/// Refuses, before anything runs, a file the command could not write at the end: a path
/// whose directory does not exist, or that names a directory. Runs can take minutes; their
/// report should not be lost to a typo found afterwards.
pub(super) fn check_writable(flag: &str, path: Option<&PathBuf>) -> Result<(), CommandError> {
    let Some(path) = path else {
        return Ok(());
    };
    if path.is_dir() {
        return Err(CommandError::usage(format!(
            "{flag}: {} is a directory, not a file",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(CommandError::usage(format!(
            "{flag}: cannot write {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// Writes to stdout without the panic `print!` raises when the reader has gone (`| head`).
pub(super) fn write_stdout(text: &str) -> Result<(), CommandError> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CommandError::internal(format!("cannot write to stdout: {e}")))
}

/// Sets up logging to stderr, with thread names. `level` (from `--log-level`) takes the
/// `RUST_LOG` syntax and wins over `RUST_LOG`; without either, `default` applies.
///
/// # Errors
///
/// A usage error for a filter that does not parse.
pub(super) fn init_logging(level: Option<&str>, default: &str) -> Result<(), CommandError> {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(level) => bare_words_are_levels(level)
            .and_then(|()| EnvFilter::try_new(level).map_err(|e| format!("`{level}`: {e}")))
            .map_err(|e| CommandError::usage(format!("--log-level: {e}")))?,
        None => EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(default))
            .map_err(|e| CommandError::internal(e.to_string()))?,
    };
    // A second initialisation (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .with_thread_names(true)
        .with_target(false)
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .with_env_filter(filter)
        .try_init();
    Ok(())
}

/// The levels a bare word of a filter may name.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Refuses a bare word that is not a level: the filter syntax reads `verbose` as a target
/// name, which matches nothing here and so silently logs nothing new. A target takes a level,
/// as in `harness=debug`.
fn bare_words_are_levels(filter: &str) -> Result<(), String> {
    let bare = filter
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.contains(['=', '[']))
        .find(|d| !LEVELS.iter().any(|l| d.eq_ignore_ascii_case(l)));
    match bare {
        Some(word) => Err(format!(
            "`{word}` is not a level ({}); a target takes one, as in harness=debug",
            LEVELS.join(", ")
        )),
        None => Ok(()),
    }
}

/// Whether logs are coloured: only on a terminal, and never where `NO_COLOR` is set to a
/// non-empty value (<https://no-color.org>).
fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

pub(super) fn progress_bar(len: u64, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), draw_target());
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_owned());
    bar
}

/// `--quiet`: process-wide, as the log subscriber is, so that every command's bars obey it.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Hides progress bars from now on (`--quiet`).
pub(super) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub(super) fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() && !QUIET.load(Ordering::Relaxed) {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn a_bare_word_must_be_a_level() {
        for good in [
            "info",
            "WARN",
            "off",
            "harness=debug",
            "warn,harness::demo=trace",
            "",
        ] {
            assert_eq!(bare_words_are_levels(good), Ok(()), "{good}");
        }
        assert_eq!(
            bare_words_are_levels("info,verbose"),
            Err(
                "`verbose` is not a level (off, error, warn, info, debug, trace); a target \
                 takes one, as in harness=debug"
                    .to_owned()
            )
        );
    }

    #[test]
    fn no_color_turns_colour_off_on_a_terminal() {
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
    }
}
