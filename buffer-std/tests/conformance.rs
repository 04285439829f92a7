//! The whole conformance suite, run against the `std::sync::mpsc::sync_channel` adapter.

buffer_api::conformance_suite!(buffer_std::Std);
