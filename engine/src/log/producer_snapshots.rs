//! What the server's producer state needs of a log, and nothing of its meaning: snapshot
//! files written next to the segments (`<offset:020>.snapshot`, Kafka's name), and a walk over
//! the batch headers from an offset (to rebuild the state past the latest snapshot).
//!
//! A snapshot holds opaque bytes: the state after every batch below `offset`. It is written
//! atomically and durably (`.tmp`, fsync, rename, directory fsync), so a crash leaves either
//! the old set of snapshots or the new one. Only the newest [`PRODUCER_SNAPSHOTS_KEPT`] are
//! kept; retention never deletes them, so dedup state outlives the segments it came from.

use std::path::PathBuf;

use super::PartitionLog;
use crate::batch::BatchHeader;
use crate::error::LogError;
use crate::segment::{parse_base_offset, read_header_at, segment_path};

/// File suffix of producer-state snapshots.
pub const PRODUCER_SNAPSHOT_SUFFIX: &str = "snapshot";
/// Snapshots kept per partition: the newest is the one recovery loads; one older survives a
/// newest that turns out unreadable.
pub const PRODUCER_SNAPSHOTS_KEPT: usize = 2;
/// Largest control batch `visit_batch_headers_and_controls` reads whole (a transaction
/// marker is under 100 bytes).
pub const CONTROL_BATCH_BYTES_MAX: usize = 1024;
/// Largest snapshot file accepted (a bound on what the server may hand over).
pub const PRODUCER_SNAPSHOT_BYTES_MAX: usize = 64 * 1024 * 1024;

impl PartitionLog {
    /// Base offset of the active segment: it changes when the log rolls.
    pub fn active_segment_base(&self) -> i64 {
        self.active_segment().base_offset
    }

    /// Snapshot offsets present, ascending.
    pub async fn producer_snapshot_offsets(&self) -> Result<Vec<i64>, LogError> {
        let paths = self
            .storage
            .list_dir(&self.dir)
            .await
            .map_err(|err| LogError::io(format!("listing {}", self.dir.display()), err))?;
        let mut offsets: Vec<i64> = paths
            .iter()
            .filter_map(|path| path.file_name()?.to_str())
            .filter_map(|name| parse_base_offset(name, PRODUCER_SNAPSHOT_SUFFIX))
            .collect();
        offsets.sort_unstable();
        Ok(offsets)
    }

    /// Writes the snapshot at `offset` (durable when this returns), then removes all but the
    /// newest [`PRODUCER_SNAPSHOTS_KEPT`]. `offset` must be within the log.
    pub async fn write_producer_snapshot(
        &self,
        offset: i64,
        data: Vec<u8>,
    ) -> Result<(), LogError> {
        self.check_open()?;
        assert!(offset >= 0);
        assert!(
            offset <= self.log_end_offset.get(),
            "snapshot past the log end"
        );
        if data.len() > PRODUCER_SNAPSHOT_BYTES_MAX {
            return Err(LogError::InvalidArgument {
                detail: format!("producer snapshot of {} bytes", data.len()),
            });
        }
        let path = self.snapshot_path(offset);
        self.storage
            .write_file_atomic(&path, data, true)
            .await
            .map_err(|err| LogError::io(format!("writing {}", path.display()), err))?;
        let offsets = self.producer_snapshot_offsets().await?;
        assert!(
            offsets.contains(&offset),
            "the snapshot just written is listed"
        );
        let doomed = offsets.len().saturating_sub(PRODUCER_SNAPSHOTS_KEPT);
        for old in &offsets[..doomed] {
            self.remove_producer_snapshot(*old).await?;
        }
        Ok(())
    }

