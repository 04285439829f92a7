//! Whether a run was correct, decided from what its threads recorded rather than from what
//! the buffer claims: the ledger (`ledger.rs`: exactly once, per-producer order, the
//! accounting, payload drops), the rule that picks how a run proves exactly once, item by item
//! or by count and fingerprint (`exactness.rs`), the order checks made from a log of sends and receives
//! (`order.rs`, which explains why a flagged pair is a definite violation), and the one rule
//! that picks which order checks a run makes (`OrderChecks`, in `order.rs`). The records the
//! workers keep while they run are in `records.rs`.
//!
//! Any failed check is a [`Violation`]; the verdict is a [`Verification`].

mod exactness;
mod ledger;
mod order;
mod records;
mod verification;
mod violation;

pub(crate) use exactness::{Exactness, mix};
pub(crate) use ledger::{Ledger, RunFacts};
pub use order::OrderCheck;
pub(crate) use order::{NOT_SENT, OrderChecks, Receipt, check_lifo, check_priority};
pub(crate) use records::{ConsumerRecord, ProducerRecord, Refusal};
pub use verification::Verification;
pub use violation::Violation;

/// Examples kept per kind of violation; the counts stay exact.
const EXAMPLES: usize = 5;
