//! `LogManager`: one per shard; owns the buffer pool, the batch cache and the open logs.

use std::rc::Rc;

use crate::storage::Storage;
use crate::{LogConfig, LogError, PartitionLog, ShardEngineConfig};

/// The engine of one shard. Create it on the shard's executor; it and everything it returns are
/// `!Send` and used only there.
pub struct LogManager {
    _config: ShardEngineConfig,
}

impl LogManager {
    /// A manager on the real filesystem.
    pub fn new(config: ShardEngineConfig) -> Rc<LogManager> {
        Rc::new(LogManager { _config: config })
    }

    /// A manager over a chosen storage (fault injection, simulation).
    pub fn with_storage(config: ShardEngineConfig, storage: Rc<dyn Storage>) -> Rc<LogManager> {
        let _ = storage;
        Rc::new(LogManager { _config: config })
    }

    /// Opens (creating if missing) and recovers a partition log.
    pub async fn open_log(
        &self,
        topic: &str,
        partition: i32,
        config: LogConfig,
    ) -> Result<Rc<PartitionLog>, LogError> {
        let _ = (topic, partition, config);
        todo!()
    }

    /// The open log of a partition, if any.
    pub fn get(&self, topic: &str, partition: i32) -> Option<Rc<PartitionLog>> {
        let _ = (topic, partition);
        todo!()
    }

    /// Group commit: flushes every log with unflushed data, fdatasyncs concurrently, one round.
    pub async fn flush_all(&self) -> Result<(), LogError> {
        todo!()
    }

    /// Applies retention to every log; returns the number of segments deleted.
    pub async fn apply_retention(&self, now_ms: i64) -> Result<usize, LogError> {
        let _ = now_ms;
        todo!()
    }

    /// Flushes and closes (truncating files to their logical size) every log.
    pub async fn close_all(&self) -> Result<(), LogError> {
        todo!()
    }

    /// Deletes a partition's log and its directory.
    pub async fn delete_log(&self, topic: &str, partition: i32) -> Result<(), LogError> {
        let _ = (topic, partition);
        todo!()
    }
}
