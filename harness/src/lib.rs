//! The workload engine, verification ledger and reporters behind the `harness` command.
