//! The topology of a workload, `seq` or `P:C` threads, and everything the rest of the harness
//! asks about it: its text, how many producer and consumer threads it starts and their names,
//! and which cells (capacity, backend) it can run. A new kind of topology is a variant here;
//! the workload, the reports, the command line and the benches ask these methods.

use std::fmt;
use std::str::FromStr;

use buffer_api::Capabilities;

use super::ParseError;

/// The topology of a workload: `seq` (one thread) or `P:C` threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topology {
    /// One thread that alternates sending and receiving.
    Seq,
    /// Separate producer and consumer threads.
    Threads {
        /// Producer threads.
        producers: usize,
        /// Consumer threads.
        consumers: usize,
    },
}

/// The name of the [`Topology::Seq`] thread, which both produces and consumes.
const SEQ_THREAD: &str = "seq-1";

impl Topology {
    /// Producer threads a run starts: 1 for `seq`, whose one thread is also the consumer.
    pub const fn producers(self) -> usize {
        match self {
            Self::Seq => 1,
            Self::Threads { producers, .. } => producers,
        }
    }

    /// Consumer threads a run starts: 1 for `seq` (the producer's own thread).
    pub const fn consumers(self) -> usize {
        match self {
            Self::Seq => 1,
            Self::Threads { consumers, .. } => consumers,
        }
    }

    /// Whether one thread both sends and receives.
    pub const fn is_sequential(self) -> bool {
        matches!(self, Self::Seq)
    }

    /// The thread name of producer `index` (0-based): `producer-N`, or `seq-1`.
    pub fn producer_name(self, index: usize) -> String {
        match self {
            Self::Seq => SEQ_THREAD.to_owned(),
            Self::Threads { .. } => format!("producer-{}", index + 1),
        }
    }

    /// The thread name of consumer `index` (0-based): `consumer-N`, or `seq-1`.
    pub fn consumer_name(self, index: usize) -> String {
        match self {
            Self::Seq => SEQ_THREAD.to_owned(),
            Self::Threads { .. } => format!("consumer-{}", index + 1),
        }
    }

    /// Every worker thread's name, each once: the producers then the consumers, or `seq-1`.
    pub fn thread_names(self) -> Vec<String> {
        match self {
            Self::Seq => vec![SEQ_THREAD.to_owned()],
            Self::Threads {
                producers,
                consumers,
            } => (0..producers)
                .map(|i| self.producer_name(i))
                .chain((0..consumers).map(|i| self.consumer_name(i)))
                .collect(),
        }
    }

    /// Whether a fault can be injected: faults need separate producer and consumer threads.
    pub const fn takes_faults(self) -> bool {
        !self.is_sequential()
    }

    /// Whether any backend could run this topology at `capacity`.
    ///
    /// # Errors
    ///
    /// [`Unrunnable::SelfRendezvous`] for `seq` at capacity 0.
    pub const fn fits(self, capacity: usize) -> Result<(), Unrunnable> {
        if capacity == 0 && self.is_sequential() {
            Err(Unrunnable::SelfRendezvous)
        } else {
            Ok(())
        }
    }

    /// Whether a backend with `capabilities` can run this topology at `capacity`: the one rule
    /// for a cell that the comparison, the reports, `calibrate` and the benches all ask.
    ///
    /// ```
    /// use harness::spec::{Topology, Unrunnable};
    ///
    /// let caps = buffer_api::Capabilities::new(buffer_api::Discipline::Fifo);
    /// assert_eq!(Topology::Seq.accepts(0, &caps), Err(Unrunnable::SelfRendezvous));
    /// assert_eq!("1:1".parse::<Topology>().unwrap().accepts(0, &caps), Err(Unrunnable::NoRendezvous));
    /// assert_eq!(Topology::Seq.accepts(1, &caps), Ok(()));
    /// ```
    ///
    /// # Errors
    ///
    /// The reason the cell cannot run, as an [`Unrunnable`].
    pub const fn accepts(
        self,
        capacity: usize,
        capabilities: &Capabilities,
    ) -> Result<(), Unrunnable> {
        if let Err(e) = self.fits(capacity) {
            return Err(e);
        }
        if capacity == 0 && !capabilities.rendezvous {
            return Err(Unrunnable::NoRendezvous);
        }
        Ok(())
    }
}

/// Why a cell (topology, capacity, backend) cannot run. `Display` is the reason in a few
/// words; the cell's topology, capacity and backend are shown beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unrunnable {
    /// One thread both sends and receives, so at capacity 0 it would wait for itself.
    SelfRendezvous,
    /// Capacity 0 on a backend that declares no rendezvous.
    NoRendezvous,
}

impl Unrunnable {
    /// Whether no backend could run the cell. A matrix holds such cells only because it is a
    /// product of topologies and capacities, so the reports leave them out of their reasons.
    pub const fn for_every_backend(self) -> bool {
        matches!(self, Self::SelfRendezvous)
    }
}

impl fmt::Display for Unrunnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SelfRendezvous => "one thread cannot rendezvous with itself",
            Self::NoRendezvous => "no rendezvous (capacity 0)",
        })
    }
}

impl std::error::Error for Unrunnable {}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Seq => f.write_str("seq"),
            Self::Threads {
                producers,
                consumers,
            } => write!(f, "{producers}:{consumers}"),
        }
    }
}

impl FromStr for Topology {
    type Err = ParseError;

    /// Parses `seq` or `P:C` with both counts at least 1.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("seq") {
            return Ok(Self::Seq);
        }
        let bad = || ParseError::new(format!("`{s}` is not a topology (`seq` or P:C, like 4:1)"));
        let (p, c) = s.split_once(':').ok_or_else(bad)?;
        let producers: usize = p.trim().parse().map_err(|_| bad())?;
        let consumers: usize = c.trim().parse().map_err(|_| bad())?;
        if producers == 0 || consumers == 0 {
            return Err(ParseError::new(format!(
                "`{s}`: producers and consumers must be at least 1"
            )));
        }
        Ok(Self::Threads {
            producers,
            consumers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_and_their_names() {
        let two_one = Topology::Threads {
            producers: 2,
            consumers: 1,
        };
        assert_eq!((two_one.producers(), two_one.consumers()), (2, 1));
        assert_eq!(
            two_one.thread_names(),
            ["producer-1", "producer-2", "consumer-1"]
        );
        assert_eq!(
            (Topology::Seq.producers(), Topology::Seq.consumers()),
            (1, 1)
        );
        assert_eq!(Topology::Seq.thread_names(), ["seq-1"]);
        assert_eq!(Topology::Seq.consumer_name(0), "seq-1");
    }

    #[test]
    fn only_seq_at_capacity_zero_fits_no_backend() {
        let one_one = Topology::Threads {
            producers: 1,
            consumers: 1,
        };
        assert_eq!(Topology::Seq.fits(0), Err(Unrunnable::SelfRendezvous));
        assert_eq!(Topology::Seq.fits(1), Ok(()));
        assert_eq!(one_one.fits(0), Ok(()));
        assert!(Unrunnable::SelfRendezvous.for_every_backend());
        assert!(!Unrunnable::NoRendezvous.for_every_backend());
    }
}
