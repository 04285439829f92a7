//! The flags: clap's derive structs for every subcommand, with their defaults, and the
//! requests they turn into.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::calibrate::CalibrateRequest;
use super::compare::CompareRequest;
use super::demo::DemoRequest;
use super::diff::DiffRequest;
use super::exit::EXIT_CODES;
use super::output::Output;
use super::preset::Preset;
use super::run::RunRequest;
use crate::compare::quick;
use crate::demo::Demo;
use crate::report::Format;
use crate::spec::{
    ConsumerDelays, Fault, ParseError, Payload, Policy, Topology, Workload, parse_capacities,
    parse_duration, parse_list, parse_rate, parse_topologies,
};

/// Identical N:M producer-consumer workloads against every bounded-buffer backend: verified
/// (every item exactly once, in per-producer order), measured, reported.
///
/// Without a command, runs `compare` on a quick default matrix (about three minutes on two
/// cores).
#[derive(Debug, Parser)]
#[command(name = "harness", version, after_help = EXIT_CODES, args_override_self = true)]
pub(super) struct Cli {
    /// Log filter in RUST_LOG syntax (error, warn, info, debug, trace, or per target); wins
    /// over RUST_LOG. Logs go to stderr.
    #[arg(long, global = true, value_name = "FILTER")]
    pub(super) log_level: Option<String>,

    /// No progress bars and no logs but errors; the report and a failure's message still
    /// print.
    #[arg(long, short, global = true, conflicts_with = "log_level")]
    pub(super) quiet: bool,

    #[command(subcommand)]
    pub(super) command: Option<ParsedCommand>,
}

/// The subcommand as clap parsed it, with its flags (`report::Command` is the other thing: which
/// command produced a report).
#[derive(Debug, Subcommand)]
pub(super) enum ParsedCommand {
    /// Show the backends and their declared capabilities.
    #[command(after_help = EXIT_CODES)]
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run one workload against one backend (or a list, or all), verify and measure it.
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// Run a matrix of topologies and capacities against several backends; report ratios to a
    /// baseline.
    #[command(after_help = EXIT_CODES)]
    Compare(CompareArgs),
    /// Narrate a small run for learners: every send, receive and wait is logged with the
    /// thread's name and the buffer's fill; the receive order is printed at the end.
    #[command(after_help = EXIT_CODES)]
    Demo(DemoArgs),
    /// Compare two JSON reports (`compare --json` or `--format json`): per cell, how much each
    /// backend moved, with an interval from both runs' repetitions.
    #[command(after_help = EXIT_CODES)]
    Diff(DiffArgs),
    /// Measure the harness's own cost: per cell and backend, rounds alternating a bare loop over
    /// the backend's raw crate with the harness's run of that backend.
    #[command(after_help = EXIT_CODES)]
    Calibrate(CalibrateArgs),
}

#[derive(Debug, Args)]
pub(super) struct CalibrateArgs {
    /// Backends with a bare loop, comma-separated: crossbeam, flume, std; `all` for the three.
    #[arg(
        long = "backend",
        short,
        visible_alias = "backends",
        default_value = "all"
    )]
    backends: String,
    /// Topologies, comma-separated.
    #[arg(long, default_value = "seq,1:1,4:4")]
    topologies: String,
    /// Capacities, comma-separated (`seq` skips 0).
    #[arg(long, default_value = "1024,1,0")]
    capacities: String,
    /// Messages per run.
    #[arg(long, short, default_value_t = 500_000)]
    messages: u64,
    /// Rounds per cell: one bare run and one harness run each (1 to 1000).
    #[arg(long, default_value_t = 5)]
    rounds: u64,
    /// Output format: table or json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Also write the full JSON record (every round) to this file, beside the report.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

impl CalibrateArgs {
    pub(super) fn request(&self) -> Result<CalibrateRequest, super::exit::CommandError> {
        use super::exit::CommandError;
        let topologies = parse_topologies(&self.topologies)
            .map_err(|e| CommandError::usage(format!("--topologies: {e}")))?;
        let capacities = parse_capacities(&self.capacities)
            .map_err(|e| CommandError::usage(format!("--capacities: {e}")))?;
        if self.messages == 0 {
            return Err(CommandError::usage("--messages: must be at least 1"));
        }
        let rounds = usize::try_from(self.rounds)
            .ok()
            .filter(|rounds| (1..=1000).contains(rounds))
            .ok_or_else(|| CommandError::usage("--rounds: must be from 1 to 1000"))?;
        Ok(CalibrateRequest {
            backends: self.backends.clone(),
            topologies,
            capacities,
            messages: self.messages,
            rounds,
            output: Output {
                format: table_or_json(self.format, "calibrate")?,
                path: self.output.clone(),
            },
            json: self.json.clone(),
        })
    }
}

