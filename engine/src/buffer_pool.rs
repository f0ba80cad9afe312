//! Per-shard write buffer pool.
