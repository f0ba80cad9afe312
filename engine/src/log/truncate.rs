//! Removing data from the end (`truncate_to`, for replication) and from the start
//! (`delete_records_before`, DeleteRecords).

use std::rc::Rc;

use super::checkpoint;
use super::open::open_appender;
use super::PartitionLog;
use crate::error::LogError;
use crate::segment::{scan_segment, segment_path, Segment, SegmentIndex, LOG_SUFFIX};
use crate::storage::Storage;

impl PartitionLog {
    /// Removes every batch whose last offset is >= `offset`; the log end becomes the base
    /// offset of the first removed batch (= `offset` when it is a batch boundary). Segments
    /// after it are deleted newest first; the segment holding it is truncated, fdatasynced and
    /// becomes the active one. Truncating at or below the log start empties the log and
    /// restarts it at `offset`. The leader-epoch cache drops epochs starting past the new end,
    /// and the aborted-transaction index the entries whose marker was removed.
    pub async fn truncate_to(&self, offset: i64) -> Result<(), LogError> {
        self.truncate(offset, false).await
    }

    /// Empties the log and restarts it at `offset`, which may lie past the log end (a
    /// follower whose leader deleted everything it lacks: Kafka's `truncateFullyAndStartAt`).
    /// The leader-epoch cache is emptied with it. A crash half-way leaves an empty log at the
    /// old or the new start, which the follower restarts again.
    pub async fn truncate_fully_and_start_at(&self, offset: i64) -> Result<(), LogError> {
        self.truncate(offset, true).await
    }

    async fn truncate(&self, offset: i64, fully: bool) -> Result<(), LogError> {
        let _change = self.lock_segments_change().await?;
        let mut guard = self.lock().await?;
        if offset >= self.log_end_offset.get() && !fully {
            // No batch goes, but an epoch that starts here and wrote nothing does (a deposed
            // leader's election entry): the follower must not keep claiming it.
            if self.epochs.borrow_mut().truncate_from(offset) {
                self.epochs_dirty.set(true);
                self.store_epochs_if_dirty().await?;
            }
            return Ok(());
        }
        if offset < 0 {
            return Err(LogError::InvalidArgument {
                detail: format!("truncate_to({offset})"),
            });
        }
        guard.appender.write_all().await?;
        let interval = self.config.borrow().index_interval_bytes;
        let restart = fully || offset <= self.log_start_offset.get();
        let keep_index = if restart {
            0
        } else {
            self.segments
                .borrow()
                .partition_point(|segment| segment.base_offset <= offset)
                - 1
        };
        let doomed: Vec<Rc<Segment>> = {
            let segments = self.segments.borrow();
            let first_doomed = if restart { 0 } else { keep_index + 1 };
            segments[first_doomed..].to_vec()
        };
        for segment in doomed.iter().rev() {
            self.delete_segment_files(segment).await?;
        }
        let kept = if restart {
            let segment = Segment::new(
                &self.dir,
                SegmentIndex::new(offset),
                0,
                offset,
                crate::manager::now_ms(),
            );
            *self.segments.borrow_mut() = vec![segment.clone()];
            self.log_start_offset.set(offset);
            checkpoint::write_log_start(&*self.storage, &self.dir, offset).await?;
            segment
        } else {
            self.segments.borrow_mut().truncate(keep_index + 1);
            let segment = self.active_segment();
            let path = segment_path(&self.dir, segment.base_offset, LOG_SUFFIX);
            let file = self
                .storage
                .open_segment(&path, false)
                .await
                .map_err(|err| LogError::io(format!("opening {}", path.display()), err))?;
            let keep_bytes = cut_position(&*self.storage, &segment, offset)?;
            assert!(keep_bytes <= segment.size_bytes());
            // Rebuild the index of what stays (headers only: the data was validated when it
            // was appended or recovered).
            let scan =
                scan_segment(&*file, segment.base_offset, keep_bytes, interval, false).await?;
            if let Some(reason) = scan.stop_reason {
                return Err(LogError::Corrupt {
                    detail: format!("truncating {}: {reason}", path.display()),
                });
            }
            file.truncate(keep_bytes)
                .await
                .map_err(|err| LogError::io(format!("truncating {}", path.display()), err))?;
            // What stays was written (write_all above) but maybe never synced, and the new
            // length must be durable too: `flushed_offset` becomes the new end below.
            file.fdatasync()
                .await
                .map_err(|err| LogError::io(format!("syncing {}", path.display()), err))?;
            drop(file);
            segment.reset(scan.index, keep_bytes, scan.next_offset);
            segment
        };
        guard.appender = open_appender(&self.storage, &self.pool, &kept, &self.config()).await?;
        let end = kept.next_offset();
        assert!(end <= offset);
        // Aborted transactions whose marker went with the tail go from the index too.
        self.cut_aborted_txns(end).await?;
        self.log_end_offset.set(end);
        self.flushed_offset.set(end);
        self.truncations.set(self.truncations.get() + 1);
        self.cache.remove_from(end);
        self.cache.reset_written_offset(end);
        // An emptied log keeps no epoch: its next fetch must not claim one it no longer has.
        let epochs_from = if restart { i64::MIN } else { end };
        if self.epochs.borrow_mut().truncate_from(epochs_from) {
            self.epochs_dirty.set(true);
        }
        self.store_epochs_if_dirty().await?;
        checkpoint::write_recovery_point(&*self.storage, &self.dir, end).await?;
        self.recompute_max_timestamp();
        Ok(())
    }

    /// Advances the log start offset to `offset` (DeleteRecords): reads below it fail with
    /// `OffsetOutOfRange`, and sealed segments wholly below it are deleted. The new start is
    /// checkpointed (fsynced) before any file is deleted.
    pub async fn delete_records_before(&self, offset: i64) -> Result<(), LogError> {
        let _change = self.lock_segments_change().await?;
        let _guard = self.lock().await?;
        if offset > self.log_end_offset.get() {
            return Err(LogError::InvalidArgument {
                detail: format!(
                    "delete_records_before({offset}) above log end {}",
                    self.log_end_offset.get()
                ),
            });
        }
        if offset <= self.log_start_offset.get() {
            return Ok(());
        }
        checkpoint::write_log_start(&*self.storage, &self.dir, offset).await?;
        self.log_start_offset.set(offset);
        self.cache.remove_below(offset);
        loop {
            let oldest = {
                let segments = self.segments.borrow();
                match segments.first() {
                    Some(segment) if segments.len() > 1 && segment.next_offset() <= offset => {
                        segment.clone()
                    }
                    _ => break,
                }
            };
            self.segments.borrow_mut().remove(0);
            self.delete_segment_files(&oldest).await?;
        }
        self.recompute_max_timestamp();
        Ok(())
    }
}

/// Position of the first batch whose last offset is >= `offset` (or the segment end).
fn cut_position(storage: &dyn Storage, segment: &Segment, offset: i64) -> Result<u64, LogError> {
    let size = segment.size_bytes();
    let (_, mut position) = segment.index.borrow().position_for(offset);
    let reader = segment.reader(storage)?;
    while position < size {
        let header = crate::segment::read_header_at(&*reader, position)
            .map_err(|err| LogError::io("reading batch header", err))?
            .ok_or_else(|| LogError::Corrupt {
                detail: format!("no batch at {position}"),
            })?;
        if header.last_offset() >= offset {
            return Ok(position);
        }
        position += header.total_bytes() as u64;
    }
    Ok(size)
}
