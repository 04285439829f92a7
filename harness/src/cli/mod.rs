//! The command line: the `harness` binary's commands and its `main`. This is the only place
//! that knows flag names and exit codes; the layers below return errors that carry values,
//! and `exit.rs` names the flags they are about.
//!
//! | file | role |
//! | --- | --- |
//! | `args.rs` | clap's derive structs, their defaults and the requests they build |
//! | `exit.rs` | the exit codes, the one-line failure, and errors mapped to flag names |
//! | `output.rs` | where reports go, logging, progress bars |
//! | `list.rs`, `run.rs`, `compare.rs`, `demo.rs`, `diff.rs`, `calibrate.rs` | one subcommand each |

mod args;
mod calibrate;
mod compare;
mod demo;
mod diff;
mod exit;
mod list;
mod output;
mod run;

use std::process::ExitCode;

use clap::Parser;

use self::args::{Cli, Command};
use self::compare::CompareRequest;
use self::exit::{Exit, Failure};
use self::output::Output;

/// The `harness` binary: parses the arguments, runs the command, prints its report and a
/// one-line error on failure, and returns the exit code (0 success, 1 I/O or internal
/// error, 2 usage error, 3 correctness violation, 4 watchdog, 5 a regression found by `diff`,
/// 130 interrupted).
pub fn main() -> ExitCode {
    // Starts the clock that every repetition's `started_s` is read from.
    crate::measure::since_start();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", usage_line(&e));
            return ExitCode::from(Exit::Usage.code());
        }
    };
    let default_level = match cli.command {
        Some(Command::Demo(_)) => "info",
        _ => "warn",
    };
    let result = output::init_logging(cli.log_level.as_deref(), default_level).and_then(|()| {
        if !matches!(cli.command, Some(Command::List { .. } | Command::Demo(_))) {
            stop_on_ctrl_c();
        }
        match &cli.command {
            None => compare::compare(&CompareRequest::quick()),
            Some(Command::List { format }) => list::list(&Output {
                format: *format,
                path: None,
            }),
            Some(Command::Run(args)) => run::run(&args.request()),
            Some(Command::Compare(args)) => compare::compare(&args.request()),
            Some(Command::Demo(args)) => demo::run_demo(&args.request()),
            Some(Command::Diff(args)) => diff::diff(&args.request()),
            Some(Command::Calibrate(args)) => args.request().and_then(|r| calibrate::calibrate(&r)),
        }
    });
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(Failure { exit, message }) => {
            eprintln!("error: {message}");
            ExitCode::from(exit.code())
        }
    }
}

/// Ctrl-C (SIGINT) asks the runs to stop, so the report shows what was measured and the
/// command exits 130; a second Ctrl-C exits at once.
fn stop_on_ctrl_c() {
    let installed = ctrlc::set_handler(|| {
        if crate::engine::interrupted() {
            std::process::exit(i32::from(Exit::Interrupted.code()));
        }
        crate::engine::interrupt();
    });
    if let Err(e) = installed {
        tracing::warn!("Ctrl-C will end the process without a report: {e}");
    }
}

/// A parse error in one line naming the flag, with the values a closed set accepts and
/// clap's near miss, if any; clap's usage hint would only repeat `--help`.
fn usage_line(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() == ErrorKind::ArgumentConflict
        && let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg)
    {
        // clap spreads a conflict over several lines; one names both flags.
        let flag = |s: &str| s.split_whitespace().next().unwrap_or_default().to_owned();
        let others = match error.get(ContextKind::PriorArg) {
            Some(ContextValue::String(other)) => flag(other),
            Some(ContextValue::Strings(others)) => others
                .iter()
                .map(|o| flag(o))
                .collect::<Vec<_>>()
                .join(", "),
            _ => "another flag".to_owned(),
        };
        return format!("error: {}: cannot be used with {others}", flag(arg));
    }
    let text = error.render().to_string();
    let mut line = text
        .lines()
        .next()
        .unwrap_or("error: bad arguments")
        .to_owned();
    if let Some(ContextValue::Strings(values)) = error.get(ContextKind::ValidValue) {
        line.push_str(&format!(" (possible values: {})", values.join(", ")));
    }
    if let Some(ContextValue::String(near)) = error.get(ContextKind::SuggestedValue) {
        line.push_str(&format!("; did you mean '{near}'?"));
    }
    line
}
