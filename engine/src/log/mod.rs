//! `PartitionLog`: one topic-partition's log on one shard. The produce path starts in
//! `append.rs`, the fetch path in `read.rs`, recovery in `open.rs`.

mod append;
pub(crate) mod checkpoint;
pub(crate) mod open;
mod producer_snapshots;
mod read;
mod readahead;
mod retention;
mod truncate;
mod txn_index;

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::sync::{RwLock, RwLockWriteGuard};

pub use checkpoint::LeaderEpochCache;
pub(crate) use open::open_log;
pub use producer_snapshots::{
    CONTROL_BATCH_BYTES_MAX, PRODUCER_SNAPSHOTS_KEPT, PRODUCER_SNAPSHOT_BYTES_MAX,
    PRODUCER_SNAPSHOT_SUFFIX,
};
pub use txn_index::{AbortedTxn, TXN_INDEX_ENTRIES_PER_SEGMENT_MAX, TXN_INDEX_SUFFIX};

use crate::batch_cache::PartitionCache;
use crate::buffer_pool::BufferPool;
use crate::compaction::dirty::CleanerLogState;
use crate::error::LogError;
use crate::segment::{Segment, SegmentAppender, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};
use crate::storage::Storage;
use crate::LogConfig;

/// Suffix of files being deleted: renaming to it is the commit point of a deletion.
pub(crate) const DELETED_SUFFIX: &str = ".deleted";

/// `<base>.log.cleaned`: a cleaner output not yet committed.
pub(crate) fn cleaned_path(dir: &Path, base_offset: i64) -> PathBuf {
    let log = crate::segment::segment_path(dir, base_offset, LOG_SUFFIX);
    PathBuf::from(format!("{}{}", log.display(), open::CLEANED_SUFFIX))
}

/// `<base>.log.swap`: a committed cleaner output replacing the segments it covers.
pub(crate) fn swap_path(dir: &Path, base_offset: i64) -> PathBuf {
    let log = crate::segment::segment_path(dir, base_offset, LOG_SUFFIX);
    PathBuf::from(format!("{}{}", log.display(), open::SWAP_SUFFIX))
}

/// One topic-partition's log. Lives on the shard that opened it (`!Send`); every method takes
/// `&self` so several tasks of that shard may use it at once. Appends, flushes, truncation and
/// retention are serialised by an internal write lock; reads never take it. Whoever removes or
/// replaces sealed segments (retention, truncation, DeleteRecords, the cleaner's swap, close)
/// first takes `segments_change`, then the write lock if it needs it.
pub struct PartitionLog {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) dir: PathBuf,
    pub(crate) storage: Rc<dyn Storage>,
    pub(crate) pool: Rc<BufferPool>,
    pub(crate) cache: Rc<PartitionCache>,
    pub(crate) config: RefCell<LogConfig>,
    /// Sorted by base offset; the last one is the active segment. Never borrowed across awaits.
    pub(crate) segments: RefCell<Vec<Rc<Segment>>>,
    pub(crate) write: RwLock<WriteState>,
    /// Serialises changes to the sealed segments; appends never take it.
    pub(crate) segments_change: RwLock<()>,
    pub(crate) cleaner_state: RefCell<CleanerLogState>,
    pub(crate) log_start_offset: Cell<i64>,
    pub(crate) log_end_offset: Cell<i64>,
    pub(crate) flushed_offset: Cell<i64>,
    /// Serialises flushes: callers that arrive while one syncs queue here, and the next of them
    /// covers everything appended by then (group commit). Appends never wait on it.
    pub(crate) sync_turn: RwLock<()>,
    /// Bumped by every truncation, so a sync that ran across one does not raise
    /// `flushed_offset` over offsets that were truncated and appended again.
    pub(crate) truncations: Cell<u64>,
    pub(crate) max_timestamp: Cell<Option<(i64, i64)>>,
    pub(crate) leader_epoch: Cell<i32>,
    pub(crate) epochs: RefCell<LeaderEpochCache>,
    pub(crate) epochs_dirty: Cell<bool>,
    pub(crate) closed: Cell<bool>,
    /// Aborted transactions by segment base (`txn_index.rs`); changed under `segments_change`.
    pub(crate) aborted: RefCell<txn_index::TxnIndexes>,
    /// An index file was unreadable at open: the server rebuilds the index from the log.
    pub(crate) txn_index_damaged: Cell<bool>,
}

/// State only the holder of the write lock touches.
pub(crate) struct WriteState {
    /// Appender of the last segment.
    pub appender: SegmentAppender,
}

