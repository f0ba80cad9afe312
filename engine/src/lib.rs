//! # sluice-engine
//!
//! The storage engine of Sluice: Kafka partition logs on O_DIRECT segment files, one
//! [`LogManager`] per glommio shard. It owns the on-disk format (RecordBatch v2 bytes verbatim in
//! `<data>/<topic>-<partition>/<base_offset:020>.log`, sparse offset and time indexes, checkpoints),
//! the write path (validation, offset assignment, aligned write-behind buffers, group-commit
//! fdatasync), the read path (batch cache or file ranges for sendfile), crash recovery and
//! retention.
//!
//! It must never: do networking, touch another shard's partitions (every type here is `!Send`
//! and lives on the shard that created it), decompress records outside the cleaner
//! (`compaction`), or hold a batch that fails its CRC.
//!
//! The durability contract (what `append` and `flush` promise, what survives kill -9 and power
//! loss) is in `engine/README.md`; the short version is on [`PartitionLog::append`] and
//! [`PartitionLog::flush`].

/// The RecordBatch v2 header view lives in its own crate so clients can use it without glommio.
pub use sluice_batch as batch;
mod batch_cache;
mod buffer_pool;
pub mod compaction;
mod config;
pub mod deleted_dirs;
mod error;
pub mod limits;
mod log;
mod manager;
mod read_result;
mod segment;
pub mod storage;

pub use config::{
    CleanupPolicy, CompactionConfig, LogConfig, ShardEngineConfig, TimestampType, WriteTuning,
};
pub use error::{AppendError, LogError, ReadError};
pub use log::{
    AbortedTxn, LeaderEpochCache, PartitionLog, CONTROL_BATCH_BYTES_MAX, PRODUCER_SNAPSHOTS_KEPT,
    PRODUCER_SNAPSHOT_BYTES_MAX, PRODUCER_SNAPSHOT_SUFFIX, TXN_INDEX_ENTRIES_PER_SEGMENT_MAX,
    TXN_INDEX_SUFFIX,
};
pub use manager::LogManager;
pub use read_result::{AppendInfo, FileRange, ReadChunk, ReadResult};
