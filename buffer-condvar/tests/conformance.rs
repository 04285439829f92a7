//! The whole conformance catalogue (`buffer_conformance`), run against the three backends
//! of this crate: one module each, because they share every line but the container.
// The suite runs on real threads; under a model checker's cfg the buffer's primitives are the
// checker's, usable only inside its models.
#![cfg(not(any(loom, shuttle)))]

mod fifo {
    buffer_conformance::conformance_suite!(buffer_condvar::CondvarFifo);
}

mod lifo {
    buffer_conformance::conformance_suite!(buffer_condvar::CondvarLifo);
}

mod priority {
    buffer_conformance::conformance_suite!(
        buffer_condvar::CondvarPriority<buffer_conformance::RankedKey>
    );
}
