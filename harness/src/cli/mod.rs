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
//! | `preset.rs` | `compare --preset`: named matrices as the flags they stand for |

mod args;
mod calibrate;
mod compare;
mod demo;
mod diff;
mod exit;
mod list;
mod output;
mod preset;
mod run;

use std::process::ExitCode;

use self::args::ParsedCommand;
use self::compare::CompareRequest;
use self::exit::{CommandError, Exit};
use self::output::Output;

/// The `harness` binary: parses the arguments, runs the command, prints its report and a
/// one-line error on failure (clap's whole message, tips included, for what clap refuses), and
/// returns the exit code (0 success, 1 I/O or internal error, 2 usage error, 3 correctness
/// violation, 4 watchdog, 5 a regression found by `diff`, 130 interrupted).
pub fn main() -> ExitCode {
    // Starts the clock that every repetition's `started_s` is read from.
    crate::measure::since_start();
    let cli = match preset::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // Clap's whole message: its tips ("a similar argument exists") are the help a
            // typo needs. Clap colours it only where stderr is a terminal and NO_COLOR is unset.
            let _ = e.print();
            return ExitCode::from(Exit::Usage.code());
        }
    };
    let default_level = match cli.command {
        Some(ParsedCommand::Demo(_)) => "info",
        _ => "warn",
    };
    // --quiet is a filter that wins over RUST_LOG, as --log-level does.
    let level = if cli.quiet {
        Some("error")
    } else {
        cli.log_level.as_deref()
    };
    output::set_quiet(cli.quiet);
    let result = output::init_logging(level, default_level).and_then(|()| {
        if !matches!(
            cli.command,
            Some(ParsedCommand::List { .. } | ParsedCommand::Demo(_))
        ) {
            stop_on_ctrl_c();
        }
        match &cli.command {
            None => compare::compare(&CompareRequest::quick()),
            Some(ParsedCommand::List { format }) => list::list(&Output {
                format: *format,
                path: None,
            }),
            Some(ParsedCommand::Run(args)) => run::run(&args.request()),
            Some(ParsedCommand::Compare(args)) => compare::compare(&args.request()),
            Some(ParsedCommand::Demo(args)) => demo::run_demo(&args.request()),
            Some(ParsedCommand::Diff(args)) => args.request().and_then(|r| diff::diff(&r)),
            Some(ParsedCommand::Calibrate(args)) => {
                args.request().and_then(|r| calibrate::calibrate(&r))
            }
        }
    });
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(CommandError { exit, message }) => {
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
