//! `LogManager`: one per shard; owns the buffer pool, the batch cache and the open logs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use crate::batch_cache::BatchCache;
use crate::buffer_pool::BufferPool;
use crate::deleted_dirs;
use crate::log::open::OpenContext;
use crate::storage::{GlommioStorage, Storage};
use crate::{LogConfig, LogError, PartitionLog, ShardEngineConfig, WriteTuning};

/// Wall-clock milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// The engine of one shard. Create it on the shard's executor; it and everything it returns are
/// `!Send` and used only there. Partitions of other shards are never opened here.
pub struct LogManager {
    config: ShardEngineConfig,
    storage: Rc<dyn Storage>,
    pool: Rc<BufferPool>,
    cache: Rc<BatchCache>,
    logs: RefCell<HashMap<(String, i32), Rc<PartitionLog>>>,
}

impl LogManager {
    /// A manager on the real filesystem (O_DIRECT segment files through glommio).
    pub fn new(config: ShardEngineConfig) -> Rc<LogManager> {
        Self::with_storage(config, Rc::new(GlommioStorage))
    }

    /// A manager on the real filesystem whose appenders write as `tuning` says (the broker
    /// derives it from `sluice iotune`'s measurements of the data disk).
    pub fn with_write_tuning(config: ShardEngineConfig, tuning: WriteTuning) -> Rc<LogManager> {
        Self::build(config, Rc::new(GlommioStorage), tuning)
    }

    /// A manager over a chosen storage (fault injection, simulation).
    pub fn with_storage(config: ShardEngineConfig, storage: Rc<dyn Storage>) -> Rc<LogManager> {
        Self::build(config, storage, WriteTuning::default())
    }

    fn build(
        config: ShardEngineConfig,
        storage: Rc<dyn Storage>,
        tuning: WriteTuning,
    ) -> Rc<LogManager> {
        Rc::new(LogManager {
            pool: Rc::new(BufferPool::new(config.write_buffer_pool_bytes_max, tuning)),
            cache: BatchCache::new(config.batch_cache_bytes_max),
            config,
            storage,
            logs: RefCell::new(HashMap::new()),
        })
    }

    fn dir_of(&self, topic: &str, partition: i32) -> PathBuf {
        self.config.data_dir.join(format!("{topic}-{partition}"))
    }

    /// Opens (creating if missing) and recovers a partition log; returns the open one if it is
    /// already open (its config is then replaced by `config`).
    pub async fn open_log(
        &self,
        topic: &str,
        partition: i32,
        config: LogConfig,
    ) -> Result<Rc<PartitionLog>, LogError> {
        if let Some(log) = self.get(topic, partition) {
            log.set_config(config);
            return Ok(log);
        }
        if topic.is_empty() || topic.contains('/') || topic == "." || topic == ".." || partition < 0
        {
            return Err(LogError::InvalidArgument {
                detail: format!("bad topic-partition {topic:?}-{partition}"),
            });
        }
        let ctx = OpenContext {
            storage: self.storage.clone(),
            pool: self.pool.clone(),
            cache: self.cache.clone(),
            now_ms: now_ms(),
        };
        let dir = self.dir_of(topic, partition);
        let log = crate::log::open_log(&ctx, dir, topic, partition, config).await?;
        // Another task may have opened it while we recovered: keep the first.
        let mut logs = self.logs.borrow_mut();
        let entry = logs.entry((topic.to_string(), partition)).or_insert(log);
        Ok(entry.clone())
    }

    /// The open log of a partition, if any.
    pub fn get(&self, topic: &str, partition: i32) -> Option<Rc<PartitionLog>> {
        self.logs
            .borrow()
            .get(&(topic.to_string(), partition))
            .cloned()
    }

    /// Every open log.
    pub fn logs(&self) -> Vec<Rc<PartitionLog>> {
        self.logs.borrow().values().cloned().collect()
    }

