//! Configuration of a shard's engine and of each partition log. Kafka names are given where one
//! exists; every limit has its unit last.

use std::path::PathBuf;

use crate::limits;

/// Per-shard engine configuration. One `LogManager` per shard owns these resources.
#[derive(Debug, Clone)]
pub struct ShardEngineConfig {
    /// Root data directory; each partition lives in `<data_dir>/<topic>-<partition>/`.
    pub data_dir: PathBuf,
    /// Budget of the per-shard batch cache (recently appended batches kept as `Bytes`).
    pub batch_cache_bytes_max: usize,
    /// Budget of the per-shard pool of aligned write-behind buffers. Appends wait for a buffer
    /// when the budget is used up; a flush releases the buffers of the partitions it flushes.
    pub write_buffer_pool_bytes_max: usize,
}

impl ShardEngineConfig {
    /// A configuration with default budgets under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ShardEngineConfig {
            data_dir: data_dir.into(),
            batch_cache_bytes_max: limits::BATCH_CACHE_BYTES_DEFAULT,
            write_buffer_pool_bytes_max: limits::WRITE_BUFFER_POOL_BYTES_DEFAULT,
        }
    }
}

/// How a shard's segment appenders write, measured for the disk by `sluice iotune` where
/// available. Every value is clamped to the engine's limits, so a hand-edited or corrupt
/// measurement can only pick among sizes the engine already supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteTuning {
    /// Largest O_DIRECT write of a segment appender: a full write-behind chunk.
    pub chunk_bytes_max: usize,
    /// Full chunks one segment may have in flight before `append` waits for the oldest.
    pub chunks_in_flight_max: usize,
}

impl Default for WriteTuning {
    fn default() -> Self {
        WriteTuning {
            chunk_bytes_max: limits::CHUNK_BYTES_MAX,
            chunks_in_flight_max: limits::CHUNKS_IN_FLIGHT_MAX,
        }
    }
}

impl WriteTuning {
    /// A tuning from measured values, rounded down to whole blocks and clamped to the limits.
    pub fn clamped(chunk_bytes: u64, chunks_in_flight: u64) -> Self {
        let block = limits::BLOCK_BYTES;
        let chunk = (chunk_bytes / block * block).clamp(
            limits::CHUNK_BYTES_MIN as u64,
            limits::CHUNK_BYTES_TUNED_MAX as u64,
        );
        let in_flight = chunks_in_flight.clamp(1, limits::CHUNKS_IN_FLIGHT_TUNED_MAX as u64);
        let tuning = WriteTuning {
            chunk_bytes_max: chunk as usize,
            chunks_in_flight_max: in_flight as usize,
        };
        assert!((tuning.chunk_bytes_max as u64).is_multiple_of(block));
        assert!(tuning.chunk_bytes_max >= limits::CHUNK_BYTES_MIN);
        tuning
    }
}

/// `message.timestamp.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    /// Keep the producer's timestamps (Kafka default).
    CreateTime,
    /// Overwrite batch timestamps with the broker's append time.
    LogAppendTime,
}

/// Per-topic log configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes`: roll the active segment when it would grow past this size. Default 1 GiB.
    pub segment_bytes: u64,
    /// `segment.ms`: roll the active segment when its first batch is older than this. Default 7 days.
    pub segment_ms: i64,
    /// `index.interval.bytes`: bytes of log between two sparse offset-index entries. Default 4096.
    pub index_interval_bytes: u32,
    /// `retention.ms`: delete sealed segments whose newest timestamp is older; -1 = unlimited.
    pub retention_ms: i64,
    /// `retention.bytes`: delete oldest sealed segments while the log is larger; -1 = unlimited.
    pub retention_bytes: i64,
    /// `max.message.bytes`: largest accepted record batch. Default 1 MiB + 12.
    pub max_message_bytes: u32,
    /// `message.timestamp.type`.
    pub timestamp_type: TimestampType,
    /// `cleanup.policy` (`delete`, `compact` or both) and the settings of compaction.
    pub cleanup_policy: CleanupPolicy,
}

/// `cleanup.policy`: which of retention (`delete`) and compaction (`compact`) apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// `delete`: retention by `retention.ms` / `retention.bytes`.
    pub delete: bool,
    /// `compact`: the latest record per key is kept; `None` when the topic is not compacted.
    pub compact: Option<CompactionConfig>,
}

impl Default for CleanupPolicy {
    fn default() -> Self {
        CleanupPolicy {
            delete: true,
            compact: None,
        }
    }
}

/// Per-topic settings of log compaction (Kafka's names and defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct CompactionConfig {
    /// `min.cleanable.dirty.ratio`: a log is cleaned once dirty bytes / cleanable bytes reach
    /// it. In [0, 1]. Default 0.5.
    pub min_cleanable_dirty_ratio: f64,
    /// `min.compaction.lag.ms`: a record stays uncompacted at least this long. Default 0.
    pub min_compaction_lag_ms: i64,
    /// `max.compaction.lag.ms`: a record becomes eligible for compaction at the latest after
    /// this long, whatever the dirty ratio. Default `i64::MAX` (never forced).
    pub max_compaction_lag_ms: i64,
    /// `delete.retention.ms`: how long a tombstone stays after the cleaner first passes it.
    /// Default 1 day.
    pub delete_retention_ms: i64,
}

/// The ratio is validated finite (in [0, 1]) where the config is parsed, so `==` is an
/// equivalence.
impl Eq for CompactionConfig {}

impl Default for CompactionConfig {
    fn default() -> Self {
        CompactionConfig {
            min_cleanable_dirty_ratio: 0.5,
            min_compaction_lag_ms: 0,
            max_compaction_lag_ms: i64::MAX,
            delete_retention_ms: 24 * 3600 * 1000,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3600 * 1000,
            index_interval_bytes: 4096,
            retention_ms: 7 * 24 * 3600 * 1000,
            retention_bytes: -1,
            max_message_bytes: (1 << 20) + 12,
            timestamp_type: TimestampType::CreateTime,
            cleanup_policy: CleanupPolicy::default(),
        }
    }
}

impl LogConfig {
    /// Segment size actually used: clamped to what 32-bit index positions can address.
    pub(crate) fn segment_bytes_effective(&self) -> u64 {
        self.segment_bytes
            .clamp(limits::SEGMENT_BYTES_MIN, limits::SEGMENT_BYTES_MAX)
    }

    /// Age at which the active segment rolls: `segment.ms`, or `max.compaction.lag.ms` when
    /// that is shorter on a compacted log (Kafka's `maxSegmentMs`): the cleaner never touches
    /// the active segment, so a record there could otherwise wait past the maximum lag.
    pub(crate) fn segment_ms_effective(&self) -> i64 {
        match &self.cleanup_policy.compact {
            Some(compact) if compact.max_compaction_lag_ms > 0 => {
                self.segment_ms.min(compact.max_compaction_lag_ms)
            }
            _ => self.segment_ms,
        }
    }

    /// Whether retention by time and size applies (`delete` is in `cleanup.policy`).
    pub(crate) fn retention_applies(&self) -> bool {
        self.cleanup_policy.delete
    }
}
