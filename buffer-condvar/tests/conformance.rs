//! The whole conformance catalogue (`buffer_api::conformance`), run against the condvar backend.
buffer_api::conformance_suite!(buffer_condvar::Condvar);
