//! The whole conformance suite, run against both crossbeam-channel adapters.

/// crossbeam-channel as it is, without `close()`.
mod raw {
    buffer_conformance::conformance_suite!(buffer_crossbeam::Crossbeam);
}

/// crossbeam-channel with the exact emulated `close()`.
mod close {
    buffer_conformance::conformance_suite!(buffer_crossbeam::CrossbeamClose);
}
