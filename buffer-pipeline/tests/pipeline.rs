//! The pipeline over real backends: every one the harness registers, and the error paths on
//! one.

use std::sync::atomic::{AtomicU64, Ordering};

use buffer_api::Backend;
use buffer_pipeline::{Pipeline, PipelineError};
use harness::registry::{BackendVisitor, for_each_backend};

#[test]
fn outputs_come_back_in_input_order_on_every_backend() {
    struct Check;
    impl BackendVisitor for Check {
        fn visit<B: Backend>(&mut self) {
            let produced = AtomicU64::new(0);
            let consumed = AtomicU64::new(0);
            let out = Pipeline::new()
                .producers(3)
                .workers(2)
                .capacity(4)
                .on_produce(|_, _: &u64| {
                    produced.fetch_add(1, Ordering::Relaxed);
                })
                .on_consume(|_, _: &String| {
                    consumed.fetch_add(1, Ordering::Relaxed);
                })
                .run::<B, _, _>(0..1000u64, |n| format!("#{n}"))
                .unwrap();
            let expected: Vec<String> = (0..1000).map(|n| format!("#{n}")).collect();
            assert_eq!(out.outputs, expected, "{}", B::NAME);
            assert_eq!(out.stats.items, 1000, "{}", B::NAME);
            assert_eq!(produced.load(Ordering::Relaxed), 1000, "{}", B::NAME);
            assert_eq!(consumed.load(Ordering::Relaxed), 1000, "{}", B::NAME);
            assert_eq!(out.stats.per_producer.len(), 3, "{}", B::NAME);
            assert_eq!(
                out.stats.per_producer.iter().sum::<u64>(),
                1000,
                "{}",
                B::NAME
            );
            assert_eq!(out.stats.per_worker.len(), 2, "{}", B::NAME);
            assert_eq!(
                out.stats.per_worker.iter().sum::<u64>(),
                1000,
                "{}",
                B::NAME
            );
        }
    }
    for_each_backend(&mut Check);
}

#[test]
fn a_panicking_closure_is_reported_by_thread() {
    let result = Pipeline::new()
        .workers(1)
        .capacity(2)
        .run::<buffer_crossbeam::Crossbeam, _, _>(0..100u32, |n| {
            assert!(n != 50, "fifty");
            n
        });
    match result {
        Err(PipelineError::Panicked { thread, message }) => {
            assert_eq!(thread, "worker-1");
            assert_eq!(message, "fifty");
        }
        other => panic!("expected a panic report, got {other:?}"),
    }
}

#[test]
fn zero_threads_are_refused() {
    let no_workers = Pipeline::new()
        .workers(0)
        .run::<buffer_flume::Flume, _, _>(0..1u8, |n| n);
    assert!(matches!(
        no_workers,
        Err(PipelineError::NoThreads("workers"))
    ));
    let no_producers = Pipeline::new()
        .producers(0)
        .run::<buffer_flume::Flume, _, _>(0..1u8, |n| n);
    assert!(matches!(
        no_producers,
        Err(PipelineError::NoThreads("producers"))
    ));
}

#[test]
fn empty_inputs_give_empty_outputs() {
    let empty = Pipeline::new()
        .run::<buffer_flume::Flume, _, _>(std::iter::empty::<u8>(), |n| n)
        .unwrap();
    assert_eq!(empty.outputs, Vec::<u8>::new());
    assert_eq!(empty.stats.items, 0);
    assert_eq!(empty.stats.per_producer, vec![0]);
}
