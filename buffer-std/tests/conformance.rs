//! The whole conformance suite, run against the `std::sync::mpsc::sync_channel` adapter.

buffer_conformance::conformance_suite!(buffer_std::Std);
