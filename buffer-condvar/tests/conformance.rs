//! The whole conformance catalogue (`buffer_api::conformance`), run against the condvar backend.
// The suite runs on real threads; under a model checker's cfg the buffer's primitives are the
// checker's, usable only inside its models.
#![cfg(not(any(loom, shuttle)))]

buffer_api::conformance_suite!(buffer_condvar::Condvar);
