//! The whole conformance suite, run against both flume adapters.

/// flume as it is, without `close()`.
mod raw {
    buffer_conformance::conformance_suite!(buffer_flume::Flume);
}

/// flume with the exact emulated `close()`.
mod close {
    buffer_conformance::conformance_suite!(buffer_flume::FlumeClose);
}
