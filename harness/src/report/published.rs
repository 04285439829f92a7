//! The README's generated blocks (`scripts/results.sh` writes them between `<!-- NAME:begin`
//! and `<!-- NAME:end` markers) against the JSON records beside them in `docs/`: every figure
//! must read exactly as the renderers write it from the record (`rate`, `ratio_text` and
//! `interval_text`, the formatting the reports use), and each block must name its record's
//! commit. In the `results` block a table is paired with its record by the picture that
//! follows it (`docs/results-batch64.svg` with `docs/results-batch64.json`); the `quick` block
//! is `docs/results-quick.json`, the `calibrate` block `docs/calibrate.json`. Run by
//! `cargo test`, so CI fails when the README and the records drift apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::text::{interval_text, rate, ratio_text};
use crate::measure::Interval;

/// A table's cells by (row key, column name): the row key is every text column, the topology
/// carried down from the row that named it.
type TableCells = BTreeMap<(Vec<String>, String), String>;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness sits in the workspace")
        .to_path_buf()
}

/// The README, and the record `docs/<json>` parsed.
fn load(json: &str) -> (String, Value) {
    let root = repository();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let path = root.join("docs").join(json);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{json}: {e}"));
    (readme, serde_json::from_str(&text).expect("a JSON record"))
}

/// The lines of the README's block `name`, between its markers.
fn block<'a>(readme: &'a str, name: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with(&format!("<!-- {name}:begin")))
        .take_while(|l| !l.starts_with(&format!("<!-- {name}:end")))
        .collect();
    assert!(!lines.is_empty(), "README.md has no {name} block");
    lines
}

/// Asserts that `lines` name the commit of `record`.
fn names_commit(lines: &[&str], record: &Value, what: &str) {
    let commit = record["environment"]["commit"].as_str().unwrap_or_default();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("commit: {commit},"))),
        "{what}: the README does not name commit {commit}"
    );
}

/// Each table of the section with the lines before it (its environment) and the record its
/// picture names.
fn tables<'a>(section: &[&'a str]) -> Vec<(Vec<&'a str>, Vec<&'a str>, String)> {
    let mut found = Vec::new();
    let (mut before, mut table) = (Vec::new(), Vec::new());
    for &line in section {
        if line.starts_with('|') {
            table.push(line);
        } else if let Some(svg) = line.split("](docs/").nth(1) {
            let json = svg.trim_end_matches(')').replace(".svg", ".json");
            found.push((
                std::mem::take(&mut before),
                std::mem::take(&mut table),
                json,
            ));
        } else if table.is_empty() {
            before.push(line);
        }
    }
    found
}

fn split_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split(" | ").map(|c| c.trim().to_owned()).collect()
}

/// A markdown table's cells: its first `text_columns` columns name the row.
fn parse_table(lines: &[&str]) -> TableCells {
    let head = split_row(lines[0]);
    let text_columns = split_row(lines[1])
        .iter()
        .take_while(|c| !c.ends_with(':'))
        .count();
    let mut cells = TableCells::new();
    let mut topology = String::new();
    for line in &lines[2..] {
        let row = split_row(line);
        if !row[0].is_empty() {
            topology.clone_from(&row[0]);
        }
        let mut key = row[..text_columns].to_vec();
        key[0].clone_from(&topology);
        for (column, cell) in head.iter().zip(&row).skip(text_columns) {
            cells.insert((key.clone(), column.clone()), cell.clone());
        }
    }
    cells
}

/// A record's value as the tables write it: a string as it is, anything else as JSON.
fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn interval(ratio: &Value) -> Option<Interval> {
    let field = |name: &str| ratio.get(name).and_then(Value::as_f64);
    Some(Interval {
        median: field("median")?,
        low: field("low")?,
        high: field("high")?,
        level: field("level")?,
    })
}

