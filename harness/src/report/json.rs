//! The JSON document: the [`Report`] serialised as it stands. The field table is on the types
//! (see [`Report`], [`super::ResultEntry`] and the types they hold).

use super::Report;

impl Report {
    /// The JSON document, pretty-printed.
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    }
}
