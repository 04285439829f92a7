//! The whole conformance suite, run against the crossbeam-channel adapter.

buffer_api::conformance_suite!(buffer_crossbeam::Crossbeam);
