//! Per-shard batch cache.