    /// The newest snapshot at or below `offset_max` with its offset. Newer ones (left by a log
    /// that lost its tail in a crash, or truncated) describe offsets the log no longer has and
    /// are removed.
    pub async fn latest_producer_snapshot(
        &self,
        offset_max: i64,
    ) -> Result<Option<(i64, Vec<u8>)>, LogError> {
        let offsets = self.producer_snapshot_offsets().await?;
        for offset in offsets.iter().rev() {
            if *offset > offset_max {
                tracing::info!(log = %self.name(), offset, "removing a producer snapshot past the log end");
                self.remove_producer_snapshot(*offset).await?;
                continue;
            }
            let path = self.snapshot_path(*offset);
            let data = self
                .storage
                .read_file(&path)
                .await
                .map_err(|err| LogError::io(format!("reading {}", path.display()), err))?;
            match data {
                Some(data) if data.len() <= PRODUCER_SNAPSHOT_BYTES_MAX => {
                    return Ok(Some((*offset, data)))
                }
                Some(data) => {
                    tracing::warn!(path = %path.display(), bytes = data.len(), "producer snapshot too large; ignored")
                }
                None => {}
            }
        }
        Ok(None)
    }

    /// Removes one snapshot (an unreadable one, say); a missing file is fine.
    pub async fn remove_producer_snapshot(&self, offset: i64) -> Result<(), LogError> {
        let path = self.snapshot_path(offset);
        self.storage
            .remove_file(&path)
            .await
            .map_err(|err| LogError::io(format!("removing {}", path.display()), err))
    }

    /// Calls `visit` with the header of every batch from the one containing `from_offset` to
    /// the log end, in offset order; returns how many. Reads only headers, so compressed
    /// batches cost no decompression. Meant for opening (the active segment must have no
    /// unwritten appends: its file is read, not the write-behind buffers).
    pub fn visit_batch_headers(
        &self,
        from_offset: i64,
        mut visit: impl FnMut(&BatchHeader),
    ) -> Result<u64, LogError> {
        self.visit_batch_headers_and_controls(from_offset, |header, _| visit(header))
    }

    /// `visit_batch_headers`, and the whole bytes of every control batch of at most
    /// [`CONTROL_BATCH_BYTES_MAX`] (transaction markers: producer state needs their record).
    /// Larger control batches come with `None`.
    pub fn visit_batch_headers_and_controls(
        &self,
        from_offset: i64,
        mut visit: impl FnMut(&BatchHeader, Option<&[u8]>),
    ) -> Result<u64, LogError> {
        let segments = self.segments.borrow().clone();
        let mut visited = 0u64;
        let mut previous_end = i64::MIN;
        for segment in segments.iter().filter(|s| s.next_offset() > from_offset) {
            let reader = segment.reader(&*self.storage)?;
            let size_bytes = segment.size_bytes();
            let mut position = 0u64;
            while position < size_bytes {
                let header = read_header_at(&*reader, position)
                    .map_err(|err| {
                        LogError::io(format!("reading {}", segment.log_path().display()), err)
                    })?
                    .ok_or_else(|| LogError::Corrupt {
                        detail: format!(
                            "{}: no batch header at {position} of {size_bytes}",
                            segment.log_path().display()
                        ),
                    })?;
                let fits = header.total_bytes() as u64 <= size_bytes - position;
                if header.base_offset < previous_end || !fits {
                    return Err(LogError::Corrupt {
                        detail: format!(
                            "{}: the batch at {position} (offset {}) goes back or past the end",
                            segment.log_path().display(),
                            header.base_offset
                        ),
                    });
                }
                previous_end = header.next_offset();
                position += header.total_bytes() as u64;
                if header.last_offset() >= from_offset {
                    let batch_start = position - header.total_bytes() as u64;
                    let control =
                        if header.is_control() && header.total_bytes() <= CONTROL_BATCH_BYTES_MAX {
                            let mut bytes = vec![0u8; header.total_bytes()];
                            reader
                                .read_exact_at(&mut bytes, batch_start)
                                .map_err(|err| {
                                    LogError::io(
                                        format!("reading {}", segment.log_path().display()),
                                        err,
                                    )
                                })?;
                            Some(bytes)
                        } else {
                            None
                        };
                    visit(&header, control.as_deref());
                    visited += 1;
                }
            }
            assert_eq!(
                position, size_bytes,
                "batches were checked to end at the end"
            );
        }
        Ok(visited)
    }

    fn snapshot_path(&self, offset: i64) -> PathBuf {
        segment_path(&self.dir, offset, PRODUCER_SNAPSHOT_SUFFIX)
    }
}
