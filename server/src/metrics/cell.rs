//! Single-writer metric cells: a counter, a gauge and a fixed-bucket histogram built on atomics.
//!
//! Contract: exactly one thread (the shard that owns the cell) writes; any thread may read.
//! With one writer an increment needs no read-modify-write instruction: a relaxed load and a
//! relaxed store are plain moves, so recording costs the shard no lock and no bus-locked
//! instruction. Readers (the scrape thread) see each word whole but may see a histogram
//! mid-update; the snapshot derives its count from the buckets so the exposition stays
//! self-consistent (the `+Inf` bucket always equals `_count`).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// A monotonically increasing count, written by one thread only.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning shard may call this (see the module contract).
    pub fn add(&self, n: u64) {
        let value = self.0.load(Ordering::Relaxed);
        self.0.store(value.wrapping_add(n), Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A level that goes up and down (things in progress), written by one thread only.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// Adds `n` (negative to lower it). Only the owning shard may call this.
    pub fn add(&self, n: i64) {
        let value = self.0.load(Ordering::Relaxed);
        self.0.store(value.wrapping_add(n), Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Upper bounds of the latency buckets, in microseconds (50 µs .. 10 s); `+Inf` is implicit.
/// Dense from 1 to 100 ms, where fdatasync, acks=all and replication latencies fall, so that
/// a quantile read from the buckets is within about half of its value there.
pub const LATENCY_BOUNDS_US: [u64; 22] = [
    50, 100, 250, 500, 1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 50_000,
    75_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
];
/// Buckets per histogram: one per bound plus `+Inf`.
pub const BUCKETS: usize = LATENCY_BOUNDS_US.len() + 1;

const _: () = {
    let mut i = 1;
    while i < LATENCY_BOUNDS_US.len() {
        assert!(LATENCY_BOUNDS_US[i - 1] < LATENCY_BOUNDS_US[i]);
        i += 1;
    }
};

/// A latency histogram with fixed buckets ([`LATENCY_BOUNDS_US`]), written by one thread.
/// Buckets hold per-bucket (not cumulative) counts: one store per observation.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    sum_us: AtomicU64,
}

/// A histogram as read at one scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// Per-bucket counts, aligned with [`LATENCY_BOUNDS_US`] then `+Inf`.
    pub buckets: [u64; BUCKETS],
    pub sum_us: u64,
}

impl Histogram {
    /// Records one observation. Only the owning shard may call this.
    pub fn observe(&self, elapsed: Duration) {
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let index = bucket_index(us);
        assert!(index < BUCKETS);
        let bucket = &self.buckets[index];
        bucket.store(bucket.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        let sum = self.sum_us.load(Ordering::Relaxed);
        self.sum_us.store(sum.saturating_add(us), Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut buckets = [0u64; BUCKETS];
        for (out, bucket) in buckets.iter_mut().zip(&self.buckets) {
            *out = bucket.load(Ordering::Relaxed);
        }
        HistogramSnapshot {
            buckets,
            sum_us: self.sum_us.load(Ordering::Relaxed),
        }
    }
}

/// The first bucket whose bound is >= `us` (Prometheus buckets are `le`), or `+Inf`.
fn bucket_index(us: u64) -> usize {
    LATENCY_BOUNDS_US.partition_point(|&bound| bound < us)
}

impl HistogramSnapshot {
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_whose_bound_is_not_below_them() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(50)); // le 50 µs
        histogram.observe(Duration::from_micros(51)); // le 100 µs
        histogram.observe(Duration::from_millis(4)); // le 5 ms
        histogram.observe(Duration::from_secs(60)); // +Inf
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.buckets[0], 1);
        assert_eq!(snapshot.buckets[1], 1);
        assert_eq!(snapshot.buckets[7], 1);
        assert_eq!(snapshot.buckets[BUCKETS - 1], 1);
        assert_eq!(snapshot.count(), 4);
        assert_eq!(snapshot.sum_us, 50 + 51 + 4_000 + 60_000_000);
    }

    #[test]
    fn counters_add_up() {
        let counter = Counter::default();
        counter.add(3);
        counter.add(4);
        assert_eq!(counter.get(), 7);
    }

    #[test]
    fn gauges_go_up_and_down() {
        let gauge = Gauge::default();
        gauge.add(2);
        gauge.add(-1);
        assert_eq!(gauge.get(), 1);
    }
}
