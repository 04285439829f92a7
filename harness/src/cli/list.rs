//! `harness list`: the backends and their declared capabilities, in every `--format`.

use super::exit::{Exit, Failure};
use super::output::Output;
use crate::registry::{self, BackendInfo};
use crate::report::Format;

/// The columns of the table, CSV and Markdown forms.
const HEAD: [&str; 10] = [
    "backend",
    "rendezvous",
    "close",
    "batch",
    "blocking",
    "consumers",
    "len",
    "discipline",
    "drop-oldest",
    "buffered items dropped",
];

/// `harness list`: the backends and their capabilities.
///
/// # Errors
///
/// An I/O error writing the output.
pub(super) fn list(output: &Output) -> Result<Exit, Failure> {
    let backends = registry::backends();
    let text = match output.format {
        Format::Json => json(&backends)?,
        Format::Table => table(&backends),
        Format::Csv => csv(&backends)?,
        Format::Markdown => markdown(&backends),
    };
    output.write(&text)?;
    Ok(Exit::Success)
}

/// One backend's cells, in [`HEAD`]'s order.
fn row(b: &BackendInfo) -> [String; 10] {
    let c = b.capabilities;
    let yes = |v: bool| if v { "yes" } else { "no" }.to_owned();
    [
        b.name.to_owned(),
        yes(c.rendezvous),
        c.close.to_string(),
        c.batch.to_string(),
        c.blocking.to_string(),
        c.consumers.to_string(),
        c.len.to_string(),
        c.discipline.to_string(),
        yes(c.drop_oldest),
        c.buffered_drop.to_string(),
    ]
}

fn json(backends: &[BackendInfo]) -> Result<String, Failure> {
    let rows: Vec<serde_json::Value> = backends
        .iter()
        .map(|b| {
            let c = b.capabilities;
            serde_json::json!({
                "name": b.name,
                "rendezvous": c.rendezvous,
                "close": c.close.to_string(),
                "batch": c.batch.to_string(),
                "blocking": c.blocking.to_string(),
                "consumers": c.consumers.to_string(),
                "len": c.len.to_string(),
                "discipline": c.discipline.to_string(),
                "buffered_drop": c.buffered_drop.to_string(),
                "preserves_producer_order": c.preserves_producer_order(),
                "drop_oldest": c.drop_oldest,
            })
        })
        .collect();
    let mut text =
        serde_json::to_string_pretty(&rows).map_err(|e| Failure::internal(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

fn table(backends: &[BackendInfo]) -> String {
    let rows: Vec<[String; 10]> = backends.iter().map(row).collect();
    let mut widths = HEAD.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join(" ").trim_end())
    };
    let mut text = line(&HEAD);
    for r in &rows {
        text.push_str(&line(&r.each_ref().map(String::as_str)));
    }
    text
}

fn csv(backends: &[BackendInfo]) -> Result<String, Failure> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let written = std::iter::once(HEAD.map(str::to_owned))
        .chain(backends.iter().map(row))
        .try_for_each(|r| writer.write_record(r));
    let bytes = written
        .map_err(|e| e.to_string())
        .and_then(|()| writer.into_inner().map_err(|e| e.to_string()))
        .map_err(Failure::internal)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn markdown(backends: &[BackendInfo]) -> String {
    let mut text = format!(
        "| {} |\n|{}\n",
        HEAD.join(" | "),
        " --- |".repeat(HEAD.len())
    );
    for b in backends {
        text.push_str(&format!("| {} |\n", row(b).join(" | ")));
    }
    text
}
