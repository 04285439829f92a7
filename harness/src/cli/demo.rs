//! `harness demo`: a narrated small run; logs on stderr, the receive order on stdout.

use buffer_api::Backend;

use super::exit::{CommandError, Exit, demo_error};
use super::output::write_stdout;
use crate::demo::{Demo, DemoError, DemoOutcome, demo};
use crate::registry::{self, BackendVisitor};

/// What `harness demo` was asked to do.
#[derive(Clone, Debug)]
pub(super) struct DemoRequest {
    /// The backend's name.
    pub(super) backend: String,
    /// The demo's threads, capacity and pace.
    pub(super) demo: Demo,
}

/// `harness demo`: a narrated small run; logs on stderr, the receive order on stdout.
///
/// # Errors
///
/// Usage errors (unknown backend, zero threads, impossible capacity).
pub(super) fn run_demo(request: &DemoRequest) -> Result<Exit, CommandError> {
    struct Visit<'a> {
        demo: &'a Demo,
        result: Option<Result<DemoOutcome, DemoError>>,
    }
    impl BackendVisitor for Visit<'_> {
        fn visit<B: Backend>(&mut self) {
            self.result = Some(demo::<B>(self.demo));
        }
    }
    let mut visit = Visit {
        demo: &request.demo,
        result: None,
    };
    registry::visit_named(&request.backend, &mut visit)
        .map_err(|e| CommandError::usage(format!("--backend: {e}")))?;
    match visit.result {
        Some(Ok(outcome)) => {
            write_stdout(&outcome.render())?;
            Ok(if outcome.verification.ok {
                Exit::Success
            } else {
                Exit::Violation
            })
        }
        Some(Err(e)) => Err(demo_error(&e)),
        None => Err(CommandError::internal("the backend was not visited")),
    }
}
