//! Latency without traffic between the threads: every worker logs only its own clock reads.
//!
//! A producer logs the send time of each sampled item (item `k * every`, in order, so entry
//! `k` belongs to item `k * every`); a consumer logs which sampled item it received and when.
//! After the threads are joined, [`latency_of`] matches the two and builds the histogram. The
//! item itself carries only a flag that it was sampled, so it stays one word, and no thread
//! reads a cache line another is writing while the run is timed.

use hdrhistogram::Histogram;

use crate::measure::latency_histogram;

/// A sampled item as its consumer saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Arrival {
    pub(super) producer: u32,
    pub(super) seq: u64,
    /// Nanoseconds since the run's epoch.
    pub(super) at_ns: u64,
}

/// The latency histogram of one consumer's `arrivals`, from the producers' send-time logs
/// (`sent[p][k]`: nanoseconds since the epoch of producer `p`'s item `k * every`). An arrival
/// with no logged send time is skipped; a latency of 0 counts as 1 ns.
pub(super) fn latency_of(sent: &[&[u64]], arrivals: &[Arrival], every: u32) -> Histogram<u64> {
    let every = u64::from(every.max(1));
    let mut histogram = latency_histogram();
    for arrival in arrivals {
        let sent_ns = sent
            .get(arrival.producer as usize)
            .and_then(|log| log.get(usize::try_from(arrival.seq / every).ok()?));
        if let Some(&sent_ns) = sent_ns {
            // An auto-resizing histogram refuses only values beyond `u64` range.
            let _ = histogram.record(arrival.at_ns.saturating_sub(sent_ns).max(1));
        }
    }
    histogram
}

/// The bytes the two logs take per sampled item, for the memory budget.
pub(super) const BYTES_PER_SAMPLE: u128 = (size_of::<u64>() + size_of::<Arrival>()) as u128;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_meet_their_send_times() {
        let sent: [&[u64]; 2] = [&[100, 200], &[1000]];
        let at = |producer, seq, at_ns| Arrival {
            producer,
            seq,
            at_ns,
        };
        let arrivals = [
            at(0, 0, 150),
            at(0, 32, 260),
            at(1, 0, 1000),
            // No send time logged: skipped.
            at(1, 32, 5000),
            at(2, 0, 5000),
        ];
        let h = latency_of(&sent, &arrivals, 32);
        assert_eq!(h.len(), 3);
        assert_eq!((h.min(), h.max()), (1, 60));
        assert_eq!(h.count_at(50), 1);
    }
}