impl PartitionLog {
    /// First offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset.get()
    }

    /// Next offset to be assigned.
    pub fn log_end_offset(&self) -> i64 {
        self.log_end_offset.get()
    }

    /// Every offset below this is durable (fdatasynced): the recovery point.
    pub fn flushed_offset(&self) -> i64 {
        self.flushed_offset.get()
    }

    /// Largest batch max timestamp in the log and the base offset of that batch (ListOffsets -3).
    pub fn max_timestamp_and_offset(&self) -> Option<(i64, i64)> {
        self.max_timestamp.get()
    }

    /// Replaces the topic configuration (takes effect on the next append / retention pass).
    pub fn set_config(&self, config: LogConfig) {
        *self.config.borrow_mut() = config;
    }

    /// The current topic configuration.
    pub fn config(&self) -> LogConfig {
        self.config.borrow().clone()
    }

    /// Topic name.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Partition index.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// The partition's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sets the leader epoch stamped into batches appended by `append` (partitionLeaderEpoch).
    /// Defaults to 0.
    pub fn set_leader_epoch(&self, epoch: i32) {
        self.leader_epoch.set(epoch);
    }

    /// This replica became the leader at `epoch`: batches appended from now on carry it, and the
    /// epoch starts at the current log end in the leader-epoch cache (Kafka records it at the
    /// election, not at the first append, so followers and OffsetForLeaderEpoch see the new
    /// epoch's start at once). The checkpoint is written before this returns. An epoch not
    /// newer than the cache's latest changes only the stamp.
    pub async fn start_leader_epoch(&self, epoch: i32) -> Result<(), LogError> {
        assert!(epoch >= 0);
        let _guard = self.lock().await?;
        self.leader_epoch.set(epoch);
        let start = self.log_end_offset.get();
        if self.epochs.borrow_mut().assign(epoch, start) {
            self.epochs_dirty.set(true);
        }
        self.store_epochs_if_dirty().await?;
        assert!(self.epochs.borrow().latest_epoch() >= Some(epoch));
        Ok(())
    }

    /// A copy of the leader-epoch cache (epoch -> start offset).
    pub fn leader_epochs(&self) -> LeaderEpochCache {
        self.epochs.borrow().clone()
    }

    /// Number of segments (sealed and active).
    pub fn segment_count(&self) -> usize {
        self.segments.borrow().len()
    }

    /// Bytes in all segments.
    pub fn size_bytes(&self) -> u64 {
        self.segments
            .borrow()
            .iter()
            .map(|segment| segment.size_bytes())
            .sum()
    }

    pub(crate) fn name(&self) -> String {
        format!("{}-{}", self.topic, self.partition)
    }

    pub(crate) fn check_open(&self) -> Result<(), LogError> {
        if self.closed.get() {
            return Err(LogError::Closed { name: self.name() });
        }
        Ok(())
    }

    pub(crate) async fn lock(&self) -> Result<RwLockWriteGuard<'_, WriteState>, LogError> {
        let guard = self
            .write
            .write()
            .await
            .map_err(|_| LogError::Closed { name: self.name() })?;
        self.check_open()?;
        Ok(guard)
    }

    /// Takes `segments_change` (before the write lock, never after it).
    pub(crate) async fn lock_segments_change(&self) -> Result<RwLockWriteGuard<'_, ()>, LogError> {
        let guard = self
            .segments_change
            .write()
            .await
            .map_err(|_| LogError::Closed { name: self.name() })?;
        self.check_open()?;
        Ok(guard)
    }

    pub(crate) fn active_segment(&self) -> Rc<Segment> {
        let segments = self.segments.borrow();
        match segments.last() {
            Some(segment) => segment.clone(),
            None => panic!("log {} has no segment", self.name()),
        }
    }

    /// Recomputes the log-wide max timestamp from the segments.
    pub(crate) fn recompute_max_timestamp(&self) {
        let mut best: Option<(i64, i64)> = None;
        for segment in self.segments.borrow().iter() {
            let index = segment.index.borrow();
            if index.max_timestamp_offset < 0 {
                continue;
            }
            if best.is_none_or(|(ts, _)| index.max_timestamp > ts) {
                best = Some((index.max_timestamp, index.max_timestamp_offset));
            }
        }
        self.max_timestamp.set(best);
    }

    /// Deletes a segment's files: rename to `.deleted` (the commit point), then remove.
    pub(crate) async fn delete_segment_files(&self, segment: &Segment) -> Result<(), LogError> {
        segment.close_reader();
        self.aborted.borrow_mut().remove(&segment.base_offset);
        for suffix in [
            LOG_SUFFIX,
            INDEX_SUFFIX,
            TIME_INDEX_SUFFIX,
            TXN_INDEX_SUFFIX,
        ] {
            let path = crate::segment::segment_path(&self.dir, segment.base_offset, suffix);
            let deleted = PathBuf::from(format!("{}{DELETED_SUFFIX}", path.display()));
            match self.storage.rename(&path, &deleted).await {
                Ok(()) => {}
                // Index files of the active segment exist only after a clean close; a
                // transaction index only when the segment holds an abort marker.
                Err(err) if suffix != LOG_SUFFIX && err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(LogError::io(format!("renaming {}", path.display()), err)),
            }
            self.storage
                .remove_file(&deleted)
                .await
                .map_err(|err| LogError::io(format!("removing {}", deleted.display()), err))?;
        }
        Ok(())
    }

    /// Persists the leader-epoch cache if it changed.
    pub(crate) async fn store_epochs_if_dirty(&self) -> Result<(), LogError> {
        if !self.epochs_dirty.get() {
            return Ok(());
        }
        let epochs = self.epochs.borrow().clone();
        checkpoint::write_leader_epochs(&*self.storage, &self.dir, &epochs).await?;
        self.epochs_dirty.set(false);
        Ok(())
    }

    /// Flushes, seals the active segment's files (truncate to logical size, index files) and
    /// writes the recovery point. Afterwards every call fails with `LogError::Closed`.
    pub(crate) async fn close(&self) -> Result<(), LogError> {
        let _change = self.lock_segments_change().await?;
        let mut guard = self.lock().await?;
        self.store_epochs_if_dirty().await?;
        guard.appender.finish().await?;
        let end = self.log_end_offset.get();
        self.flushed_offset.set(end);
        self.cache
            .set_written_offset(guard.appender.offset_written());
        self.active_segment().store_index(&*self.storage).await?;
        checkpoint::write_recovery_point(&*self.storage, &self.dir, end).await?;
        self.closed.set(true);
        self.cache.remove_from(i64::MIN);
        Ok(())
    }
}
