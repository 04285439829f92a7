//! A sampled histogram of the buffer's length.

use serde::Serialize;

/// A sampled histogram of the buffer's length.
///
/// Workers sample `len()` every 1024 items. Up to capacity 16 every length has its own bucket;
/// above, the buckets are: empty, eight equal ranges in between, and full.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DepthHistogram {
    /// The buffer's capacity.
    pub capacity: usize,
    /// Samples taken.
    pub samples: u64,
    /// The buckets, in order of length.
    pub buckets: Vec<DepthBucket>,
}

/// One bucket of a [`DepthHistogram`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct DepthBucket {
    /// Smallest length in the bucket.
    pub from: usize,
    /// Largest length in the bucket.
    pub to: usize,
    /// Samples that fell in it.
    pub count: u64,
}

/// How often a worker samples the buffer length, in items.
pub(crate) const DEPTH_SAMPLE_EVERY: u64 = 1024;

impl DepthHistogram {
    /// An empty histogram with the bucket layout for `capacity`.
    pub(crate) fn new(capacity: usize) -> Self {
        let buckets = if capacity <= 16 {
            (0..=capacity)
                .map(|len| DepthBucket {
                    from: len,
                    to: len,
                    count: 0,
                })
                .collect()
        } else {
            let inner = capacity - 1;
            let mut buckets = vec![DepthBucket::default()];
            let mut from = 1;
            for i in 1..=8 {
                let to = inner * i / 8;
                buckets.push(DepthBucket { from, to, count: 0 });
                from = to + 1;
            }
            buckets.push(DepthBucket {
                from: capacity,
                to: capacity,
                count: 0,
            });
            buckets
        };
        Self {
            capacity,
            samples: 0,
            buckets,
        }
    }

    /// Counts one sample of the buffer's length.
    pub(crate) fn record(&mut self, len: usize) {
        let len = len.min(self.capacity);
        let index = self.buckets.partition_point(|b| b.to < len);
        if let Some(bucket) = self.buckets.get_mut(index) {
            bucket.count += 1;
            self.samples += 1;
        }
    }

    /// Adds another histogram with the same capacity.
    pub(crate) fn merge(&mut self, other: &Self) {
        if other.capacity != self.capacity {
            return;
        }
        self.samples += other.samples;
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            mine.count += theirs.count;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_buckets() {
        let mut small = DepthHistogram::new(2);
        for len in [0, 1, 2, 2, 5] {
            small.record(len);
        }
        let counts: Vec<u64> = small.buckets.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![1, 1, 3]);

        let mut large = DepthHistogram::new(1024);
        assert_eq!(large.buckets.len(), 10);
        assert_eq!(large.buckets[1].from, 1);
        assert_eq!(large.buckets[8].to, 1023);
        for len in [0, 1, 500, 1023, 1024] {
            large.record(len);
        }
        let counts: Vec<u64> = large.buckets.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![1, 1, 0, 0, 1, 0, 0, 0, 1, 1]);
        let copy = large.clone();
        large.merge(&copy);
        assert_eq!(large.samples, 10);
    }
}
