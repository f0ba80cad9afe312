//! `PartitionLog`: one topic-partition's log on one shard.

use std::rc::Rc;

use bytes::Bytes;

use crate::{AppendError, AppendInfo, LogConfig, LogError, ReadError, ReadResult};

/// One topic-partition's log. Lives on the shard that opened it (`!Send`); every method takes
/// `&self` so several tasks of that shard may use it at once; appends are serialised inside.
pub struct PartitionLog {
    _private: (),
}

impl PartitionLog {
    /// Validates every batch (magic 2, lengths, CRC-32C, record counts), assigns offsets by
    /// rewriting baseOffset (and the timestamps when the topic uses LogAppendTime), appends.
    ///
    /// Returns when the batches are in the log: readable by `read`, copied into write-behind
    /// buffers or already written, but NOT durable — a crash may lose them until `flush` returns.
    /// Either every batch of the call is appended or none is.
    pub async fn append(&self, batches: &[Bytes], now_ms: i64) -> Result<AppendInfo, AppendError> {
        let _ = (batches, now_ms);
        todo!("engine append: in progress")
    }

    /// Follower path: appends batches whose offsets a leader already assigned. The first must
    /// start at `log_end_offset()` and each must follow the previous. Leader epochs are kept and
    /// recorded in the leader-epoch checkpoint.
    pub async fn append_replicated(&self, batches: &[Bytes]) -> Result<AppendInfo, AppendError> {
        let _ = batches;
        todo!("engine append_replicated: in progress")
    }

    /// Makes everything appended before this call durable (written, then fdatasync). Concurrent
    /// callers coalesce into one round (group commit). Returns the durable end offset.
    pub async fn flush(&self) -> Result<i64, LogError> {
        todo!("engine flush: in progress")
    }

    /// First offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        todo!()
    }

    /// Next offset to be assigned.
    pub fn log_end_offset(&self) -> i64 {
        todo!()
    }

    /// Every offset below this is durable (the recovery point).
    pub fn flushed_offset(&self) -> i64 {
        todo!()
    }

    /// Reads whole batches starting at the batch containing `offset`, up to `max_bytes` but
    /// always at least one batch, never returning batches at or above `offset_limit`.
    pub async fn read(
        &self,
        offset: i64,
        max_bytes: u32,
        offset_limit: i64,
    ) -> Result<ReadResult, ReadError> {
        let _ = (offset, max_bytes, offset_limit);
        todo!()
    }

    /// First offset whose batch max timestamp is >= `ts`, with that timestamp; `None` past the end.
    pub async fn offset_for_timestamp(&self, ts: i64) -> Result<Option<(i64, i64)>, LogError> {
        let _ = ts;
        todo!()
    }

    /// Largest timestamp in the log and the offset of its batch (ListOffsets -3).
    pub fn max_timestamp_and_offset(&self) -> Option<(i64, i64)> {
        todo!()
    }

    /// Removes every batch whose last offset is >= `offset`.
    pub async fn truncate_to(&self, offset: i64) -> Result<(), LogError> {
        let _ = offset;
        todo!()
    }

    /// Advances the log start offset to `offset` (DeleteRecords); whole segments below it go.
    pub async fn delete_records_before(&self, offset: i64) -> Result<(), LogError> {
        let _ = offset;
        todo!()
    }

    /// Replaces the topic configuration (takes effect on the next append / retention pass).
    pub fn set_config(&self, config: LogConfig) {
        let _ = config;
        todo!()
    }

    /// The current topic configuration.
    pub fn config(&self) -> LogConfig {
        todo!()
    }
}

#[allow(dead_code)]
fn _assert_rc(_: Rc<PartitionLog>) {}