/// What the renderers write for each result of `record`, by the same keys as [`parse_table`]:
/// the comparison grid (topology, backend; a column per capacity) or, for a record of several
/// policies, the load table (topology, capacity, policy, backend; msg/s and ratio columns).
fn rendered(record: &Value) -> TableCells {
    let baseline = record["baseline"].as_str().unwrap_or_default();
    let about_load = record["results"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| r["workload"]["policy"] != "block");
    let mut cells = TableCells::new();
    for result in record["results"].as_array().into_iter().flatten() {
        // Schema 2 called the topology `shape`.
        let topology = text(result.get("topology").unwrap_or(&result["shape"]));
        let backend = text(&result["backend"]);
        let capacity = text(&result["workload"]["capacity"]);
        let mut throughput = rate(result["throughput"]["median"].as_f64().unwrap_or(0.0));
        if result["verification"]["ok"] != true {
            throughput.push_str(" FAILED");
        }
        let ratio = ratio_text(interval(&result["ratio"]), backend == baseline);
        if about_load {
            let policy = text(&result["workload"]["policy"]);
            let key = vec![topology, capacity, policy, backend];
            cells.insert((key.clone(), "msg/s".to_owned()), throughput);
            cells.insert((key, "ratio".to_owned()), ratio);
        } else {
            let key = (vec![topology, backend], format!("cap {capacity}"));
            cells.insert(key, format!("{throughput} {ratio}"));
        }
    }
    cells
}

#[test]
fn the_readme_results_are_what_their_records_render() {
    let (readme, _) = load("results.json");
    let tables = tables(&block(&readme, "results"));
    assert!(!tables.is_empty(), "no results tables between the markers");
    for (environment, table, json) in tables {
        let (_, record) = load(&json);
        names_commit(&environment, &record, &json);
        let published = parse_table(&table);
        let rendered = rendered(&record);
        for (key, expected) in &rendered {
            assert_eq!(
                published.get(key),
                Some(expected),
                "{json}: the README's cell {key:?}"
            );
        }
        // And no figure in the README that the record does not hold.
        let placeholder = ["-", "unsupported", "error", "HUNG"];
        for (key, cell) in &published {
            let figure = key.1.starts_with("cap ") || key.1 == "msg/s" || key.1 == "ratio";
            if figure && !placeholder.contains(&cell.as_str()) {
                assert!(rendered.contains_key(key), "{json}: no result for {key:?}");
            }
        }
    }
}

/// The quick block shows the console table of its first topologies: each row there holds
/// every cell the record renders for it.
#[test]
fn the_readme_quick_run_is_its_record() {
    let (readme, record) = load("results-quick.json");
    let lines = block(&readme, "quick");
    names_commit(&lines, &record, "the quick block");
    let rendered = rendered(&record);
    let topologies: Vec<&String> = rendered.keys().map(|(key, _)| &key[0]).collect();
    let mut rows: BTreeMap<(String, String), &str> = BTreeMap::new();
    let mut topology = String::new();
    for line in &lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() > 1 && topologies.iter().any(|t| *t == words[0]) {
            topology = words[0].to_owned();
            rows.insert((topology.clone(), words[1].to_owned()), line);
        } else if line.starts_with(' ') && !topology.is_empty() && !words.is_empty() {
            rows.insert((topology.clone(), words[0].to_owned()), line);
        }
    }
    assert!(!rows.is_empty(), "no rows in the quick block");
    for ((key, column), expected) in &rendered {
        let Some(row) = rows.get(&(key[0].clone(), key[1].clone())) else {
            continue;
        };
        assert!(
            row.contains(expected.as_str()),
            "{key:?} {column}: {expected} not in {row}"
        );
    }
}

/// The calibrate block shows the table of its record: each cell's line ends in its fraction.
#[test]
fn the_readme_calibration_is_its_record() {
    let (readme, record) = load("calibrate.json");
    let lines = block(&readme, "calibrate");
    names_commit(&lines, &record, "the calibrate block");
    let cells = record["cells"].as_array().expect("cells");
    assert!(!cells.is_empty(), "calibrate.json has no cells");
    for cell in cells {
        let head = [
            cell["topology"].clone(),
            cell["capacity"].clone(),
            cell["backend"].clone(),
        ]
        .map(|v| text(&v));
        let fraction =
            interval(&cell["fraction"]).map_or_else(|| "-".to_owned(), |i| interval_text(i, 2));
        let found = lines.iter().any(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.len() > 3
                && words[..3] == head.each_ref().map(String::as_str)
                && line.ends_with(&fraction)
        });
        assert!(found, "no line for {head:?} ending in {fraction}");
    }
}
