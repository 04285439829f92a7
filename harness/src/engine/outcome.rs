//! What one run produced, made from the workers' reports and verified by the ledger.

use std::sync::atomic::Ordering;

use super::consumer::ConsumerLog;
use super::item;
use super::latency::latency_of;
use super::producer::ProducerLog;
use super::shared::Shared;
use super::worker::{Ending, Role, WorkerReport};
use crate::measure::{ConsumerSample, CpuTime, ProducerSample, RunSample};
use crate::verify::{
    self, ConsumerRecord, OrderCheck, ProducerRecord, RunFacts, Verification, Violation,
};

/// What one run (one repetition or warm-up) produced.
pub(super) struct RunOutcome {
    pub(super) wall_ns: u64,
    /// From the first producer's start to the last producer's end: how long offering took.
    send_ns: u64,
    cpu: Option<CpuTime>,
    producers: Vec<ProducerLog>,
    consumers: Vec<ConsumerLog>,
    pub(super) verification: Verification,
    pub(super) fault_fired: bool,
}

/// The workers' reports, sorted by role.
struct Gathered {
    producers: Vec<ProducerLog>,
    consumers: Vec<ConsumerLog>,
    /// Earliest start and latest end over producers and consumers.
    span: (u64, u64),
    /// Earliest start and latest end over the producers.
    send_span: (u64, u64),
    consumer_panics: usize,
    producer_panics: usize,
    /// Violations the reports show by themselves (a worker panicked unasked).
    extra: Vec<Violation>,
}

impl Gathered {
    fn new(shared: &Shared, reports: Vec<WorkerReport>) -> Self {
        let workload = &shared.workload;
        let mut producers: Vec<Option<ProducerLog>> =
            (0..workload.producer_count()).map(|_| None).collect();
        let mut consumers: Vec<Option<ConsumerLog>> =
            (0..workload.consumer_count()).map(|_| None).collect();
        let mut gathered = Self {
            producers: Vec::new(),
            consumers: Vec::new(),
            span: (u64::MAX, 0),
            send_span: (u64::MAX, 0),
            consumer_panics: 0,
            producer_panics: 0,
            extra: Vec::new(),
        };
        for report in reports {
            gathered.times(&report);
            match (&report.ending, &report.role) {
                (Ending::Injected, Role::Consumer(..)) => gathered.consumer_panics += 1,
                (Ending::Injected, Role::Producer(..)) => gathered.producer_panics += 1,
                (Ending::Panicked(message), _) => gathered.extra.push(Violation::Panicked {
                    thread: report.name.clone(),
                    message: message.clone(),
                }),
                _ => {}
            }
            match report.role {
                Role::Producer(i, out) => producers[i] = Some(out),
                Role::Consumer(i, out) => consumers[i] = Some(out),
                Role::Sequential(logs) => {
                    let (p, c) = *logs;
                    producers[0] = Some(p);
                    consumers[0] = Some(c);
                }
                Role::Closer => {}
            }
        }
        // A worker that never reported (the run was abandoned) counts as having done nothing.
        gathered.producers = producers
            .into_iter()
            .map(|p| p.unwrap_or_else(|| ProducerLog::new(shared)))
            .collect();
        gathered.consumers = consumers
            .into_iter()
            .enumerate()
            .map(|(i, c)| c.unwrap_or_else(|| ConsumerLog::new(shared, i)))
            .collect();
        gathered
    }

    /// Widens the run's spans by one worker's start and end; closers do not count.
    fn times(&mut self, report: &WorkerReport) {
        if matches!(report.role, Role::Closer) {
            return;
        }
        let Some(start) = report.start_ns else {
            return;
        };
        self.span = (self.span.0.min(start), self.span.1.max(report.end_ns));
        if matches!(report.role, Role::Producer(..) | Role::Sequential(..)) {
            self.send_span = (
                self.send_span.0.min(start),
                self.send_span.1.max(report.end_ns),
            );
        }
    }
}

/// The length of a span that may be empty (`(u64::MAX, 0)`).
fn length((start, end): (u64, u64)) -> u64 {
    end.saturating_sub(start.min(end))
}

