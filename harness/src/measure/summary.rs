//! The statistics over repetitions: the measured runs of one workload on one backend, summed
//! and spread into one [`Measurement`].

use hdrhistogram::Histogram;

use super::cpu::{CpuTime, RESOLUTION_S};
use super::{
    ConsumerStats, CpuSummary, DepthHistogram, FaultOutcome, Latency, Load, Measurement,
    ProducerStats, Repetition, Spread, latency_histogram,
};
use crate::spec::Workload;
use crate::verify::Verification;

/// What one measured run (one repetition) contributes.
pub(crate) struct RunSample {
    /// When the run started, in seconds since the process started ([`since_start`]).
    ///
    /// [`since_start`]: super::since_start
    pub(crate) started_s: f64,
    /// `max(worker end) - min(worker start)`.
    pub(crate) wall_ns: u64,
    /// From the first producer's start to the last producer's end: how long offering took.
    pub(crate) send_ns: u64,
    /// The process's CPU time over the run, if it could be read.
    pub(crate) cpu: Option<CpuTime>,
    /// Per producer, in order.
    pub(crate) producers: Vec<ProducerSample>,
    /// Per consumer, in order.
    pub(crate) consumers: Vec<ConsumerSample>,
    /// The run's own verification (its counts feed the repetition).
    pub(crate) verification: Verification,
}

/// What one producer did in one run.
pub(crate) struct ProducerSample {
    pub(crate) produced: u64,
    pub(crate) handed_back: u64,
    pub(crate) dropped_by_policy: u64,
    pub(crate) evicted: u64,
    pub(crate) timed_out: u64,
    pub(crate) blocked_ns: Option<u64>,
    pub(crate) depth: DepthHistogram,
}

/// What one consumer did in one run.
pub(crate) struct ConsumerSample {
    pub(crate) consumed: u64,
    pub(crate) blocked_ns: Option<u64>,
    pub(crate) depth: DepthHistogram,
    pub(crate) latency: Histogram<u64>,
}

/// Sums the measured runs of `workload` on backend `backend` into one measurement;
/// `verification` covers every run, warm-ups included.
pub(crate) fn summarise(
    backend: &str,
    workload: &Workload,
    runs: Vec<RunSample>,
    verification: Verification,
    fault: Option<FaultOutcome>,
) -> Measurement {
    let mut threads = Threads::new(workload);
    let mut cpu = CpuSummary {
        available: true,
        tick_s: RESOLUTION_S,
        ..CpuSummary::default()
    };
    let mut repetitions = Vec::with_capacity(runs.len());
    for run in &runs {
        threads.add(run);
        repetitions.push(repetition(run, &mut cpu));
    }
    finish_cpu(&mut cpu, &repetitions);
    let walls: Vec<f64> = repetitions.iter().map(|r| r.wall_s).collect();
    let rates: Vec<f64> = repetitions.iter().map(|r| r.msgs_per_s).collect();
    let throughput = Spread::of(&rates);
    let load = Load::of(&repetitions, workload.rate, throughput.median);
    Measurement {
        backend: backend.to_owned(),
        workload: workload.clone(),
        wall_s: Spread::of(&walls),
        throughput,
        load,
        repetitions,
        cpu,
        latency: Latency::from_histogram(&threads.latency, workload.latency_sample_every),
        producers: threads.producers,
        consumers: threads.consumers,
        depth: threads.depth,
        verification,
        fault,
    }
}

/// The per-thread sums over the runs.
struct Threads {
    producers: Vec<ProducerStats>,
    consumers: Vec<ConsumerStats>,
    latency: Histogram<u64>,
    depth: DepthHistogram,
}

impl Threads {
    fn new(workload: &Workload) -> Self {
        Self {
            producers: (0..workload.producer_count())
                .map(|i| ProducerStats {
                    thread: workload.topology.producer_name(i),
                    ..ProducerStats::default()
                })
                .collect(),
            consumers: (0..workload.consumer_count())
                .map(|i| ConsumerStats {
                    thread: workload.topology.consumer_name(i),
                    ..ConsumerStats::default()
                })
                .collect(),
            latency: latency_histogram(),
            depth: DepthHistogram::new(workload.capacity),
        }
    }

    fn add(&mut self, run: &RunSample) {
        for (stats, out) in self.producers.iter_mut().zip(&run.producers) {
            stats.produced += out.produced;
            stats.handed_back += out.handed_back;
            stats.dropped_by_policy += out.dropped_by_policy;
            stats.evicted += out.evicted;
            stats.timed_out += out.timed_out;
            stats.blocked_s = add_blocked(stats.blocked_s, out.blocked_ns);
            self.depth.merge(&out.depth);
        }
        for (stats, out) in self.consumers.iter_mut().zip(&run.consumers) {
            stats.consumed += out.consumed;
            stats.blocked_s = add_blocked(stats.blocked_s, out.blocked_ns);
            self.depth.merge(&out.depth);
            // Histograms of the same precision always merge.
            let _ = self.latency.add(&out.latency);
        }
    }
}

/// One run as a repetition, adding its CPU time to `cpu`.
fn repetition(run: &RunSample, cpu: &mut CpuSummary) -> Repetition {
    let wall_s = run.wall_ns as f64 / 1e9;
    let account = run.cpu.unwrap_or_else(|| {
        cpu.available = false;
        CpuTime::default()
    });
    let (user_s, sys_s) = (account.user.as_secs_f64(), account.system.as_secs_f64());
    cpu.user_s += user_s;
    cpu.sys_s += sys_s;
    cpu.voluntary_switches += account.voluntary;
    cpu.involuntary_switches += account.involuntary;
    let v = &run.verification;
    let send_s = run.send_ns as f64 / 1e9;
    Repetition {
        started_s: run.started_s,
        wall_s,
        user_s,
        sys_s,
        voluntary_switches: account.voluntary,
        involuntary_switches: account.involuntary,
        delivered: v.delivered,
        msgs_per_s: if wall_s > 0.0 {
            v.delivered as f64 / wall_s
        } else {
            0.0
        },
        offered: v.offered,
        shed: v.dropped_by_policy + v.evicted,
        timed_out: v.timed_out,
        send_rate: if send_s > 0.0 {
            v.offered as f64 / send_s
        } else {
            0.0
        },
    }
}

/// Cores busy and CPU time per message, from the sums.
fn finish_cpu(cpu: &mut CpuSummary, repetitions: &[Repetition]) {
    let wall_total: f64 = repetitions.iter().map(|r| r.wall_s).sum();
    let delivered_total: u64 = repetitions.iter().map(|r| r.delivered).sum();
    let busy = cpu.user_s + cpu.sys_s;
    cpu.utilisation = if wall_total > 0.0 {
        busy / wall_total
    } else {
        0.0
    };
    cpu.ns_per_message = (cpu.available && delivered_total > 0 && busy > 0.0)
        .then(|| busy * 1e9 / delivered_total as f64);
    cpu.switches_per_message = (cpu.available && delivered_total > 0).then(|| {
        (cpu.voluntary_switches + cpu.involuntary_switches) as f64 / delivered_total as f64
    });
}

fn add_blocked(total: Option<f64>, ns: Option<u64>) -> Option<f64> {
    ns.map(|ns| total.unwrap_or(0.0) + ns as f64 / 1e9)
}
