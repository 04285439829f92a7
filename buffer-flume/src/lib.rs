//! An adapter of flume to the buffer-api contract.
