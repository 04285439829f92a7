//! What `harness demo` prints on stdout once its narration (on stderr) is over: each
//! consumer's receive order and the ledger's verdict.

use std::fmt::Write as _;

use super::text::counted;
use crate::demo::DemoOutcome;

impl DemoOutcome {
    /// The receive order, one line per consumer, and the verdict.
    pub(crate) fn render(&self) -> String {
        let mut out = format!("receive order ({}):\n", self.backend);
        for (i, items) in self.received.iter().enumerate() {
            let list: Vec<String> = items.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                out,
                "  consumer-{}: {} ({})",
                i + 1,
                list.join(" "),
                counted(items.len() as u64, "item")
            );
        }
        let _ = writeln!(out, "ledger: {}", self.verification.summary());
        out
    }
}
