//! Criterion benchmarks over the harness workloads; the bench targets live in `benches/`.
