//! Drives the built `harness` binary at small sizes: every subcommand, every exit code, every
//! fault, and the documented JSON fields.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;

use harness::registry;
use serde_json::Value;

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the harness binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status
        .code()
        .expect("the harness exits, it is not killed")
}

/// A tiny `run` for one backend, plus extra flags.
fn tiny_run(backend: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--backend",
        backend,
        "--producers",
        "2",
        "--consumers",
        "2",
        "--capacity",
        "4",
        "--messages",
        "3001",
        "--repeats",
        "2",
        "--warmup",
        "1",
    ];
    args.extend_from_slice(extra);
    harness(&args)
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("harness-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// A usage error the harness finds: exit code 2, one line on stderr naming `needle`, no panic.
fn assert_usage_error(args: &[&str], needle: &str) {
    let out = harness(args);
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{args:?}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {err}"
    );
    assert!(
        err.contains(needle),
        "{args:?}: {err} does not name {needle}"
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(stdout(&out).is_empty(), "{args:?}");
}

/// A usage error clap finds: exit code 2 and clap's whole message, whose first line names
/// `needle` and which ends with its pointer to `--help` (tips and usage may come between).
/// Returns stderr.
fn assert_clap_error(args: &[&str], needle: &str) -> String {
    let out = harness(args);
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{args:?}: {err}");
    let lines: Vec<&str> = err.trim_end().lines().collect();
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "{args:?}: the first line of {err} does not name {needle}"
    );
    assert_eq!(
        lines.last(),
        Some(&"For more information, try '--help'."),
        "{args:?}: {err}"
    );
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(stdout(&out).is_empty(), "{args:?}");
    err
}

#[test]
fn help_states_the_exit_codes() {
    for args in [&["--help"][..], &["run", "--help"], &["compare", "--help"]] {
        let out = harness(args);
        assert_eq!(code(&out), 0);
        let text = stdout(&out);
        for line in [
            "0  success",
            "2  usage error",
            "3  correctness violation",
            "4  the watchdog",
        ] {
            assert!(text.contains(line), "{args:?} --help lacks {line:?}");
        }
    }
    let run_help = stdout(&harness(&["run", "--help"]));
    for flag in [
        "--buffer",
        "--items",
        "--policy",
        "--fault",
        "--rate",
        "--log-level",
    ] {
        assert!(run_help.contains(flag), "run --help lacks {flag}");
    }
}

