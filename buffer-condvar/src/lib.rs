//! A bounded ring buffer on one parking_lot Mutex and two Condvars.
