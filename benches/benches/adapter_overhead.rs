//! The adapter-overhead groups `adapter-seq` and `adapter-spsc`: each raw backend of the
//! registry next to the exact-close twin that declares it (`Backend::ADDS_CLOSE_TO`), in one
//! loop. See the `benches` crate docs.

use benches::{OVERHEAD_TOPOLOGIES, Profile, bench_overhead};
use criterion::{Criterion, criterion_group, criterion_main};

fn adapter_overhead(c: &mut Criterion) {
    let profile = Profile::from_env();
    for named in OVERHEAD_TOPOLOGIES {
        bench_overhead(c, named, &profile);
    }
}

criterion_group! {
    name = groups;
    config = Profile::from_env().criterion();
    targets = adapter_overhead
}
criterion_main!(groups);
