//! The backend list of `harness list`: each backend's name and declared capabilities, in every
//! [`Format`]. The table, CSV and Markdown forms share one row of cells per backend; JSON keeps
//! the capabilities' own types (booleans stay booleans) and adds the derived producer order.

use super::Format;
use super::text::markdown_table;
use crate::registry::BackendInfo;

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

/// The list of `backends` in `format`.
pub(crate) fn backend_list(backends: &[BackendInfo], format: Format) -> String {
    match format {
        Format::Json => json(backends),
        Format::Table => table(backends),
        Format::Csv => csv(backends),
        Format::Markdown => {
            let head = HEAD.map(str::to_owned);
            let body: Vec<Vec<String>> = backends.iter().map(|b| row(b).to_vec()).collect();
            markdown_table(&head, &body, HEAD.len())
        }
    }
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

/// Pretty-printed, as every JSON the harness writes.
fn json(backends: &[BackendInfo]) -> String {
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
    super::json::json_text(&rows)
}

/// Left-aligned columns one space apart, narrower than the comparison grid's so that all ten
/// fit a terminal.
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

/// Written into memory, which cannot fail; the fallback is the one [`super::Report::csv`] uses.
fn csv(backends: &[BackendInfo]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let written = std::iter::once(HEAD.map(str::to_owned))
        .chain(backends.iter().map(row))
        .try_for_each(|r| writer.write_record(r));
    let bytes = written
        .map_err(|e| e.to_string())
        .and_then(|()| writer.into_inner().map_err(|e| e.to_string()));
    match bytes {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("error: {e}\n"),
    }
}
