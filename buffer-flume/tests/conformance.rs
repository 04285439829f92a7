//! The whole conformance suite, run against the flume adapter.

buffer_api::conformance_suite!(buffer_flume::Flume);