    /// Group commit: flushes every log with unflushed data concurrently (their writes and
    /// fdatasyncs are in flight together), one round. Returns the first error after every
    /// flush has finished.
    pub async fn flush_all(&self) -> Result<(), LogError> {
        let dirty: Vec<Rc<PartitionLog>> = self
            .logs
            .borrow()
            .values()
            .filter(|log| log.needs_flush())
            .cloned()
            .collect();
        let tasks: Vec<_> = dirty
            .into_iter()
            .map(|log| glommio::spawn_local(async move { log.flush().await }))
            .collect();
        let mut first_error = None;
        for task in tasks {
            if let Err(err) = task.await {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Applies retention to every log; returns the number of segments deleted.
    pub async fn apply_retention(&self, now_ms: i64) -> Result<usize, LogError> {
        let mut deleted = 0;
        for log in self.logs() {
            deleted += log.apply_retention(now_ms).await?;
        }
        Ok(deleted)
    }

    /// Flushes and closes (truncating files to their logical size, writing index files and
    /// recovery points) every log. Returns the first error after trying every log.
    pub async fn close_all(&self) -> Result<(), LogError> {
        let logs: Vec<Rc<PartitionLog>> =
            self.logs.borrow_mut().drain().map(|(_, log)| log).collect();
        let mut first_error = None;
        for log in logs {
            if let Err(err) = log.close().await {
                tracing::error!(log = %log.name(), %err, "closing log failed");
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Deletes a partition's log and its directory (the log must be open, or its directory is
    /// removed as is). See `delete_logs`.
    pub async fn delete_log(&self, topic: &str, partition: i32) -> Result<(), LogError> {
        self.delete_logs(&[(topic.to_string(), partition)]).await
    }

    /// Deletes partitions' logs: each is closed and its directory renamed to
    /// `<dir>.<unique>-delete`, and one sync of the data directory makes every rename durable
    /// before this returns (the commit point: after a crash the partitions stay deleted). The
    /// files are then removed in the background (`remove_deleted_dirs` finishes the job after
    /// a crash). Returns the first error after trying every partition.
    pub async fn delete_logs(&self, partitions: &[(String, i32)]) -> Result<(), LogError> {
        let mut first_error = None;
        let mut renamed = Vec::new();
        for (topic, partition) in partitions {
            let log = self.logs.borrow_mut().remove(&(topic.clone(), *partition));
            if let Some(log) = log {
                // Waits for a running append or flush; an already closed log is fine too.
                let _guard = log.lock().await.ok();
                log.closed.set(true);
                log.cache.remove_from(i64::MIN);
            }
            let dir = self.dir_of(topic, *partition);
            let doomed = deleted_dirs::deleted_name(&dir);
            match self.storage.rename(&dir, &doomed).await {
                Ok(()) => renamed.push(doomed),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    first_error.get_or_insert(LogError::io(
                        format!("renaming {} for deletion", dir.display()),
                        err,
                    ));
                }
            }
        }
        if !renamed.is_empty() {
            self.storage
                .sync_dir(&self.config.data_dir)
                .await
                .map_err(|err| LogError::io("syncing data dir", err))?;
        }
        for dir in renamed {
            deleted_dirs::remove_in_background(self.storage.clone(), dir);
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Removes (in the background) the directories of deletions that a crash or shutdown
    /// interrupted. Call once at start, from one shard when shards share the data directory.
    /// Returns how many it found.
    pub async fn remove_deleted_dirs(&self) -> Result<usize, LogError> {
        let found = deleted_dirs::list(&*self.storage, &self.config.data_dir)
            .await
            .map_err(|err| LogError::io("listing the data dir", err))?;
        let count = found.len();
        for dir in found {
            deleted_dirs::remove_in_background(self.storage.clone(), dir);
        }
        Ok(count)
    }

    /// Bytes held by the batch cache of this shard.
    pub fn cache_bytes(&self) -> usize {
        self.cache.bytes_used()
    }

    /// Bytes of write-behind buffers reserved on this shard.
    pub fn write_buffer_bytes(&self) -> usize {
        self.pool.bytes_in_use()
    }
}
