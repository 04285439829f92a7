//! `harness list`: the backends and their declared capabilities, in every `--format`.

use super::exit::{CommandError, Exit};
use super::output::Output;
use crate::registry;
use crate::report::backend_list;

/// `harness list`: the backends and their capabilities.
///
/// # Errors
///
/// An I/O error writing the output.
pub(super) fn list(output: &Output) -> Result<Exit, CommandError> {
    output.write(&backend_list(&registry::backends(), output.format))?;
    Ok(Exit::Success)
}
