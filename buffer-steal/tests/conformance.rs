//! The whole conformance suite against `steal`.

buffer_conformance::conformance_suite!(buffer_steal::Steal);