#[test]
fn list_shows_every_backend_with_capabilities() {
    let out = harness(&["list"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    for name in registry::names() {
        assert!(text.contains(name), "{text}");
    }
    assert!(
        text.contains("rendezvous") && text.contains("fifo"),
        "{text}"
    );

    let json: Value = serde_json::from_slice(&harness(&["list", "--format", "json"]).stdout)
        .expect("list --format json is JSON");
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, registry::names());
    assert!(json[0]["rendezvous"].is_boolean());
}

#[test]
fn list_prints_every_format() {
    let names = registry::names();
    let head = "backend,rendezvous,close,batch,blocking,consumers,len,discipline,drop-oldest,\
                buffered items dropped";
    let out = harness(&["list", "--format", "csv"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], head);
    assert_eq!(lines.len(), names.len() + 1, "{text}");
    assert_eq!(
        lines[1],
        "condvar,yes,native,native,native,native,native,fifo,yes,on last consumer"
    );
    let std_line = lines.iter().find(|l| l.starts_with("std,")).unwrap();
    assert_eq!(
        *std_line,
        "std,yes,unsupported,emulated,emulated,emulated,emulated,fifo,no,on last consumer"
    );
    let first_fields: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(first_fields, names);

    for format in ["markdown", "md"] {
        let out = harness(&["list", "--format", format]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "| backend | rendezvous | close | batch | blocking | consumers | len | discipline | \
             drop-oldest | buffered items dropped |"
        );
        assert_eq!(
            lines[1],
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
        );
        assert_eq!(lines.len(), names.len() + 2, "{text}");
    }
}

#[test]
fn every_format_of_every_command_works() {
    for format in ["table", "json", "csv", "markdown"] {
        let out = tiny_run("crossbeam", &["--format", format]);
        assert_eq!(code(&out), 0, "run --format {format}: {}", stderr(&out));
        assert!(!stdout(&out).is_empty(), "run --format {format}");
        let out = harness(&[
            "compare",
            "--backend",
            "crossbeam,condvar",
            "--topologies",
            "1:1",
            "--capacities",
            "4",
            "--messages",
            "1000",
            "--repeats",
            "1",
            "--target-time",
            "0",
            "--format",
            format,
        ]);
        assert_eq!(code(&out), 0, "compare --format {format}: {}", stderr(&out));
        assert!(!stdout(&out).is_empty(), "compare --format {format}");
        let out = harness(&["list", "--format", format]);
        assert_eq!(code(&out), 0, "list --format {format}: {}", stderr(&out));
    }
    // demo narrates on stderr and has no --format to honour.
    assert_clap_error(&["demo", "--format", "json"], "--format");
}

#[test]
fn run_prints_a_verified_table_for_every_backend() {
    let out = tiny_run("all", &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("# cpu: "),
        "the environment header comes first: {text}"
    );
    for name in registry::names() {
        assert!(text.contains(&format!("\n{name}\n")), "{text}");
    }
    assert_eq!(
        text.matches("verified    ok: 9003 delivered exactly once")
            .count(),
        registry::names().len(),
        "{text}"
    );
    // 3001 messages over 2 producers: the odd one goes to producer-1.
    assert!(
        text.contains("producer-1 3002") && text.contains("producer-2 3000"),
        "{text}"
    );
}

#[test]
fn run_words_agree_with_their_counts() {
    let text = stdout(&tiny_run("crossbeam", &[]));
    assert!(
        text.contains("; 2 repetitions after 1 warm-up)\n"),
        "{text}"
    );
    let verified = text
        .lines()
        .find(|l| l.starts_with("  verified"))
        .expect("a verified row");
    assert!(
        verified.ends_with(
            "ok: 9003 delivered exactly once, per-producer order kept, 9003 payloads dropped \
             once each (over all 3 runs: the 1 warm-up included); checked: warm-ups by the \
             full ledger (every item by name), measured repetitions by count and fingerprint, \
             per-producer order on every run"
        ),
        "{verified}"
    );
    let text = stdout(&tiny_run("crossbeam", &["--format", "markdown"]));
    assert!(
        text.ends_with(
            "\ncrossbeam: ok: 9003 delivered exactly once, per-producer order kept, 9003 payloads \
             dropped once each (over all 3 runs: the 1 warm-up included); checked: warm-ups by \
             the full ledger (every item by name), measured repetitions by count and \
             fingerprint, per-producer order on every run\n"
        ),
        "{text}"
    );
    let text = stdout(&tiny_run("crossbeam", &["--repeats", "1", "--warmup", "0"]));
    assert!(
        text.contains("; 1 repetition after 0 warm-ups)\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "  verified    ok: 3001 delivered exactly once, per-producer order kept, \
                       3001 payloads dropped once each; checked: every run by count and \
                       fingerprint, per-producer order on every run\n"
        ),
        "{text}"
    );

    let out = harness(&[
        "demo",
        "--producers",
        "1",
        "--consumers",
        "1",
        "--items",
        "1",
        "--producer-delay",
        "0",
        "--consumer-delay",
        "0",
    ]);
    assert!(
        stdout(&out).contains("  consumer-1: P1#0 (1 item)\n"),
        "{}",
        stdout(&out)
    );
    let log = stderr(&out);
    for line in [
        "1 producer, 1 consumer, capacity 2, 1 item",
        "done after 1 item; dropping its handle",
        "buffer empty and disconnected after 1 item: shutting down",
    ] {
        assert!(log.contains(line), "{line:?} not in {log}");
    }
}

#[test]
fn run_accepts_the_aliases_and_every_workload_flag() {
    let out = harness(&[
        "run",
        "--buffer",
        "condvar",
        "--items",
        "2000",
        "-p",
        "3",
        "-c",
        "2",
        "--capacity",
        "8",
        "--payload",
        "boxed4k",
        "--batch",
        "4",
        "--policy",
        "block",
        "--producer-delay",
        "0",
        "--consumer-delay",
        "1us",
        "--rate",
        "200k",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--seed",
        "7",
        "--latency-sample-every",
        "4",
        "--watchdog",
        "20s",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("3:2, capacity 8, 2000 messages, payload boxed4k, batch 4"),
        "{text}"
    );
    assert!(
        text.contains("verified    ok: 2000 delivered exactly once"),
        "{text}"
    );

    for policy in ["drop-newest", "timeout:1ms"] {
        let out = tiny_run("crossbeam", &["--policy", policy, "--capacity", "1"]);
        assert_eq!(code(&out), 0, "{policy}: {}", stderr(&out));
        assert!(stdout(&out).contains("verified    ok"), "{policy}");
    }
    // Not tiny_run: --sequential refuses its -p and -c.
    let out = harness(&[
        "run",
        "--backend",
        "flume",
        "--sequential",
        "--capacity",
        "16",
        "--messages",
        "3001",
        "--repeats",
        "2",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("workload    seq, capacity 16"));
}

#[test]
fn run_json_has_the_documented_fields() {
    let out = tiny_run(
        "crossbeam",
        &["--format", "json", "--fault", "producer-panic"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["schema_version"], 3);
    assert_eq!(json["command"], "run");
    for field in [
        "cpu", "cores", "os", "kernel", "rustc", "commit", "date", "profile",
    ] {
        assert!(
            json["environment"][field].is_string() || json["environment"][field].is_number(),
            "environment.{field}"
        );
    }
    let result = &json["results"][0];
    assert_eq!(result["backend"], "crossbeam");
    assert_eq!(result["topology"], "2:2");
    let workload = &result["workload"];
    assert_eq!(workload["topology"], "2:2");
    assert!(workload["producers"].is_null() && workload["sequential"].is_null());
    assert_eq!(workload["capacity"], 4);
    assert_eq!(workload["messages"], 3001);
    assert_eq!(workload["payload"], "u64");
    assert_eq!(workload["policy"], "block");
    assert_eq!(workload["fault"], "producer-panic");
    for spread in ["wall_s", "throughput"] {
        for key in ["median", "min", "max"] {
            assert!(result[spread][key].is_number(), "{spread}.{key}");
        }
    }
    assert_eq!(result["repetitions"].as_array().unwrap().len(), 2);
    assert!(result["cpu"]["user_s"].is_number() && result["cpu"]["sys_s"].is_number());
    for p in ["p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"] {
        assert!(result["latency"][p].is_u64(), "latency.{p}");
    }
    assert_eq!(result["producers"][0]["thread"], "producer-1");
    assert!(result["producers"][0]["blocked_s"].is_number());
    assert!(result["consumers"][1]["consumed"].is_u64());
    assert!(result["depth"]["buckets"].is_array());
    let v = &result["verification"];
    assert_eq!(v["ok"], true);
    for count in [
        "lost",
        "duplicated",
        "reordered",
        "delivered",
        "handed_back",
        "in_hand_at_panic",
    ] {
        assert!(v[count].is_u64(), "verification.{count}");
    }
    assert_eq!(v["lost"], 0);
    assert_eq!(
        v["in_hand_at_panic"], 3,
        "one per run: the warm-up and two repetitions"
    );
    assert_eq!(result["fault"]["triggered_runs"], 3);
}

#[test]
fn run_writes_csv_markdown_and_files() {
    let out = tiny_run("crossbeam,flume", &["--format", "csv"]);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    // Plain CSV: no comment lines; the environment is in the JSON.
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[0].starts_with("backend,topology,capacity,messages"));
    let columns = rows[0].split(',').count();
    assert!(
        rows[1..].iter().all(|r| r.split(',').count() == columns),
        "{text}"
    );
    assert!(rows[1].starts_with("crossbeam,2:2,4,3001,"));

    let out = tiny_run("crossbeam", &["--format", "markdown"]);
    assert!(
        stdout(&out).contains("| backend | topology | cap |"),
        "{}",
        stdout(&out)
    );

    let path = temp_path("run.json");
    let out = tiny_run(
        "crossbeam",
        &["--format", "json", "--output", path.to_str().unwrap()],
    );
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).is_empty(), "the report went to the file");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["results"][0]["verification"]["ok"], true);
}

/// What one comparison of every backend over `seq,1:1,2:2` at capacities 0 and 4 printed,
/// drew (`--plot`) and recorded (`--json`); run once, shared by the tests of each.
struct ComparedEverything {
    table: String,
    svg: String,
    record: Value,
}

fn compared_everything() -> &'static ComparedEverything {
    static RUN: std::sync::OnceLock<ComparedEverything> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let plot = temp_path("compare.svg");
        let json_path = temp_path("compare.json");
        let out = harness(&[
            "compare",
            "--topologies",
            "seq,1:1,2:2",
            "--capacities",
            "0,4",
            "--messages",
            "2000",
            "--repeats",
            "2",
            "--target-time",
            "0",
            "--plot",
            plot.to_str().unwrap(),
            "--json",
            json_path.to_str().unwrap(),
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        ComparedEverything {
            table: stdout(&out),
            svg: std::fs::read_to_string(&plot).unwrap(),
            record: serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap())
                .expect("--json writes JSON"),
        }
    })
}

