//! The JSON document: the [`Report`](super::Report) serialised as it stands. The field table is on the types
//! (see [`Report`](super::Report), [`super::ResultEntry`] and the types they hold).

use serde::Serialize;

use super::Format;

/// `value` as a pretty-printed JSON document and a newline: every JSON the harness writes.
pub(super) fn json_text(value: &impl Serialize) -> String {
    let mut text =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// `value` as JSON for [`Format::Json`], as `table(value)` otherwise: the rendering of the
/// commands that write a table or JSON (`calibrate`, `diff`).
pub(super) fn table_or_json<T: Serialize>(
    value: &T,
    format: Format,
    table: fn(&T) -> String,
) -> String {
    match format {
        Format::Json => json_text(value),
        _ => table(value),
    }
}