#[derive(Debug, Args)]
pub(super) struct DiffArgs {
    /// The earlier report.
    old: PathBuf,
    /// The later report.
    new: PathBuf,
    /// Exit 5 when a cell's whole interval is below 1 minus this fraction (`5%` or `0.05`).
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    fail_above: Option<f64>,
    /// Output format: table or json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

impl DiffArgs {
    pub(super) fn request(&self) -> Result<DiffRequest, super::exit::CommandError> {
        Ok(DiffRequest {
            old: self.old.clone(),
            new: self.new.clone(),
            fail_above: self.fail_above,
            format: table_or_json(self.format, "diff")?,
        })
    }
}

/// `format` where a command writes only a table or JSON; a usage error for the others.
fn table_or_json(format: Format, command: &str) -> Result<Format, super::exit::CommandError> {
    match format {
        Format::Table | Format::Json => Ok(format),
        Format::Csv | Format::Markdown => Err(super::exit::CommandError::usage(format!(
            "--format: {command} writes a table or json"
        ))),
    }
}

/// A fraction in 0..1, as `5%` or `0.05`.
fn parse_fraction(text: &str) -> Result<f64, String> {
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.trim().parse::<f64>(),
    }
    .map_err(|_| format!("{text:?} is not a fraction (5% or 0.05)"))?;
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(format!("{text:?} must be between 0% and 100%, exclusive"))
    }
}

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Backend name, a comma-separated list, or `all` (see `harness list`).
    #[arg(long, short, visible_alias = "buffer", default_value = "all")]
    backend: String,
    /// Producer threads.
    #[arg(long, short, default_value_t = Workload::default().topology.producers())]
    producers: usize,
    /// Consumer threads.
    #[arg(long, short, default_value_t = Workload::default().topology.consumers())]
    consumers: usize,
    /// Buffer capacity; 0 asks for a rendezvous buffer.
    #[arg(long, default_value_t = Workload::default().capacity)]
    capacity: usize,
    /// Run the `seq` workload instead: one thread fills the buffer, then drains it.
    #[arg(long, conflicts_with_all = ["producers", "consumers"])]
    sequential: bool,
    /// Messages per repetition over all producers (the remainder of an uneven split goes to
    /// the first producers).
    #[arg(long, short, visible_alias = "items", default_value_t = Workload::default().messages)]
    messages: u64,
    #[command(flatten)]
    common: CommonArgs,
    /// Measured repetitions.
    #[arg(long, default_value_t = Workload::default().repeats)]
    repeats: usize,
    /// Unmeasured, verified runs before the repetitions.
    #[arg(long, default_value_t = Workload::default().warmup)]
    warmup: usize,
    /// Inject a fault: consumer-panic[:K], consumer-stall[:DUR|forever], producer-panic[:K],
    /// close-storm[:N], or lose-item (a self-test of the verifier).
    #[arg(long, value_parser = str::parse::<Fault>)]
    fault: Option<Fault>,
    /// Do not measure blocked time. Measuring it tries the non-blocking call first and times
    /// the blocking call that follows a failure, which costs throughput at small capacities.
    #[arg(long)]
    no_blocked_time: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// Workload flags `run` and `compare` share.
