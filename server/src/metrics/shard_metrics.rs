//! `ShardMetrics`: the data-path metrics of one shard, written only by that shard's thread
//! (single-writer cells), read by the scrape thread through the `Arc` the registry keeps.
//!
//! The shard reaches its own instance through a thread-local set by `install` at shard
//! start. Threads that never installed one (unit tests, glommio's blocking pool) get a private
//! instance nobody scrapes, so recording is always safe and never shared between writers.

use std::cell::OnceCell;
use std::sync::Arc;

use super::cell::{Counter, Gauge, Histogram};

/// API keys below this are counted per key (DescribeCluster, the highest we serve, is 60).
pub const API_KEY_SLOTS: usize = 128;

/// One API key's request metrics.
#[derive(Debug, Default)]
pub struct ApiMetrics {
    /// Requests dispatched (decoded header, supported version).
    pub requests: Counter,
    /// Requests whose handling closed the connection (malformed, acks=0 failure, ...).
    pub failures: Counter,
    /// Requests, or parts of them (a topic, a group), the authorizer refused.
    pub denials: Counter,
    /// From dispatch to response ready (deferred work such as acks=all flushes and fetch
    /// long polls included; the socket write is not).
    pub latency: Histogram,
}

/// The parts of produce and fetch latency, each measured where it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Produce: from the connection's shard sending the append to the owner starting it.
    ProduceQueue,
    /// Produce: the owner's `PartitionLog::append` of one partition (O_DIRECT buffers, DMA).
    ProduceAppend,
    /// Produce acks=all: an owner's wait for its shard's flush round (the rest of the running
    /// round, then its own), per request.
    ProduceFlush,
    /// One flush round of the shard: every partition with appended data written and
    /// fdatasynced (`partition/flush_rounds.rs`). Its count is the number of rounds.
    StorageFlushRound,
    /// Fetch: from the connection's shard sending the read to the owner starting it.
    FetchQueue,
    /// Fetch: the owner's `PartitionLog::read` of one partition (index lookup, cache or disk).
    FetchRead,
    /// Fetch: the long-poll wait for `min_bytes` on the connection's shard.
    FetchWait,
    /// acks=all, per partition: from the owner starting the acks=all wait (right after the
    /// append answered, before the local fdatasync) until the high watermark passed the batch.
    /// The "replication latency" (leader append -> HW passes).
    ReplicationSinceAppend,
    /// acks=all, per partition: from the local fdatasync done until the high watermark passed
    /// the batch: what waiting for the followers adds beyond local durability. "Done" is when
    /// the last of the request's partitions finished its flush (they flush together).
    ReplicationSinceFlush,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::ProduceQueue,
        Stage::ProduceAppend,
        Stage::ProduceFlush,
        Stage::StorageFlushRound,
        Stage::FetchQueue,
        Stage::FetchRead,
        Stage::FetchWait,
        Stage::ReplicationSinceAppend,
        Stage::ReplicationSinceFlush,
    ];

    /// (metric name without `sluice_` and unit, label `stage`).
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Stage::ProduceQueue => ("produce_stage", "queue"),
            Stage::ProduceAppend => ("produce_stage", "append"),
            Stage::ProduceFlush => ("produce_stage", "flush"),
            Stage::StorageFlushRound => ("storage_stage", "flush_round"),
            Stage::FetchQueue => ("fetch_stage", "queue"),
            Stage::FetchRead => ("fetch_stage", "read"),
            Stage::FetchWait => ("fetch_stage", "wait"),
            Stage::ReplicationSinceAppend => ("replication", "since_append"),
            Stage::ReplicationSinceFlush => ("replication", "since_flush"),
        }
    }
}

#[derive(Debug)]
pub struct ShardMetrics {
    pub shard: usize,
    /// Indexed by API key.
    pub apis: Vec<ApiMetrics>,
    /// Request frames read, size prefix included.
    pub received_bytes: Counter,
    /// Response bytes handed to the socket writer, size prefix included.
    pub sent_bytes: Counter,
    /// Record-batch bytes appended to this shard's partitions.
    pub appended_bytes: Counter,
    /// Record-batch bytes read from this shard's partitions for fetches.
    pub read_bytes: Counter,
    /// Indexed like [`Stage::ALL`].
    pub stages: [Histogram; Stage::ALL.len()],
    /// Fetches of this shard's connections now in their long-poll wait (tests wait for it
    /// before appending; operators see idle consumers).
    pub fetch_long_polls_waiting: Gauge,
    /// The shard's log cleaner.
    pub cleaner: super::cleaner::CleanerMetrics,
    /// The shard's replication streams (follower side).
    pub replication: super::replication_stream::ReplicationStreamMetrics,
    /// Authentications of the shard's connections.
    pub security: super::security::SecurityMetrics,
}

impl ShardMetrics {
    pub fn new(shard: usize) -> ShardMetrics {
        ShardMetrics {
            shard,
            apis: (0..API_KEY_SLOTS).map(|_| ApiMetrics::default()).collect(),
            received_bytes: Counter::default(),
            sent_bytes: Counter::default(),
            appended_bytes: Counter::default(),
            read_bytes: Counter::default(),
            stages: Default::default(),
            fetch_long_polls_waiting: Gauge::default(),
            cleaner: Default::default(),
            replication: Default::default(),
            security: Default::default(),
        }
    }

    /// The metrics of `api_key`, if it has a slot.
    pub fn api(&self, api_key: i16) -> Option<&ApiMetrics> {
        usize::try_from(api_key)
            .ok()
            .and_then(|slot| self.apis.get(slot))
    }

    pub fn stage(&self, stage: Stage) -> &Histogram {
        let index = stage as usize;
        assert!(index < self.stages.len());
        &self.stages[index]
    }
}

thread_local! {
    static LOCAL: OnceCell<Arc<ShardMetrics>> = const { OnceCell::new() };
}

/// Makes `metrics` this thread's instance. Called once, on the shard's own thread.
pub fn install(metrics: Arc<ShardMetrics>) {
    LOCAL.with(|local| {
        let shard = metrics.shard;
        if local.set(metrics).is_err() {
            tracing::warn!(
                shard,
                "metrics: this thread already records elsewhere; not scraped"
            );
        }
    });
}

/// Runs `f` on this thread's metrics (a private instance where none was installed).
pub fn with_local<T>(f: impl FnOnce(&ShardMetrics) -> T) -> T {
    LOCAL.with(|local| f(local.get_or_init(|| Arc::new(ShardMetrics::new(usize::MAX)))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_index_their_own_histogram() {
        for (index, stage) in Stage::ALL.iter().enumerate() {
            assert_eq!(*stage as usize, index);
        }
        let metrics = ShardMetrics::new(0);
        assert!(metrics.api(0).is_some());
        assert!(metrics.api(60).is_some());
        assert!(metrics.api(-1).is_none());
        assert!(metrics.api(API_KEY_SLOTS as i16).is_none());
    }
}
