//! The JSON document: the [`Report`] serialised as it stands. The field table is on the types
//! (see [`Report`], [`super::ResultEntry`] and the types they hold).

use serde::Serialize;

use super::Report;

impl Report {
    /// The JSON document, pretty-printed.
    pub fn json(&self) -> String {
        json_text(self)
    }
}

/// `value` as a pretty-printed JSON document and a newline: every JSON the harness writes.
pub(super) fn json_text(value: &impl Serialize) -> String {
    let mut text =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
