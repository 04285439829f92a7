//! An adapter of crossbeam-channel to the buffer-api contract.
