//! The run engine against every registered backend, at small sizes: every topology, payload,
//! policy and fault keeps the ledger whole.
//!
//! Sizes scale with `HARNESS_TEST_SCALE` (default 1) for soak runs.

use std::time::Duration;

use buffer_api::{Backend, Capabilities, Discipline};
use harness::engine::{RunError, run};
use harness::registry::{BackendVisitor, for_each_backend};
use harness::spec::{ConsumerDelays, Fault, Payload, Policy, Stall, Topology, Workload};
use harness::{Measurement, Violation};

fn scale() -> u64 {
    std::env::var("HARNESS_TEST_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn small() -> Workload {
    Workload::new()
        .messages(20_000 * scale())
        .repeats(1)
        .warmup(0)
        .watchdog(Duration::from_secs(20))
}

/// A [`small`] workload with `producers` producers, `consumers` consumers and room for
/// `capacity` items.
fn small_threads(producers: usize, consumers: usize, capacity: usize) -> Workload {
    small()
        .producers(producers)
        .consumers(consumers)
        .capacity(capacity)
}

/// One backend's run of a workload, as [`each_backend`] hands it to a check.
type RunOn<'a> = &'a dyn Fn(&Workload) -> Result<Measurement, RunError>;

/// Runs `check` for every backend in the registry.
fn each_backend(check: impl Fn(&str, RunOn<'_>, &Capabilities)) {
    struct Visit<F>(F);
    impl<F: Fn(&str, RunOn<'_>, &Capabilities)> BackendVisitor for Visit<F> {
        fn visit<B: Backend>(&mut self) {
            (self.0)(B::NAME, &|w| run::<B>(w), &B::CAPABILITIES);
        }
    }
    for_each_backend(&mut Visit(check));
}

fn assert_whole(name: &str, what: &str, m: &Measurement) {
    let v = &m.verification;
    assert!(v.ok, "{name} {what}: {}", v.summary());
    assert_eq!(
        v.offered,
        v.delivered
            + v.handed_back
            + v.dropped_by_policy
            + v.evicted
            + v.timed_out
            + v.in_hand_at_panic
            + v.discarded_by_buffer,
        "{name} {what}: {v:?}"
    );
    assert_eq!(v.payloads_dropped, v.offered, "{name} {what}");
    assert_eq!(v.planned, v.offered + v.not_offered, "{name} {what}");
    // Warm-ups by the full ledger, measured repetitions by fingerprint, except where a consumer
    // panic needs the ledger on every run.
    let by_ledger = match m.workload.fault {
        Some(Fault::ConsumerPanic { .. }) => v.runs,
        _ => m.workload.warmup as u64,
    };
    assert_eq!(
        (v.ledger_runs, v.fingerprint_runs),
        (by_ledger, v.runs - by_ledger),
        "{name} {what}"
    );
}

/// Runs `w` on `name`'s backend, which must succeed with the ledger whole.
fn run_whole(name: &str, run: RunOn<'_>, w: &Workload, what: &str) -> Measurement {
    let m = run(w).unwrap_or_else(|e| panic!("{name} {what}: {e}"));
    assert_whole(name, what, &m);
    m
}

#[test]
fn every_topology_and_capacity_delivers_everything_once() {
    let topologies = ["seq", "1:1", "4:1", "1:4", "3:5"];
    let failures = std::sync::Mutex::new(Vec::new());
    each_backend(|name, run, capabilities| {
        for text in topologies {
            let topology: Topology = text.parse().unwrap();
            for capacity in [0, 1, 7, 1024] {
                if topology.accepts(capacity, capabilities).is_err() {
                    continue;
                }
                let messages = if capacity == 0 { 2_000 } else { 20_001 };
                let w = small()
                    .topology(topology)
                    .capacity(capacity)
                    .messages(messages);
                let m = run(&w).unwrap_or_else(|e| panic!("{name} {topology} cap {capacity}: {e}"));
                if !m.verification.ok {
                    failures.lock().unwrap().push(format!(
                        "{name} {topology} cap {capacity}: {}",
                        m.verification.summary()
                    ));
                    continue;
                }
                assert_whole(name, &format!("{topology} cap {capacity}"), &m);
                assert_eq!(
                    m.verification.delivered, messages,
                    "{name} {topology} cap {capacity}"
                );
                let produced: u64 = m.producers.iter().map(|p| p.produced).sum();
                let consumed: u64 = m.consumers.iter().map(|c| c.consumed).sum();
                assert_eq!((produced, consumed), (messages, messages));
            }
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn payloads_batches_and_repetitions() {
    each_backend(|name, run, _| {
        for payload in [Payload::U64, Payload::Bytes64, Payload::Boxed4K] {
            for batch in [1, 16] {
                for topology in ["seq", "2:2"] {
                    let w = small()
                        .topology(topology.parse().unwrap())
                        .capacity(64)
                        .payload(payload)
                        .batch(batch)
                        .repeats(2)
                        .warmup(1);
                    let what = format!("{payload} batch {batch} {topology}");
                    let m = run_whole(name, run, &w, &what);
                    assert_eq!(m.verification.runs, 3, "{name} {what}");
                    assert_eq!(m.repetitions.len(), 2);
                    assert!(m.throughput.median > 0.0);
                    assert!(m.latency.is_some(), "{name} {what}: no latency samples");
                }
            }
        }
    });
}

#[test]
fn policies_account_for_every_refusal() {
    each_backend(|name, run, _| {
        // A warm-up too, so the refusals meet both checks (see `assert_whole`).
        let w = small_threads(4, 1, 2)
            .consumer_delay(ConsumerDelays::uniform(Duration::from_micros(20)))
            .messages(2_000)
            .warmup(1);
        let m = run_whole(
            name,
            run,
            &w.clone().policy(Policy::DropNewest),
            "drop-newest",
        );
        assert!(
            m.verification.dropped_by_policy > 0,
            "{name}: nothing dropped"
        );
        let w = w.policy(Policy::Timeout(Duration::from_micros(1)));
        let m = run_whole(name, run, &w, "timeout");
        assert!(m.verification.timed_out > 0, "{name}: nothing timed out");
    });
}

#[test]
fn drop_oldest_runs_where_declared_and_is_refused_elsewhere() {
    struct Visit;
    impl BackendVisitor for Visit {
        fn visit<B: Backend>(&mut self) {
            let name = B::NAME;
            // Consumers slower than producers, so the buffer is full and sends evict.
            let w = small_threads(3, 1, 2)
                .consumer_delay(ConsumerDelays::uniform(Duration::from_micros(20)))
                .messages(2_000)
                .policy(Policy::DropOldest)
                // A warm-up too, so the evictions meet both checks (see `assert_whole`).
                .warmup(1);
            match run::<B>(&w) {
                Ok(m) => {
                    assert!(B::CAPABILITIES.drop_oldest, "{name} ran drop-oldest");
                    assert_whole(name, "drop-oldest", &m);
                    let v = &m.verification;
                    assert!(v.evicted > 0, "{name}: nothing evicted");
                    assert_eq!(
                        v.dropped_by_policy + v.timed_out + v.handed_back,
                        0,
                        "{name}"
                    );
                    assert_eq!(v.delivered + v.evicted, 2 * 2_000, "{name}: two runs");
                    // The per-thread counts cover the measured run only.
                    let evicted: u64 = m.producers.iter().map(|p| p.evicted).sum();
                    assert!(evicted > 0 && evicted <= v.evicted, "{name}");
                    // Among the delivered items: FIFO, and priority with one level.
                    assert_eq!(
                        v.order_checked,
                        matches!(
                            B::CAPABILITIES.discipline,
                            Discipline::Fifo | Discipline::Priority
                        ),
                        "{name}"
                    );
                }
                Err(RunError::Unsupported(e)) => {
                    assert!(!B::CAPABILITIES.drop_oldest, "{name} refused drop-oldest");
                    assert_eq!(
                        e.to_string(),
                        format!(
                            "{name} cannot evict and insert atomically, so it does not offer \
                             drop-oldest"
                        )
                    );
                }
                Err(e) => panic!("{name}: {e}"),
            }
        }
    }
    for_each_backend(&mut Visit);
}

#[test]
fn open_loop_rate_paces_the_producers() {
    each_backend(|name, run, _| {
        let w = small().producers(2).consumers(2).messages(400);
        let m = run_whole(name, run, &w.rate(Some(20_000.0)), "rate");
        // 400 messages at 20k/s take at least 20 ms.
        assert!(m.wall_s.median >= 0.019, "{name}: {}", m.wall_s.median);
    });
}

#[test]
fn every_fault_keeps_the_ledger_whole() {
    // A consumer fault lands on the first consumer to reach its point, so it fires whenever one
    // consumer gets that many items, however unfair the schedule: in every run here.
    let faults = [
        ("consumer-panic:20", "2:3"),
        ("consumer-panic", "3:1"),
        ("consumer-stall:20ms", "3:1"),
        ("producer-panic", "3:2"),
        ("producer-panic:0", "1:1"),
        ("close-storm", "3:3"),
        ("close-storm:1", "1:1"),
    ];
    each_backend(|name, run, _| {
        for (fault, shape) in faults {
            for batch in [1, 8] {
                let w = small()
                    .topology(shape.parse().unwrap())
                    .capacity(8)
                    .batch(batch)
                    .fault(Some(fault.parse().unwrap()))
                    // A warm-up too, so the fault meets both checks (see `assert_whole`).
                    .warmup(1)
                    .repeats(2);
                let what = format!("{fault} {shape} batch {batch}");
                let closes = harness::registry::backends()
                    .iter()
                    .any(|b| b.name == name && b.capabilities.closes());
                if fault.starts_with("close-storm") && !closes {
                    match run(&w) {
                        Err(RunError::Unsupported(e)) => assert_eq!(
                            e.to_string(),
                            format!("{name} offers no close(), so it cannot run close-storm")
                        ),
                        other => panic!("{name} {what}: {other:?}"),
                    }
                    continue;
                }
                let m = run_whole(name, run, &w, &what);
                let f = m.fault.as_ref().unwrap();
                assert_eq!(f.runs, 3);
                assert_eq!(f.triggered_runs, 3, "{name} {what}: fired in too few runs");
            }
        }
    });
}

#[test]
fn the_last_consumer_panicking_hands_items_back() {
    each_backend(|name, run, _| {
        let w = small_threads(2, 1, 4).fault(Some(Fault::ConsumerPanic { after: Some(100) }));
        let m = run_whole(name, run, &w, "last consumer");
        let v = &m.verification;
        assert_eq!(v.delivered, 100, "{name}");
        assert_eq!(v.in_hand_at_panic, 1, "{name}");
        assert!(v.handed_back >= 1, "{name}: {v:?}");
        assert!(v.not_offered > 0, "{name}");
    });
}

#[test]
fn the_verifier_catches_a_lost_item() {
    each_backend(|name, run, _| {
        // Capacity 1: whatever the discipline, the first item received is the first sent.
        let w = small_threads(1, 1, 1).fault(Some(Fault::LoseItem));
        // A measured repetition is checked by count and fingerprint: the count falls short.
        let v = run(&w).unwrap().verification;
        assert!(!v.ok, "{name}: the self-test passed");
        assert_eq!(
            (v.lost, v.ledger_runs, v.fingerprint_runs),
            (1, 0, 1),
            "{name}"
        );
        let accepted = w.messages;
        assert_eq!(
            v.violations,
            [Violation::Count {
                accepted,
                received: accepted - 1
            }],
            "{name}"
        );
        assert_eq!(
            v.violations[0].to_string(),
            format!(
                "count: the buffer accepted {accepted} items and the consumers received {} (a \
                 run checked by count and fingerprint, which cannot name the items)",
                accepted - 1
            )
        );
        // A warm-up is checked by the full ledger, which names the item.
        let v = run(&w.warmup(1)).unwrap().verification;
        assert_eq!(
            (v.lost, v.ledger_runs, v.fingerprint_runs),
            (2, 1, 1),
            "{name}"
        );
        assert_eq!(v.first_failure.as_deref(), Some("warm-up 1"));
        assert_eq!(
            v.violations[0].to_string(),
            "lost: producer-1 seq 0 was accepted but never received"
        );
        assert_eq!(v.violation_count, 2, "{name}");
    });
}

#[test]
fn a_stall_that_never_ends_trips_the_watchdog() {
    each_backend(|name, run, _| {
        let w = small_threads(1, 1, 4)
            .watchdog(Duration::from_millis(300))
            .fault(Some(Fault::ConsumerStall {
                stall: Stall::Forever,
            }));
        match run(&w) {
            Err(RunError::Watchdog(report)) => {
                let text = report.to_string();
                for state in [
                    "consumer-1: stalled by the consumer-stall fault",
                    "producer-1: blocked on a full buffer",
                ] {
                    assert!(text.contains(state), "{name}: {text}");
                }
            }
            other => panic!("{name}: expected the watchdog, got {other:?}"),
        }
    });
}

#[test]
fn capacity_errors_come_before_any_thread() {
    each_backend(|name, run, capabilities| {
        let zero = run(&small().capacity(0).messages(10));
        if capabilities.rendezvous {
            assert!(zero.is_ok(), "{name}");
        } else {
            assert!(matches!(zero, Err(RunError::Capacity(_))), "{name}");
        }
        let huge = run(&small().capacity(usize::MAX));
        assert!(matches!(huge, Err(RunError::Capacity(_))), "{name}");
    });
}
