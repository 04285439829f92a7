//! The workload groups `seq`, `spsc`, `mpsc`, `spmc`, `mpmc`, `oversubscribed` and `uneven`:
//! every backend of the registry through the harness's run function. See the `benches` crate
//! docs.

use benches::{Profile, TOPOLOGIES, bench_topology, bench_uneven};
use criterion::{Criterion, criterion_group, criterion_main};

fn workloads(c: &mut Criterion) {
    let profile = Profile::from_env();
    for named in TOPOLOGIES {
        bench_topology(c, named, &profile);
    }
    bench_uneven(c, &profile);
}

criterion_group! {
    name = groups;
    config = Profile::from_env().criterion();
    targets = workloads
}
criterion_main!(groups);