#[test]
fn compare_tables_one_column_per_capacity_with_the_baseline_first() {
    let text = &compared_everything().table;
    let head = text
        .lines()
        .find(|l| l.starts_with("topology"))
        .expect("a table head");
    assert!(
        head.split_whitespace()
            .eq(["topology", "backend", "cap", "0", "cap", "4"]),
        "one column per capacity: {head}"
    );
    let seq = text
        .lines()
        .find(|l| l.starts_with("seq "))
        .expect("a seq row");
    assert!(
        seq.split_whitespace().take(3).eq(["seq", "crossbeam", "-"]),
        "the baseline comes first, and seq at capacity 0 is skipped: {seq}"
    );
    assert!(seq.trim_end().ends_with(" base"), "{seq}");
    assert!(text.contains("verified: all"), "{text}");
}

#[test]
fn compare_plots_the_ratios_one_panel_per_capacity() {
    let svg = &compared_everything().svg;
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains("commit: ") && svg.contains("rustc"),
        "the environment is on the plot"
    );
    assert!(svg.contains("2:2") && svg.contains("flume"));
    // One panel per capacity, the ratio on an axis centred on 1x, every backend but the
    // baseline in the legend with a mark, the baseline as the 1x line, and the command in the
    // caption.
    assert!(svg.contains(">Capacity 0 (rendezvous)</text>") && svg.contains(">Capacity 4</text>"));
    assert!(svg.contains(">ratio to crossbeam</text>") && svg.contains(">1x</text>"));
    assert!(svg.contains(">command: harness compare --topologies seq,1:1,2:2 --capacities 0,4 "));
    for backend in registry::names() {
        let in_legend = svg.contains(&format!(">{backend}</text>"));
        assert_eq!(in_legend, backend != "crossbeam", "{backend} in the legend");
    }
    assert!(svg.contains(">crossbeam = 1x</text>"), "{svg}");
    // seq cannot run at capacity 0: its column is kept there, marked, in every panel.
    assert_eq!(svg.matches(">seq</text>").count(), 2, "{svg}");
    let under_a_label = r##"font-size="11" fill="#555" text-anchor="middle">n/a</text>"##;
    assert_eq!(svg.matches(under_a_label).count(), 1, "{svg}");
}

#[test]
fn compare_json_records_the_runs_whatever_the_format() {
    let record = &compared_everything().record;
    assert_eq!(record["command"], "compare");
    let backends = registry::backends();
    let rendezvous = backends
        .iter()
        .filter(|b| b.capabilities.rendezvous)
        .count();
    // seq, 1:1 and 2:2 at capacity 4, plus 1:1 and 2:2 at 0 where rendezvous is declared.
    assert_eq!(
        record["results"].as_array().unwrap().len(),
        3 * backends.len() + 2 * rendezvous,
        "{record}"
    );
}

