//! `harness list`: the backends and their declared capabilities.

use super::exit::{Exit, Failure};
use super::output::Output;
use crate::registry;
use crate::report::Format;

/// `harness list`: the backends and their capabilities.
///
/// # Errors
///
/// An I/O error writing the output.
pub(super) fn list(output: &Output) -> Result<Exit, Failure> {
    let backends = registry::backends();
    let text = match output.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = backends
                .iter()
                .map(|b| {
                    let c = b.capabilities;
                    serde_json::json!({
                        "name": b.name,
                        "rendezvous": c.rendezvous,
                        "close": c.close.to_string(),
                        "batch": c.batch.to_string(),
                        "discipline": c.discipline.to_string(),
                        "buffered_drop": c.buffered_drop.to_string(),
                        "preserves_producer_order": c.preserves_producer_order(),
                        "drop_oldest": c.drop_oldest,
                    })
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&rows)
                .map_err(|e| Failure::internal(e.to_string()))?;
            text.push('\n');
            text
        }
        _ => {
            let width = backends
                .iter()
                .map(|b| b.name.len())
                .max()
                .unwrap_or(0)
                .max(7);
            let mut text = format!(
                "{:<width$} {:<10} {:<9} {:<9} {:<10} {:<11} {}\n",
                "backend",
                "rendezvous",
                "close",
                "batch",
                "discipline",
                "drop-oldest",
                "buffered items dropped"
            );
            for b in &backends {
                let c = b.capabilities;
                let yes = |v: bool| if v { "yes" } else { "no" };
                text.push_str(&format!(
                    "{:<width$} {:<10} {:<9} {:<9} {:<10} {:<11} {}\n",
                    b.name,
                    yes(c.rendezvous),
                    c.close.to_string(),
                    c.batch.to_string(),
                    c.discipline.to_string(),
                    yes(c.drop_oldest),
                    c.buffered_drop
                ));
            }
            text
        }
    };
    output.write(&text)?;
    Ok(Exit::Success)
}