#[derive(Debug, Args)]
struct CommonArgs {
    /// Payload of each message.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Payload::U64)]
    payload: Payload,
    /// Items per send_batch/recv_batch call; 1 uses single-item calls.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Backpressure policy: block, timeout:<DUR>, drop-newest (try_send; the new item is
    /// shed) or drop-oldest (force_send; the oldest buffered item is evicted, on backends
    /// that offer it, see `harness list`).
    #[arg(long, default_value = "block", value_parser = str::parse::<Policy>)]
    policy: Policy,
    /// Priority levels items are drawn from, uniformly over 0..N-1 and seeded (1 to 256; 1
    /// means every item has priority 0). Only a priority backend reads them.
    #[arg(long, value_name = "N", allow_hyphen_values = true, default_value_t = Workload::default().priorities)]
    priorities: u32,
    /// Simulated work before each send, as in 10us, 5ms.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true, default_value = "0")]
    producer_delay: Duration,
    /// Simulated work after each receive (consumers slower than producers: an overload). A
    /// comma-separated list makes consumers of uneven speed, consumer i doing the (i mod
    /// n)-th: 0,0,0,50us slows every fourth consumer.
    #[arg(long, value_name = "DUR[,DUR...]", value_parser = str::parse::<ConsumerDelays>, allow_hyphen_values = true, default_value = "0")]
    consumer_delay: ConsumerDelays,
    /// Open-loop rate over all producers, in messages per second (as in 50k or 50k/s): each
    /// producer sends on a fixed schedule, latency counts from each item's scheduled send
    /// time, and the report says whether the backend kept up.
    #[arg(long, value_name = "N/s", value_parser = parse_rate, allow_hyphen_values = true)]
    rate: Option<f64>,
    /// Seed for the run's random choices.
    #[arg(long, default_value_t = Workload::default().seed)]
    seed: u64,
    /// Stop a run that makes no progress for this long and report it (exit code 4).
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true, default_value = "10s")]
    watchdog: Duration,
    /// Time every n-th item of a producer for the latency histogram.
    #[arg(long, default_value_t = Workload::default().latency_sample_every)]
    latency_sample_every: u32,
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct CompareArgs {
    /// A named matrix; flags given beside it win. quick: the default matrix; full: the
    /// README's Results (1,000,000 messages, no sizing, a warm-up and 5 repetitions); overload:
    /// the README's backpressure comparison (1:1 and 4:1 at capacity 64, three policies,
    /// 100k/s offered to consumers that take 20us per item); uneven: consumers of uneven
    /// speed (4:4 and 16:16 at capacities 1 and 1024, every fourth consumer taking 20us per
    /// item, the others nothing).
    #[arg(long, value_enum)]
    pub(super) preset: Option<Preset>,
    /// Backends to compare, comma-separated, or `all`.
    #[arg(long = "backend", short, visible_aliases = ["backends", "buffer"], default_value = "all")]
    backends: String,
    /// Topologies: `seq` and P:C, comma-separated.
    #[arg(long, default_value = quick::TOPOLOGIES, value_parser = parse_topologies)]
    topologies: TopologyList,
    /// Capacities, comma-separated (0 runs only on backends with rendezvous).
    #[arg(long, default_value = quick::CAPACITIES, value_parser = parse_capacities)]
    capacities: CapacityList,
    /// Backpressure policies to put side by side, comma-separated (as in
    /// block,drop-newest,drop-oldest); overrides --policy. A backend that does not offer a
    /// policy shows "unsupported" in that row.
    #[arg(long, value_parser = parse_policies)]
    policies: Option<PolicyList>,
    /// The backend ratios are computed against.
    #[arg(long, default_value = quick::BASELINE)]
    baseline: String,
    /// The most messages per repetition (every repetition sends exactly this many with
    /// --target-time 0).
    #[arg(long, short, visible_alias = "items", default_value_t = Workload::default().messages)]
    messages: u64,
    /// Size each cell so one repetition takes about this long, after a short calibration
    /// run; 0 turns sizing off.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true, default_value = quick::TARGET_TIME)]
    target_time: Duration,
    /// Measured repetitions per cell.
    #[arg(long, default_value_t = quick::REPEATS)]
    repeats: usize,
    /// Unmeasured runs per cell before the repetitions (the calibration run also warms up).
    #[arg(long, default_value_t = quick::WARMUP)]
    warmup: usize,
    #[command(flatten)]
    common: CommonArgs,
    /// Also measure blocked time (off by default here: trying the non-blocking call first
    /// costs throughput at small capacities, and a comparison is about throughput).
    #[arg(long)]
    blocked_time: bool,
    /// Also draw the comparison as an SVG picture: each backend's ratio to the baseline with
    /// its interval, one panel per capacity (with several policies: the share shed and p99).
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Also write the full JSON report (every figure, CPU time and spread included) to this
    /// file, whatever `--format` says, from the same runs.
    #[arg(long, value_name = "FILE.json")]
    json: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
pub(super) struct DemoArgs {
    /// Backend name (see `harness list`).
    #[arg(long, short, visible_alias = "buffer", default_value = "condvar")]
    backend: String,
    /// Producer threads.
    #[arg(long, short, default_value_t = Demo::default().producers)]
    producers: usize,
    /// Consumer threads.
    #[arg(long, short, default_value_t = Demo::default().consumers)]
    consumers: usize,
    /// Buffer capacity.
    #[arg(long, default_value_t = Demo::default().capacity)]
    capacity: usize,
    /// Items over all producers.
    #[arg(long, short, visible_alias = "items", default_value_t = Demo::default().items)]
    messages: u64,
    /// Time a producer takes to make each item.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true, default_value = "50ms")]
    producer_delay: Duration,
    /// Time a consumer takes to use each item.
    #[arg(long, value_name = "DUR", value_parser = parse_duration, allow_hyphen_values = true, default_value = "150ms")]
    consumer_delay: Duration,
}

type TopologyList = Vec<Topology>;
type CapacityList = Vec<usize>;
type PolicyList = Vec<Policy>;

fn parse_policies(s: &str) -> Result<PolicyList, ParseError> {
    parse_list(s, str::parse)
}

impl CommonArgs {
    fn apply(&self, workload: Workload) -> Workload {
        workload
            .payload(self.payload)
            .batch(self.batch)
            .policy(self.policy)
            .priorities(self.priorities)
            .producer_delay(self.producer_delay)
            .consumer_delay(self.consumer_delay.clone())
            .rate(self.rate)
            .seed(self.seed)
            .watchdog(self.watchdog)
            .latency_sample_every(self.latency_sample_every)
    }
}

impl OutputArgs {
    fn output(&self) -> Output {
        Output {
            format: self.format,
            path: self.output.clone(),
        }
    }
}

impl RunArgs {
    pub(super) fn request(&self) -> RunRequest {
        let topology = if self.sequential {
            Topology::Seq
        } else {
            Topology::Threads {
                producers: self.producers,
                consumers: self.consumers,
            }
        };
        let workload = Workload::new()
            .topology(topology)
            .capacity(self.capacity)
            .messages(self.messages)
            .repeats(self.repeats)
            .warmup(self.warmup)
            .fault(self.fault);
        RunRequest {
            backends: self.backend.clone(),
            workload: self
                .common
                .apply(workload)
                .blocked_time(!self.no_blocked_time),
            output: self.output.output(),
        }
    }
}

impl CompareArgs {
    pub(super) fn request(&self) -> CompareRequest {
        let base = Workload::new()
            .messages(self.messages)
            .repeats(self.repeats)
            .warmup(self.warmup);
        CompareRequest {
            backends: self.backends.clone(),
            topologies: self.topologies.clone(),
            capacities: self.capacities.clone(),
            policies: self.policies.clone().unwrap_or_default(),
            baseline: self.baseline.clone(),
            base: self.common.apply(base).blocked_time(self.blocked_time),
            target_time: (!self.target_time.is_zero()).then_some(self.target_time),
            plot: self.plot.clone(),
            json: self.json.clone(),
            output: self.output.output(),
        }
    }
}

impl DemoArgs {
    pub(super) fn request(&self) -> DemoRequest {
        DemoRequest {
            backend: self.backend.clone(),
            demo: Demo {
                producers: self.producers,
                consumers: self.consumers,
                capacity: self.capacity,
                items: self.messages,
                producer_delay: self.producer_delay,
                consumer_delay: self.consumer_delay,
            },
        }
    }
}

// The clap glue of the spec and report vocabularies, kept here so that only the command line
// knows clap. Written out rather than derived: a derived `ValueEnum` shows each variant's docs
// as a help line, which switches clap's whole `--help` to its long layout.
impl clap::ValueEnum for Payload {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::U64, Self::Bytes64, Self::Boxed4K]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            Self::U64 => PossibleValue::new("u64"),
            Self::Bytes64 => PossibleValue::new("bytes64").aliases(["64b", "64"]),
            Self::Boxed4K => PossibleValue::new("boxed4k").aliases(["4k", "4kib", "box4k"]),
        })
    }
}

impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Table, Self::Json, Self::Csv, Self::Markdown]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            Self::Table => PossibleValue::new("table"),
            Self::Json => PossibleValue::new("json"),
            Self::Csv => PossibleValue::new("csv"),
            Self::Markdown => PossibleValue::new("markdown").alias("md"),
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn formats_parse() {
        let parse = |s: &str| Format::from_str(s, false);
        assert_eq!(parse("json"), Ok(Format::Json));
        assert_eq!(parse("md"), Ok(Format::Markdown));
        assert!(parse("xml").is_err());
    }
}