#[test]
fn compare_against_a_chosen_baseline_gives_the_others_a_ratio() {
    let out = harness(&[
        "compare",
        "--backends",
        "flume,crossbeam",
        "--baseline",
        "flume",
        "--topologies",
        "1:1",
        "--capacities",
        "16",
        "--messages",
        "2000",
        "--repeats",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["command"], "compare");
    assert_eq!(json["baseline"], "flume");
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(json["rounds"], 1);
    assert_eq!(results[0]["backend"], "flume");
    assert!(results[0]["ratio"].is_null(), "the baseline has no ratio");
    let ratio = &results[1]["ratio"];
    assert!(ratio["median"].as_f64().unwrap() > 0.0, "{ratio}");
    assert_eq!(ratio["low"], ratio["median"], "one round: no interval");
    assert_eq!(ratio["level"], 0.0);
    assert!(
        results[0]["producers"][0]["blocked_s"].is_null(),
        "compare does not measure blocked time unless asked"
    );
}

#[test]
fn demo_narrates_sends_waits_and_shutdown() {
    let out = harness(&[
        "demo",
        "--backend",
        "condvar",
        "--producers",
        "2",
        "--consumers",
        "1",
        "--capacity",
        "1",
        "--items",
        "6",
        "--producer-delay",
        "0",
        "--consumer-delay",
        "5ms",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let log = stderr(&out);
    assert!(
        log.contains("producer-1") && log.contains("consumer-1"),
        "thread names: {log}"
    );
    assert!(log.contains("size=1/1"), "{log}");
    assert!(log.contains("buffer full, producer-"), "{log}");
    assert!(log.contains("waiting"), "{log}");
    assert!(
        log.contains("dropping its handle") && log.contains("shutting down"),
        "{log}"
    );
    // Causal order: every item's "sent" line comes before its "received" line.
    let lines: Vec<&str> = log.lines().collect();
    let line_of = |needle: &str| lines.iter().position(|l| l.contains(needle));
    let mut received = 0;
    for producer in 1..=2 {
        for seq in 0..3 {
            let item = format!("P{producer}#{seq} ");
            let sent_at = line_of(&format!("sent {item}")).expect("a sent line");
            let received_at = line_of(&format!("received {item}")).expect("a received line");
            assert!(sent_at < received_at, "{item}received before sent: {log}");
            received += 1;
        }
    }
    assert_eq!(received, 6);
    let text = stdout(&out);
    assert!(text.contains("receive order (condvar):"), "{text}");
    assert!(text.contains("consumer-1: P"), "{text}");
    assert!(
        text.contains("ledger: ok: 6 delivered exactly once"),
        "{text}"
    );
}

#[test]
fn quiet_leaves_the_report_and_drops_the_narration() {
    let out = harness(&[
        "--quiet",
        "demo",
        "--producers",
        "1",
        "--consumers",
        "1",
        "--items",
        "3",
        "--producer-delay",
        "0",
        "--consumer-delay",
        "0",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert!(
        stdout(&out).contains("ledger: ok: 3 delivered exactly once"),
        "{}",
        stdout(&out)
    );
    // Errors still print.
    assert_usage_error(&["run", "-q", "--backend", "nope"], "--backend");
    assert_clap_error(&["-q", "--log-level", "info", "list"], "--log-level");
}

#[test]
fn compare_presets_are_named_matrices() {
    let err = assert_clap_error(&["compare", "--preset", "huge"], "--preset");
    assert!(
        err.contains("[possible values: quick, full, overload, uneven]"),
        "{err}"
    );
    // A preset's flags come first, so those typed beside it win: a tiny overload matrix.
    let out = harness(&[
        "compare",
        "--preset",
        "overload",
        "--backend",
        "condvar,crossbeam",
        "--baseline",
        "condvar",
        "--topologies",
        "1:1",
        "--messages",
        "300",
        "--repeats",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("compare --format json");
    let cells: Vec<(String, String, u64)> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["backend"].as_str().unwrap().to_owned(),
                r["workload"]["policy"].as_str().unwrap().to_owned(),
                r["workload"]["capacity"].as_u64().unwrap(),
            )
        })
        .collect();
    let cell = |b: &str, p: &str| (b.to_owned(), p.to_owned(), 64);
    assert_eq!(
        cells,
        vec![
            cell("condvar", "block"),
            cell("crossbeam", "block"),
            cell("condvar", "drop-newest"),
            cell("crossbeam", "drop-newest"),
            cell("condvar", "drop-oldest"),
        ]
    );
    let skipped = &json["skipped"][0];
    assert_eq!(skipped["backend"], "crossbeam");
    assert_eq!(skipped["policy"], "drop-oldest");
    assert_eq!(skipped["unsupported"], true);
}

#[test]
fn every_fault_ends_with_the_ledger_whole() {
    for fault in [
        "consumer-panic",
        "consumer-stall:10ms",
        "producer-panic:100",
        "close-storm",
    ] {
        for backend in registry::names() {
            let closes = registry::backends()
                .iter()
                .any(|b| b.name == backend && b.capabilities.closes());
            if fault == "close-storm" && !closes {
                assert_usage_error(
                    &["run", "--backend", backend, "--fault", fault],
                    &format!(
                        "error: --fault: {backend} offers no close(), so it cannot run close-storm"
                    ),
                );
                continue;
            }
            let out = tiny_run(backend, &["--fault", fault]);
            assert_eq!(
                code(&out),
                0,
                "{backend} {fault}: {}{}",
                stdout(&out),
                stderr(&out)
            );
            let text = stdout(&out);
            assert!(text.contains("verified    ok"), "{backend} {fault}: {text}");
            assert!(
                text.contains(&format!("fault       {}", fault.split(':').next().unwrap())),
                "{text}"
            );
            assert!(
                !stderr(&out).contains("panicked"),
                "injected panics print nothing"
            );
        }
    }
}

#[test]
fn exit_code_1_for_io_errors() {
    // The path passes the check before the run; the write itself fails (no space left).
    let out = tiny_run("crossbeam", &["--output", "/dev/full"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("--output: cannot write /dev/full"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn exit_code_2_for_usage_errors() {
    assert_usage_error(
        &["run", "--backend", "nope"],
        &format!("known backends: {}", registry::names().join(", ")),
    );
    for flag in ["--backend", "--backends", "--buffer", "-b"] {
        assert_usage_error(
            &["compare", flag, "crossbeam,nope"],
            "error: --backend: unknown backend",
        );
    }
    assert_usage_error(&["demo", "--backend", "nope"], "known backends");
    assert_usage_error(&["run", "--producers", "0"], "--producers");
    assert_usage_error(&["run", "--consumers", "0"], "--consumers");
    assert_usage_error(&["demo", "--consumers", "0"], "--consumers");
    assert_clap_error(&["run", "--producer-delay", "-5ms"], "--producer-delay");
    assert_clap_error(&["run", "--consumer-delay", "soon"], "--consumer-delay");
    assert_clap_error(&["run", "--watchdog", "10"], "--watchdog");
    assert_usage_error(&["run", "--capacity", "18446744073709551615"], "--capacity");
    assert_usage_error(
        &["compare", "--capacities", "1,18446744073709551615"],
        "--capacities",
    );
    assert_usage_error(
        &["run", "--backend", "crossbeam", "--policy", "drop-oldest"],
        "error: --policy: crossbeam cannot evict and insert atomically, so it does not offer \
         drop-oldest",
    );
    assert_clap_error(&["run", "--fault", "meteor"], "--fault");
    assert_clap_error(&["run", "--rate", "0"], "--rate");
    assert_clap_error(&["compare", "--topologies", "4"], "--topologies");
    let err = assert_clap_error(&["run", "--format", "xml"], "--format");
    assert!(
        err.contains("[possible values: table, json, csv, markdown]"),
        "{err}"
    );
    assert_usage_error(&["run", "--sequential", "--capacity", "0"], "--capacity");
    assert_usage_error(&["run", "--log-level", "[["], "--log-level");
    assert_usage_error(
        &["run", "--log-level", "verbose"],
        "error: --log-level: `verbose` is not a level (off, error, warn, info, debug, trace); a \
         target takes one, as in harness=debug",
    );
    assert_usage_error(&["list", "--log-level", "harness=loud"], "--log-level");
    assert_clap_error(&["frobnicate"], "frobnicate");
    // Clap's tips for a near miss are kept.
    let err = assert_clap_error(&["run", "--formt", "json"], "--formt");
    assert!(
        err.contains("tip: a similar argument exists: '--format'"),
        "{err}"
    );
    let err = assert_clap_error(&["lst"], "'lst'");
    assert!(
        err.contains("tip: a similar subcommand exists: 'list'"),
        "{err}"
    );
    // Output paths that could not be written are refused before anything runs.
    assert_usage_error(
        &["run", "--output", "/nonexistent-dir/report.txt"],
        "--output: cannot write /nonexistent-dir/report.txt: the directory /nonexistent-dir does \
         not exist",
    );
    assert_usage_error(&["compare", "--plot", "/nonexistent-dir/p.svg"], "--plot");
    assert_usage_error(
        &["compare", "--json", "/tmp"],
        "--json: /tmp is a directory, not a file",
    );
}

#[test]
fn exit_code_3_for_a_correctness_violation() {
    let out = tiny_run("flume", &["--fault", "lose-item"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("FAILED in warm-up 1") && text.contains("first: lost: producer-"),
        "{text}"
    );
    let out = tiny_run("flume", &["--fault", "lose-item", "--format", "json"]);
    assert_eq!(code(&out), 3);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = &json["results"][0]["verification"];
    assert_eq!(v["ok"], false);
    assert_eq!(v["lost"], 3, "one per run");
    assert_eq!(v["violations"][0]["kind"], "lost");
}

#[test]
fn exit_code_4_when_the_watchdog_fires() {
    let out = harness(&[
        "run",
        "--backend",
        "crossbeam",
        "-p",
        "1",
        "-c",
        "1",
        "--capacity",
        "2",
        "--messages",
        "1000",
        "--fault",
        "consumer-stall:forever",
        "--watchdog",
        "300ms",
    ]);
    assert_eq!(code(&out), 4, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("watchdog fired: no progress for"), "{err}");
    assert!(
        err.contains("consumer-1: stalled by the consumer-stall fault"),
        "{err}"
    );
    assert!(
        err.contains("producer-1: blocked on a full buffer"),
        "{err}"
    );
}

#[test]
fn drop_oldest_is_refused_before_any_run_where_not_offered() {
    // `all` stops at the first backend in registry order that lacks drop-oldest.
    let first_without = registry::backends()
        .into_iter()
        .find(|b| !b.capabilities.drop_oldest)
        .expect("a backend without drop-oldest")
        .name;
    for backend in ["crossbeam", "flume", "all"] {
        let name = if backend == "all" {
            first_without
        } else {
            backend
        };
        assert_usage_error(
            &["run", "--backend", backend, "--policy", "drop-oldest"],
            &format!(
                "error: --policy: {name} cannot evict and insert atomically, so it does not \
                 offer drop-oldest"
            ),
        );
    }
}

#[test]
fn drop_oldest_on_condvar_verifies_with_the_ledger_whole() {
    // Consumers far slower than producers: the buffer of 2 stays full and sends evict.
    let out = tiny_run(
        "condvar",
        &[
            "--policy",
            "drop-oldest",
            "--consumers",
            "1",
            "--consumer-delay",
            "20us",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("run --format json is JSON");
    let r = &json["results"][0];
    let v = &r["verification"];
    let n = |value: &Value| value.as_u64().expect("a count");
    assert_eq!(v["ok"], Value::Bool(true), "{v}");
    assert_eq!(v["order_checked"], Value::Bool(true));
    // Three runs (a warm-up and two repetitions) of 3001 messages.
    assert_eq!(n(&v["offered"]), 3 * 3001);
    assert!(n(&v["evicted"]) > 0, "{v}");
    assert_eq!(
        n(&v["offered"]),
        n(&v["delivered"]) + n(&v["evicted"]) + n(&v["handed_back"]) + n(&v["timed_out"])
    );
    assert_eq!(n(&v["dropped_by_policy"]), 0);
    // The load covers the two measured repetitions.
    let load = &r["load"];
    assert_eq!(n(&load["offered"]), 2 * 3001);
    let evicted: u64 = r["producers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| n(&p["evicted"]))
        .sum();
    assert_eq!(n(&load["shed"]), evicted);
}

#[test]
fn bad_priorities_and_rates_are_usage_errors() {
    // Values that do not parse are clap's errors; values that parse but cannot run are the
    // harness's.
    for (flag, value, needle, by_clap) in [
        (
            "--priorities",
            "0",
            "--priorities: 0 priority levels; choose 1 (all equal) to 256",
            false,
        ),
        (
            "--priorities",
            "257",
            "--priorities: 257 priority levels",
            false,
        ),
        ("--priorities", "many", "--priorities", true),
        ("--priorities", "-3", "--priorities", true),
        ("--rate", "0", "--rate", true),
        ("--rate", "-5k/s", "--rate", true),
        (
            "--rate",
            "fast",
            "is not a positive rate in messages per second",
            true,
        ),
    ] {
        for command in ["run", "compare"] {
            let args = [command, flag, value];
            if by_clap {
                assert_clap_error(&args, needle);
            } else {
                assert_usage_error(&args, needle);
            }
        }
    }
    assert_clap_error(&["compare", "--policies", "block,shove"], "--policies");
}

#[test]
fn a_priority_run_on_condvar_priority_checks_priority_order() {
    let out = tiny_run(
        "condvar-priority",
        &["--consumers", "1", "--priorities", "10"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("priorities 0-9 uniform"), "{text}");
    assert!(
        text.contains("verified    ok: 9003 delivered exactly once, priority order kept"),
        "{text}"
    );
}

#[test]
fn compare_puts_policies_side_by_side() {
    let plot = temp_path("policies.svg");
    let out = harness(&[
        "compare",
        "--backends",
        "condvar,crossbeam",
        "--topologies",
        "2:1",
        "--capacities",
        "4",
        "--policies",
        "block,drop-newest,drop-oldest",
        "--messages",
        "2000",
        "--target-time",
        "0",
        "--repeats",
        "1",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.contains(">Delivered, msg/s (log scale)</text>"),
        "{svg}"
    );
    assert!(!svg.contains("Items shed"), "{svg}");
    assert!(svg.contains(">p99 latency (log scale)</text>"), "{svg}");
    assert!(svg.contains(">drop-oldest, cap 4</text>"), "{svg}");
    // crossbeam's drop-oldest cell is n/a in each of the two panels; so is a p99 that no timed
    // item reached (an evicted one is not received).
    assert!(svg.matches(">n/a</text>").count() >= 2, "{svg}");
    assert!(!svg.contains(">×</text>"), "{svg}");
    let text = stdout(&out);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.starts_with("2:1"))
        .map(|l| l.split_whitespace().take(4).collect())
        .collect();
    let expected: Vec<Vec<&str>> = ["block", "drop-newest", "drop-oldest"]
        .iter()
        .flat_map(|p| {
            [
                vec!["2:1", "4", *p, "crossbeam"],
                vec!["2:1", "4", *p, "condvar"],
            ]
        })
        .collect();
    assert_eq!(rows, expected, "{text}");
    let unsupported: Vec<&str> = text.lines().filter(|l| l.contains("unsupported")).collect();
    assert_eq!(unsupported.len(), 2, "{text}");
    assert!(unsupported[0].starts_with("2:1") && unsupported[0].contains("crossbeam"));
    assert_eq!(
        unsupported[1],
        "unsupported: crossbeam cannot evict and insert atomically, so it does not offer \
         drop-oldest"
    );
    assert!(
        text.contains("shed") && text.contains("p99 latency"),
        "{text}"
    );
}

/// A JSON `compare` of `backends` at 1:1, capacity 16, in five paired rounds of 2000 messages
/// with no time target, plus extra flags.
fn five_paired_rounds(backends: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "compare",
        "--backends",
        backends,
        "--topologies",
        "1:1",
        "--capacities",
        "16",
        "--messages",
        "2000",
        "--repeats",
        "5",
        "--target-time",
        "0",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    harness(&args)
}

/// Paired rounds: in a cell, every backend runs once per round, in an order rotated from round
/// to round, so each round's repetitions all start before any of the next round's; the ratio
/// of five rounds is the min-max of the paired ratios at 93.75%.
#[test]
fn compare_interleaves_rounds_and_reports_an_interval() {
    let out = five_paired_rounds("crossbeam,condvar,flume", &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema_version"], 3);
    assert_eq!(json["rounds"], 5);
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let started = |r: &Value| -> Vec<f64> {
        r["repetitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|rep| rep["started_s"].as_f64().unwrap())
            .collect()
    };
    let starts: Vec<Vec<f64>> = results.iter().map(started).collect();
    for round in 0..4 {
        let last_of_round = starts.iter().map(|s| s[round]).fold(f64::MIN, f64::max);
        let first_of_next = starts.iter().map(|s| s[round + 1]).fold(f64::MAX, f64::min);
        assert!(last_of_round < first_of_next, "round {round}: {starts:?}");
    }
    // Round 0 runs the backends in registry order, round 1 rotated by one.
    assert!(
        starts[0][0] < starts[1][0] && starts[1][0] < starts[2][0],
        "{starts:?}"
    );
    assert!(
        starts[1][1] < starts[2][1] && starts[2][1] < starts[0][1],
        "{starts:?}"
    );
    for r in &results[1..] {
        let rates = |r: &Value| -> Vec<f64> {
            r["repetitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|rep| rep["msgs_per_s"].as_f64().unwrap())
                .collect()
        };
        let mut paired: Vec<f64> = rates(r)
            .iter()
            .zip(rates(&results[0]))
            .map(|(m, b)| m / b)
            .collect();
        paired.sort_by(f64::total_cmp);
        let ratio = &r["ratio"];
        // The JSON rounds each rate, so the ratios recomputed from it agree to 1e-12.
        let same = |key: &str, want: f64| {
            let got = ratio[key].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "{key}: {ratio} against {want}"
            );
        };
        assert_eq!(ratio["level"], 0.9375, "{ratio}");
        same("low", paired[0]);
        same("median", paired[2]);
        same("high", paired[4]);
    }
}

/// Two `compare` reports of crossbeam and condvar with known rates, so that the intervals are
/// known: `old` with the same five rates for both, `new` with condvar's halved. Written once,
/// shared by the `diff` tests.
fn diff_reports() -> &'static (String, String) {
    static REPORTS: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    REPORTS.get_or_init(|| {
        let old = temp_path("diff-old.json");
        let out = five_paired_rounds("crossbeam,condvar", &["--output", old.to_str().unwrap()]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let mut report: Value =
            serde_json::from_str(&std::fs::read_to_string(&old).unwrap()).unwrap();
        let set_rates = |report: &mut Value, condvar_scale: f64| {
            for result in report["results"].as_array_mut().unwrap() {
                let scale = if result["backend"] == "condvar" {
                    condvar_scale
                } else {
                    1.0
                };
                let reps = result["repetitions"].as_array_mut().unwrap();
                for (rep, rate) in reps.iter_mut().zip([100.0, 101.0, 99.0, 100.5, 99.5]) {
                    rep["msgs_per_s"] = (rate * scale).into();
                }
            }
        };
        set_rates(&mut report, 1.0);
        std::fs::write(&old, report.to_string()).unwrap();
        set_rates(&mut report, 0.5);
        let new = temp_path("diff-new.json");
        std::fs::write(&new, report.to_string()).unwrap();
        let path = |p: PathBuf| p.to_str().unwrap().to_owned();
        (path(old), path(new))
    })
}

#[test]
fn diff_of_a_report_against_itself_is_noise() {
    let (old, _) = diff_reports();
    let same = harness(&["diff", old, old]);
    assert_eq!(code(&same), 0, "{}", stderr(&same));
    let text = stdout(&same);
    assert_eq!(
        text.lines().filter(|l| l.ends_with(" noise")).count(),
        2,
        "{text}"
    );
}

#[test]
fn diff_finds_the_halved_backend_slower_without_failing() {
    let (old, new) = diff_reports();
    let slower = harness(&["diff", old, new]);
    assert_eq!(
        code(&slower),
        0,
        "no threshold, no failure: {}",
        stderr(&slower)
    );
    let text = stdout(&slower);
    let line = text.lines().find(|l| l.contains(" condvar ")).unwrap();
    // Every new/old pair lies in 49.5/101 ..= 50.5/99; the interval drops the extreme ranks.
    assert!(
        line.contains(" 0.500x [0.493-0.508]") && line.ends_with("slower"),
        "{line}"
    );
}

#[test]
fn diff_fail_above_turns_the_slowdown_into_a_regression() {
    let (old, new) = diff_reports();
    let failed = harness(&["diff", old, new, "--fail-above", "5%", "--format", "json"]);
    assert_eq!(code(&failed), 5, "{}", stderr(&failed));
    let json: Value = serde_json::from_slice(&failed.stdout).unwrap();
    let cells = json["cells"].as_array().unwrap();
    let condvar = cells.iter().find(|c| c["backend"] == "condvar").unwrap();
    assert_eq!(condvar["verdict"], "regression");
    let crossbeam = cells.iter().find(|c| c["backend"] == "crossbeam").unwrap();
    assert_eq!(crossbeam["verdict"], "noise");
}

#[test]
fn diff_refuses_a_missing_file_a_bad_threshold_and_markdown() {
    let (old, new) = diff_reports();
    assert_usage_error(&["diff", "/nonexistent/a.json", new], "/nonexistent/a.json");
    assert_clap_error(&["diff", old, new, "--fail-above", "150%"], "--fail-above");
    assert_usage_error(
        &["diff", old, new, "--format", "markdown"],
        "error: --format: diff writes a table or json",
    );
}

/// `calibrate` alternates each raw crate's bare loop with the harness's run of its backend
/// (crossbeam, flume and std by default) and reports the harness's fraction of the bare loop's
/// throughput per cell and backend, with an interval; `seq` skips capacity 0.
#[test]
fn calibrate_reports_the_harness_fraction_of_a_bare_loop() {
    let out = harness(&[
        "calibrate",
        "--topologies",
        "seq,1:1",
        "--capacities",
        "4,0",
        "--messages",
        "2000",
        "--rounds",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["command"], "calibrate");
    assert_eq!(json["rounds"], 3);
    let cells = json["cells"].as_array().unwrap();
    let keys: Vec<String> = cells
        .iter()
        .map(|c| format!("{} {} {}", c["topology"], c["capacity"], c["backend"]))
        .collect();
    let expected: Vec<String> = [("seq", 4), ("1:1", 4), ("1:1", 0)]
        .iter()
        .flat_map(|(topology, capacity)| {
            ["crossbeam", "flume", "std"].map(|b| format!("\"{topology}\" {capacity} \"{b}\""))
        })
        .collect();
    assert_eq!(keys, expected);
    for cell in cells {
        let f = &cell["fraction"];
        assert_eq!(f["level"], 0.75, "3 rounds: the min-max at 1 - 2/8");
        let (low, median, high) = (
            f["low"].as_f64().unwrap(),
            f["median"].as_f64().unwrap(),
            f["high"].as_f64().unwrap(),
        );
        assert!(0.0 < low && low <= median && median <= high, "{cell}");
        assert!(cell["bare_msgs_per_s"].as_f64().unwrap() > 0.0);
        assert!(cell["harness_msgs_per_s"].as_f64().unwrap() > 0.0);
        for rounds in ["bare_rounds", "harness_rounds"] {
            let rates = cell[rounds].as_array().unwrap();
            assert_eq!(rates.len(), 3, "{rounds}: one rate per round");
            assert!(rates.iter().all(|r| r.as_f64().unwrap() > 0.0), "{cell}");
        }
    }
    assert_usage_line(
        &["calibrate", "--rounds", "0"],
        "error: --rounds: must be from 1 to 1000",
    );
    assert_usage_line(
        &["calibrate", "--backend", "condvar"],
        "error: --backend: `condvar` has no bare loop to calibrate against; backends with one: \
         crossbeam, flume, std",
    );
    assert_usage_error(
        &["calibrate", "--backend", "nope"],
        "error: --backend: unknown backend `nope`",
    );
    assert_usage_error(
        &["calibrate", "--format", "csv"],
        "error: --format: calibrate writes a table or json",
    );
    assert_usage_error(&["calibrate", "--capacities", "x"], "--capacities");
}

/// `calibrate --json FILE` writes the full record beside the table on stdout: the same cells,
/// and the same commit in both.
#[test]
fn calibrate_writes_its_record_beside_the_table() {
    let path = temp_path("calibrate.json");
    let out = harness(&[
        "calibrate",
        "--backend",
        "crossbeam",
        "--topologies",
        "seq",
        "--capacities",
        "4",
        "--messages",
        "1000",
        "--rounds",
        "1",
        "--json",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cells = json["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 1);
    assert_eq!(cells[0]["backend"], "crossbeam");
    let commit = json["environment"]["commit"].as_str().unwrap();
    let table = stdout(&out);
    assert!(table.contains(&format!("# commit: {commit},")), "{table}");
    assert!(table.lines().any(|l| l.starts_with("seq ")), "{table}");
    assert_usage_error(
        &["calibrate", "--json", "/nonexistent-dir/x.json"],
        "error: --json: cannot write /nonexistent-dir/x.json",
    );
}

/// A usage error whose one line is exactly `line`.
fn assert_usage_line(args: &[&str], line: &str) {
    assert_usage_error(args, line);
    assert_eq!(stderr(&harness(args)).trim_end(), line, "{args:?}");
}

#[test]
fn runs_whose_bookkeeping_cannot_fit_in_memory_are_refused_before_running() {
    let out = harness(&[
        "run",
        "-b",
        "condvar",
        "-m",
        "18446744073709551615",
        "--repeats",
        "1",
    ]);
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(
        err.starts_with(
            "error: --messages: the run needs 50728546202701271232 bytes (44.0 EiB) for the \
             ledger's per-item bookkeeping and "
        ),
        "{err}"
    );
    assert!(
        err.contains("available (MemAvailable in /proc/meminfo"),
        "{err}"
    );
    assert!(err.ends_with("so it is refused before any run\n"), "{err}");
    let many = ["run", "-b", "condvar", "--repeats", "100000000", "-m", "1"];
    assert_usage_error(
        &many,
        "error: --repeats: the run needs 4358 bytes (4.3 KiB) for the ledger's per-item bookkeeping \
         and ",
    );
    // The samples' size follows the measurement types; only its order of magnitude is fixed.
    assert!(stderr(&harness(&many)).contains(" GiB) for the repetitions' samples, more than"));
    assert_usage_error(
        &["compare", "--repeats", "100000000", "-m", "1"],
        "error: --repeats: the run needs",
    );
}

#[test]
fn runs_that_cannot_finish_in_reason_are_refused() {
    assert_usage_line(
        &[
            "run",
            "-b",
            "condvar",
            "--producer-delay",
            "1000000000min",
            "-m",
            "100",
        ],
        "error: --producer-delay: the run plans 2500000000 hours of producer delays over all its \
         runs, more than the 24 hours a run may plan (the watchdog sees a delaying thread as \
         busy, so nothing would stop it)",
    );
    assert_usage_error(
        &["run", "--consumer-delay", "60min", "-m", "100"],
        "error: --consumer-delay: the run plans 150 hours of consumer delays",
    );
    assert_usage_error(
        &[
            "compare",
            "--rate",
            "1",
            "-m",
            "1000000",
            "--target-time",
            "0",
        ],
        "error: --rate: the run plans 1389 hours of pacing to the rate",
    );
}

#[test]
fn a_zero_watchdog_is_a_usage_error() {
    for command in ["run", "compare"] {
        assert_usage_line(
            &[command, "--watchdog", "0s"],
            "error: --watchdog: 0 is too short: at least 100ms (it looks every 50ms, so a \
             shorter one fires before the threads have started)",
        );
    }
    assert_usage_error(
        &["run", "--watchdog", "1ns"],
        "error: --watchdog: 1ns is too short: at least 100ms",
    );
}

#[test]
fn sequential_conflicts_with_producers_and_consumers() {
    let err = assert_clap_error(
        &["run", "--sequential", "-p", "4", "-c", "2"],
        "the argument '--sequential' cannot be used with",
    );
    assert!(
        err.contains("--producers") && err.contains("--consumers"),
        "{err}"
    );
    let err = assert_clap_error(
        &["run", "-c", "2", "--sequential"],
        "the argument '--consumers <CONSUMERS>' cannot be used with",
    );
    assert!(err.contains("--sequential"), "{err}");
}

#[test]
fn more_threads_than_the_cap_are_refused_before_running() {
    assert_usage_line(
        &["run", "-p", "100000"],
        "error: --producers: 100000 producers and 4 consumers are 100004 threads, more than the \
         4096 a run may start (a fixed cap: past it, spawning fails partway)",
    );
    assert_usage_line(
        &["run", "-c", "5000"],
        "error: --consumers: 4 producers and 5000 consumers are 5004 threads, more than the 4096 \
         a run may start (a fixed cap: past it, spawning fails partway)",
    );
    assert_usage_error(
        &["compare", "--topologies", "1:1,5000:1"],
        "error: --topologies: 5000:1: 5000 producers and 1 consumers are 5001 threads",
    );
}

#[test]
fn a_comparison_with_nothing_to_run_is_a_usage_error() {
    // One cell per registered backend.
    assert_usage_line(
        &["compare", "--topologies", "seq", "--capacities", "0"],
        &format!(
            "error: --capacities: nothing to run: every one of its {} cells would be skipped: \
             seq at capacity 0: one thread cannot rendezvous with itself",
            registry::names().len()
        ),
    );
    assert_usage_line(
        &[
            "compare",
            "--policies",
            "drop-oldest",
            "--backends",
            "crossbeam,flume",
        ],
        "error: --policies: nothing to run: every one of its 36 cells would be skipped: \
         crossbeam cannot evict and insert atomically, so it does not offer drop-oldest; flume \
         cannot evict and insert atomically, so it does not offer drop-oldest; seq at capacity \
         0: one thread cannot rendezvous with itself",
    );
    assert_usage_line(
        &[
            "compare",
            "--policy",
            "drop-oldest",
            "--backends",
            "crossbeam",
            "--topologies",
            "1:1",
        ],
        "error: --policy: nothing to run: every one of its 3 cells would be skipped: crossbeam \
         cannot evict and insert atomically, so it does not offer drop-oldest",
    );
}

/// Starts the harness with `args`, waits until a line of its stderr contains `line` (the
/// harness has got that far), sends it SIGINT, and returns its exit code, stdout and stderr.
fn interrupt_after(args: &[&str], line: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the harness binary starts");
    let err = child.stderr.take().expect("stderr is piped");
    std::thread::scope(|s| {
        let (seen_tx, seen_rx) = mpsc::channel();
        let reader = s.spawn(move || {
            let mut all = String::new();
            let mut seen = Some(seen_tx);
            for text in BufReader::new(err).lines().map_while(Result::ok) {
                if text.contains(line)
                    && let Some(tx) = seen.take()
                {
                    let _ = tx.send(());
                }
                all.push_str(&text);
                all.push('\n');
            }
            all
        });
        // Err: stderr closed (the harness ended) before the line appeared.
        let reached = seen_rx.recv().is_ok();
        if reached {
            let status = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
        }
        let out = child.wait_with_output().expect("the harness ends");
        let err = reader.join().expect("the reader does not panic");
        assert!(reached, "{args:?} ended before printing {line:?}: {err}");
        (code(&out), stdout(&out), err)
    })
}

#[test]
fn ctrl_c_during_run_reports_what_was_measured_and_exits_130() {
    // 100,000 repetitions would take minutes: the signal comes after the first one.
    let (code, out, err) = interrupt_after(
        &[
            "run",
            "-b",
            "condvar,crossbeam",
            "-m",
            "1000",
            "--repeats",
            "100000",
            "--warmup",
            "0",
            "--log-level",
            "harness=debug",
        ],
        "run finished",
    );
    assert_eq!(code, 130, "{err}");
    assert_eq!(
        err.lines().last(),
        Some("error: interrupted: 1 of 2 backends measured, the rest not run"),
        "{err}"
    );
    assert!(out.contains("\ncondvar\n  workload    4:4"), "{out}");
    assert!(out.contains("  verified    ok: "), "{out}");
    assert!(out.contains("\ncrossbeam: not run: interrupted\n"), "{out}");
}

#[test]
fn ctrl_c_during_compare_reports_the_cells_so_far_and_exits_130() {
    let (code, out, err) = interrupt_after(
        &[
            "compare",
            "--backends",
            "condvar,crossbeam",
            "--baseline",
            "condvar",
            "--topologies",
            "1:1",
            "--capacities",
            "1,2",
            "--target-time",
            "0",
            "-m",
            "1000",
            "--repeats",
            "100000",
            "--log-level",
            "harness=debug",
        ],
        "run finished",
    );
    assert_eq!(code, 130, "{err}");
    // The backends of a cell run in paired rounds: the interrupt comes after the first round
    // of condvar at capacity 1, and crossbeam may or may not have finished its first round of
    // that cell too. Every cell at capacity 2 is not run.
    let last = err.lines().last().unwrap_or_default();
    assert!(
        [
            "error: interrupted: 1 of 4 cells measured, the rest not run",
            "error: interrupted: 2 of 4 cells measured, the rest not run",
        ]
        .contains(&last),
        "{err}"
    );
    assert!(out.contains("verified: all "), "{out}");
    for cell in ["condvar at capacity 2", "crossbeam at capacity 2"] {
        assert!(
            out.contains(&format!("skipped: {cell}: not run: interrupted\n")),
            "{cell}: {out}"
        );
    }
}

#[test]
fn numbers_at_their_extremes_are_refused_in_one_line() {
    let max = "18446744073709551615";
    assert_usage_line(
        &["run", "--warmup", max],
        "error: --warmup: warm-ups and repetitions together overflow a count",
    );
    assert_usage_line(
        &["run", "--batch", "65537"],
        "error: --batch: batch 65537 is more than 65536: every thread keeps a buffer of that \
         many items",
    );
    assert_usage_error(&["run", "--batch", max], "error: --batch: batch ");
    assert_clap_error(
        &["run", "--producer-delay", &format!("{max}s")],
        "is too long a duration",
    );
    assert_usage_line(
        &["demo", "-p", "100000"],
        "error: --producers: 100000 producers is more than the 4096 a run may start",
    );
    assert_usage_line(
        &["demo", "-m", max],
        "error: --messages: 18446744073709551615 items is more than the 100000 a demo narrates; \
         use `harness run`",
    );
    assert_usage_line(
        &["demo", "--consumer-delay", "1000000000min"],
        "error: --consumer-delay: one of the consumers plans 100000000 hours of delays, more \
         than the 24 hours a run may plan",
    );
    for list in ["--topologies", "--capacities", "--policies"] {
        assert_clap_error(&["compare", list, ""], "the list is empty");
    }
    assert_usage_error(
        &["run", "--backend", ""],
        "error: --backend: unknown backend ``",
    );
}

/// A reader that has gone (`harness list | head -0`) is an I/O error, one line and exit 1,
/// never the panic of `print!`: for a command that writes a report and for `diff`.
#[test]
fn a_closed_stdout_is_one_error_line_not_a_panic() {
    let (old, _) = diff_reports();
    for args in [vec!["list"], vec!["diff", old.as_str(), old.as_str()]] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(&args)
            .stdout(writer)
            .output()
            .expect("the harness binary runs");
        assert_eq!(code(&out), 1, "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "error: cannot write to stdout: Broken pipe (os error 32)\n",
            "{args:?}"
        );
    }
}
