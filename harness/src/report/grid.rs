//! The comparison as a grid keyed by typed values: rows of (topology, capacity, policy), columns
//! of backends, and what sits in each slot. Renderers look results up here; nothing is found
//! by comparing rendered text.

use super::{Failure, Report, ResultEntry};
use crate::spec::{Policy, Topology};

/// One row of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) topology: Topology,
    pub(super) capacity: usize,
    pub(super) policy: Policy,
}

/// What one backend has in one row.
pub(super) enum Slot<'a> {
    Result(&'a ResultEntry),
    Failed(&'a Failure),
    Unsupported,
    Empty,
}

impl ResultEntry {
    fn row(&self) -> Row {
        let w = &self.measurement.workload;
        Row {
            topology: self.topology,
            capacity: w.capacity,
            policy: w.policy,
        }
    }
}

impl Failure {
    fn row(&self) -> Row {
        Row {
            topology: self.topology,
            capacity: self.capacity,
            policy: self.policy,
        }
    }
}

impl super::Skipped {
    fn row(&self) -> Row {
        Row {
            topology: self.topology,
            capacity: self.capacity,
            policy: self.policy,
        }
    }
}

/// Each value once, in the order first seen.
pub(super) fn distinct<T: PartialEq>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = Vec::new();
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

impl Report {
    /// Rows of the comparison, topologies and policies in the order they ran, capacities
    /// ascending. Rows where nothing ran or was unsupported (every cell skipped) are left out.
    pub(super) fn rows(&self) -> Vec<Row> {
        let ran = self
            .results
            .iter()
            .map(ResultEntry::row)
            .chain(self.failures.iter().map(Failure::row))
            .chain(
                self.skipped
                    .iter()
                    .filter(|s| s.unsupported)
                    .map(|s| s.row()),
            );
        let mut rows = distinct(ran);
        let topologies = distinct(rows.iter().map(|r| r.topology));
        let policies = distinct(rows.iter().map(|r| r.policy));
        rows.sort_by_key(|row| {
            (
                topologies.iter().position(|t| *t == row.topology),
                row.capacity,
                policies.iter().position(|p| *p == row.policy),
            )
        });
        rows
    }

    /// What `backend` has in `row`.
    pub(super) fn slot(&self, backend: &str, row: Row) -> Slot<'_> {
        if let Some(r) = self
            .results
            .iter()
            .find(|r| r.measurement.backend == backend && r.row() == row)
        {
            return Slot::Result(r);
        }
        if let Some(f) = self
            .failures
            .iter()
            .find(|f| f.backend == backend && f.row() == row)
        {
            return Slot::Failed(f);
        }
        if self
            .skipped
            .iter()
            .any(|s| s.unsupported && s.backend == backend && s.row() == row)
        {
            return Slot::Unsupported;
        }
        Slot::Empty
    }

    /// Whether the comparison is about load rather than raw speed: several policies, a
    /// policy other than `block`, or an open-loop rate. Such a comparison is shown one row per
    /// cell, with shed, timed-out and p99 columns next to throughput.
    pub(super) fn about_load(&self) -> bool {
        let mut policies = self
            .results
            .iter()
            .map(|r| r.measurement.workload.policy)
            .chain(self.skipped.iter().map(|s| s.policy))
            .chain(self.failures.iter().map(|f| f.policy));
        let first = policies.next();
        let several = policies.any(|p| Some(p) != first);
        several
            || first.is_some_and(|p| p != Policy::Block)
            || self
                .results
                .iter()
                .any(|r| r.measurement.workload.rate.is_some())
    }

    /// Backends with the baseline first.
    pub(super) fn columns(&self) -> Vec<&str> {
        let mut columns: Vec<&str> = self.backends.iter().map(String::as_str).collect();
        if let Some(base) = &self.baseline
            && let Some(i) = columns.iter().position(|c| c == base)
        {
            let base = columns.remove(i);
            columns.insert(0, base);
        }
        columns
    }
}