impl RunOutcome {
    /// Turns the workers' reports into a run outcome, verified by the run's ledger.
    pub(super) fn verified(
        shared: &Shared,
        reports: Vec<WorkerReport>,
        cpu: Option<CpuTime>,
        payloads_dropped: u64,
    ) -> Self {
        let mut gathered = Gathered::new(shared, reports);
        if shared.plan.closers > 0 {
            let returned_true = shared.closes_returning_true.load(Ordering::Relaxed);
            if returned_true != 1 {
                gathered.extra.push(Violation::CloseCount { returned_true });
            }
        }
        let consumers_all_gone = gathered.consumer_panics == gathered.consumers.len();
        let fault_fired = gathered.producers.iter().any(|p| p.fault_fired)
            || gathered.consumers.iter().any(|c| c.fault_fired)
            || shared.plan.closers > 0;
        let mut extra = gathered.extra;
        extra.extend(check_order(
            shared,
            &gathered.producers,
            &gathered.consumers,
        ));
        let facts = RunFacts {
            payloads_dropped,
            consumers_all_gone,
            early_stop_allowed: consumers_all_gone
                || gathered.producer_panics > 0
                || shared.plan.closers > 0,
            extra,
            order_check: shared.order_check,
        };
        let producer_records: Vec<&ProducerRecord> =
            gathered.producers.iter().map(|p| &p.record).collect();
        let consumer_records: Vec<&ConsumerRecord> =
            gathered.consumers.iter().map(|c| &c.record).collect();
        let verification = shared
            .ledger
            .verify(&producer_records, &consumer_records, facts);
        Self {
            wall_ns: length(gathered.span),
            send_ns: length(gathered.send_span),
            cpu,
            producers: gathered.producers,
            consumers: gathered.consumers,
            verification,
            fault_fired,
        }
    }

    /// What the statistics over repetitions need of this run.
    pub(super) fn into_sample(self, started_s: f64, latency_sample_every: u32) -> RunSample {
        let sent: Vec<&[u64]> = self.producers.iter().map(|p| &p.sent_at[..]).collect();
        let latencies: Vec<_> = self
            .consumers
            .iter()
            .map(|c| latency_of(&sent, &c.arrivals, latency_sample_every))
            .collect();
        RunSample {
            started_s,
            wall_ns: self.wall_ns,
            send_ns: self.send_ns,
            cpu: self.cpu,
            producers: self
                .producers
                .into_iter()
                .map(|p| ProducerSample {
                    produced: p.record.accepted_count(),
                    handed_back: p.record.handed_back(),
                    dropped_by_policy: p.record.dropped_by_policy(),
                    evicted: p.record.evicted_count(),
                    timed_out: p.record.timed_out(),
                    blocked_ns: p.blocked_ns,
                    depth: p.depth,
                })
                .collect(),
            consumers: self
                .consumers
                .into_iter()
                .zip(latencies)
                .map(|(c, latency)| ConsumerSample {
                    consumed: c.received,
                    blocked_ns: c.blocked_ns,
                    depth: c.depth,
                    latency,
                })
                .collect(),
            verification: self.verification,
        }
    }
}

/// The run's order check from its send and receive log (see [`crate::verify`]).
fn check_order(
    shared: &Shared,
    producers: &[ProducerLog],
    consumers: &[ConsumerLog],
) -> Vec<Violation> {
    let workload = &shared.workload;
    match (shared.order_check, consumers) {
        (Some(OrderCheck::Priority), [consumer]) => {
            let sent: Vec<Vec<u64>> = producers.iter().map(|p| p.sent.clone()).collect();
            verify::check_priority(
                &sent,
                &consumer.receipts,
                workload.priorities,
                |producer, seq| {
                    item::priority_of(workload.seed, producer, seq, workload.priorities)
                },
            )
        }
        (Some(OrderCheck::Lifo), [consumer]) => match producers {
            [producer] => verify::check_lifo(&producer.sent, &consumer.receipts),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}
