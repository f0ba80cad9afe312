//! The shards known to the scrape side: each registers, once at start, its metrics and the
//! sender of its state-query channel. The lock here is taken only at registration and by the
//! scrape thread, never on the data path.

use std::sync::{Arc, Mutex};

use super::shard_metrics::ShardMetrics;
use super::state::StateQuery;

/// One registered shard.
#[derive(Clone)]
pub struct ShardEntry {
    pub metrics: Arc<ShardMetrics>,
    pub queries: flume::Sender<StateQuery>,
}

static SHARDS: Mutex<Vec<ShardEntry>> = Mutex::new(Vec::new());

pub fn register(entry: ShardEntry) {
    let mut shards = SHARDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    assert!(
        shards
            .iter()
            .all(|e| e.metrics.shard != entry.metrics.shard),
        "shard {} registered twice",
        entry.metrics.shard
    );
    shards.push(entry);
    shards.sort_by_key(|e| e.metrics.shard);
}

/// The registered shards, in shard order.
pub fn shards() -> Vec<ShardEntry> {
    SHARDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}
