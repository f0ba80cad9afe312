//! The produce path: validate, assign offsets, copy into write-behind buffers, cache; and the
//! follower path (`append_replicated`); and `flush`, the durability point.

use bytes::Bytes;
use glommio::sync::RwLockWriteGuard;

use super::checkpoint;
use super::open::open_appender;
use super::{PartitionLog, WriteState};
use crate::batch::{self, BatchError, BatchHeader, CountRule};
use crate::compaction::cleaner::DECOMPRESSED_BYTES_MAX;
use crate::compaction::records::every_record_has_a_key;
use crate::error::{AppendError, LogError};
use crate::limits::{APPEND_BATCHES_MAX, BATCH_BYTES_MAX, SEGMENT_BYTES_MAX};
use crate::segment::{segment_path, Segment, SegmentIndex, LOG_SUFFIX};
use crate::{AppendInfo, TimestampType};

fn batch_error(batch_index: usize, err: BatchError) -> AppendError {
    match err {
        BatchError::Crc { stored, computed } => AppendError::Corrupt {
            batch_index,
            stored,
            computed,
        },
        other => AppendError::InvalidBatch {
            batch_index,
            reason: other.to_string(),
        },
    }
}

/// Validates a call's batches (no lock needed); returns their headers.
fn validate_all(
    batches: &[Bytes],
    rule: CountRule,
    max_bytes: u32,
) -> Result<Vec<BatchHeader>, AppendError> {
    if batches.is_empty() || batches.len() > APPEND_BATCHES_MAX {
        return Err(AppendError::InvalidBatch {
            batch_index: 0,
            reason: format!(
                "{} batches in one append (1..={APPEND_BATCHES_MAX})",
                batches.len()
            ),
        });
    }
    let batch_bytes_max = max_bytes.min(BATCH_BYTES_MAX);
    let mut headers = Vec::with_capacity(batches.len());
    let mut total_bytes = 0u64;
    for (batch_index, bytes) in batches.iter().enumerate() {
        if bytes.len() > batch_bytes_max as usize {
            return Err(AppendError::TooLarge {
                batch_index,
                batch_bytes: bytes.len().min(u32::MAX as usize) as u32,
                batch_bytes_max,
            });
        }
        let header = batch::validate(bytes, rule).map_err(|err| batch_error(batch_index, err))?;
        total_bytes += bytes.len() as u64;
        headers.push(header);
    }
    if total_bytes > SEGMENT_BYTES_MAX / 2 {
        return Err(AppendError::TooLarge {
            batch_index: 0,
            batch_bytes: total_bytes.min(u32::MAX as u64) as u32,
            batch_bytes_max: (SEGMENT_BYTES_MAX / 2) as u32,
        });
    }
    Ok(headers)
}

/// A compacted log keeps the latest record per key, so a record without a key has no place in
/// it: Kafka refuses the whole batch (INVALID_RECORD), and so nothing of the call is appended.
/// Control batches carry no keys and are exempt.
fn require_keys(batches: &[Bytes], headers: &[BatchHeader]) -> Result<(), AppendError> {
    for (batch_index, (bytes, header)) in batches.iter().zip(headers).enumerate() {
        if header.is_control() {
            continue;
        }
        let keyed =
            every_record_has_a_key(bytes, header, DECOMPRESSED_BYTES_MAX).map_err(|err| {
                AppendError::InvalidBatch {
                    batch_index,
                    reason: format!("records unreadable: {err}"),
                }
            })?;
        if !keyed {
            return Err(AppendError::InvalidBatch {
                batch_index,
                reason: "compacted topic: every record must have a key".into(),
            });
        }
    }
    Ok(())
}

/// Leading bytes a leader append rewrites (baseOffset, batchLength, partitionLeaderEpoch).
const REWRITTEN_PREFIX_BYTES: usize = batch::MAGIC_AT;

/// A validated batch ready to append: `head` followed by `body` are its bytes as stored.
struct Prepared {
    header: BatchHeader,
    head: Bytes,
    body: Bytes,
}

impl PartitionLog {
    /// Validates every batch (magic 2, lengths, CRC-32C, record counts), assigns offsets by
    /// rewriting baseOffset and partitionLeaderEpoch (and the max timestamp, re-computing the
    /// CRC, when the topic uses LogAppendTime), and appends.
    ///
    /// **Returns when the batches are in the log**: readable by `read`, copied into write-behind
    /// buffers or already written, but NOT durable. A crash (kill -9 or power loss) may lose
    /// them until a `flush` that started after this call returns; recovery then truncates the
    /// log at the first batch that did not reach the disk whole. Either every batch of the call
    /// is appended or none is; an error leaves the log unchanged. The returned future must be
    /// driven to completion (do not drop it half-way).
    pub async fn append(&self, batches: &[Bytes], now_ms: i64) -> Result<AppendInfo, AppendError> {
        self.check_open()?;
        let config = self.config();
        let headers = validate_all(batches, CountRule::Producer, config.max_message_bytes)?;
        if config.cleanup_policy.compact.is_some() {
            require_keys(batches, &headers)?;
        }
        let mut guard = self.lock().await?;
        let epoch = self.leader_epoch.get();
        let log_append_time = config.timestamp_type == TimestampType::LogAppendTime;
        let mut next_offset = self.log_end_offset.get();
        let mut prepared = Vec::with_capacity(batches.len());
        for (bytes, header) in batches.iter().zip(headers) {
            let (head, body) = if log_append_time {
                // Timestamps are inside the CRC: copy the batch, rewrite, recompute.
                let mut rewritten = batch::rewrite_header(bytes, next_offset, Some(epoch));
                batch::set_log_append_time(&mut rewritten, now_ms);
                (rewritten.freeze(), Bytes::new())
            } else {
                // Only the fields before the CRC change: copy just those, share the rest.
                let mut head = bytes[..REWRITTEN_PREFIX_BYTES].to_vec();
                batch::set_base_offset(&mut head, next_offset);
                batch::set_partition_leader_epoch(&mut head, epoch);
                (Bytes::from(head), bytes.slice(REWRITTEN_PREFIX_BYTES..))
            };
            let header = BatchHeader {
                base_offset: next_offset,
                partition_leader_epoch: epoch,
                max_timestamp: if log_append_time {
                    now_ms
                } else {
                    header.max_timestamp
                },
                ..header
            };
            next_offset = header.next_offset();
            prepared.push(Prepared { header, head, body });
        }
        let mut info = self.append_locked(&mut guard, prepared, now_ms).await?;
        info.log_append_time_ms = if log_append_time { now_ms } else { -1 };
        Ok(info)
    }

    /// Follower path: appends batches whose offsets a leader already assigned, byte for byte
    /// (their leader epochs are kept and recorded in the leader-epoch checkpoint). The first
    /// batch must start at `log_end_offset()` and each must start where the previous ended.
    /// Same durability contract as `append`.
    pub async fn append_replicated(&self, batches: &[Bytes]) -> Result<AppendInfo, AppendError> {
        self.check_open()?;
        let config = self.config();
        let headers = validate_all(batches, CountRule::Compacted, config.max_message_bytes)?;
        let mut guard = self.lock().await?;
        let mut expected = self.log_end_offset.get();
        let mut prepared = Vec::with_capacity(batches.len());
        for (bytes, header) in batches.iter().zip(headers) {
            if header.base_offset != expected {
                return Err(AppendError::NonContiguous {
                    expected,
                    got: header.base_offset,
                });
            }
            expected = header.next_offset();
            prepared.push(Prepared {
                header,
                head: bytes.clone(),
                body: Bytes::new(),
            });
        }
        let now_ms = crate::manager::now_ms();
        self.append_locked(&mut guard, prepared, now_ms).await
    }

    async fn append_locked(
        &self,
        guard: &mut RwLockWriteGuard<'_, WriteState>,
        batches: Vec<Prepared>,
        now_ms: i64,
    ) -> Result<AppendInfo, AppendError> {
        let total_bytes: u64 = batches
            .iter()
            .map(|batch| batch.header.total_bytes() as u64)
            .sum();
        let (Some(first), Some(last)) = (batches.first(), batches.last()) else {
            unreachable!("validate_all refuses empty appends")
        };
        let (base_offset, last_offset) = (first.header.base_offset, last.header.last_offset());
        assert_eq!(base_offset, self.log_end_offset.get());
        self.maybe_roll(guard, total_bytes, last_offset, now_ms)
            .await?;
        guard.appender.reserve(total_bytes).await?;
        let active = self.active_segment();
        if active.is_empty() {
            active.created_ms.set(now_ms);
        }
        let interval = self.config.borrow().index_interval_bytes;
        let mut max_timestamp = i64::MIN;
        for Prepared { header, head, body } in batches {
            assert_eq!(header.base_offset, self.log_end_offset.get());
            assert_eq!(header.total_bytes(), head.len() + body.len());
            guard
                .appender
                .append(&head, &body, header.next_offset())
                .await?;
            active.record_append(&header, interval);
            if self
                .epochs
                .borrow_mut()
                .assign(header.partition_leader_epoch, header.base_offset)
            {
                self.epochs_dirty.set(true);
            }
            if self
                .max_timestamp
                .get()
                .is_none_or(|(ts, _)| header.max_timestamp > ts)
            {
                self.max_timestamp
                    .set(Some((header.max_timestamp, header.base_offset)));
            }
            max_timestamp = max_timestamp.max(header.max_timestamp);
            self.log_end_offset.set(header.next_offset());
            self.cache.push(
                header.base_offset,
                header.last_offset(),
                header.max_timestamp,
                head,
                body,
            );
        }
        self.cache
            .set_written_offset(guard.appender.offset_written());
        assert_eq!(active.size_bytes(), guard.appender.size_bytes());
        Ok(AppendInfo {
            base_offset,
            last_offset,
            log_append_time_ms: -1,
            max_timestamp_ms: max_timestamp,
        })
    }

    /// Rolls the active segment if the incoming bytes would overflow `segment.bytes`, if it is
    /// older than `segment.ms`, or if relative offsets would overflow.
    async fn maybe_roll(
        &self,
        guard: &mut RwLockWriteGuard<'_, WriteState>,
        incoming_bytes: u64,
        last_offset: i64,
        now_ms: i64,
    ) -> Result<(), LogError> {
        let active = self.active_segment();
        if active.is_empty() {
            return Ok(());
        }
        let config = self.config();
        let full = active.size_bytes() + incoming_bytes > config.segment_bytes_effective();
        let old = now_ms - active.created_ms.get() >= config.segment_ms_effective();
        let offsets_overflow = last_offset - active.base_offset > i32::MAX as i64;
        if full || old || offsets_overflow {
            self.roll(guard, now_ms).await?;
        }
        Ok(())
    }

    /// Seals the active segment (flush, truncate to logical size, index files) and starts a new
    /// one at the log end. The recovery point moves to the new segment's base.
    pub(crate) async fn roll(
        &self,
        guard: &mut RwLockWriteGuard<'_, WriteState>,
        now_ms: i64,
    ) -> Result<(), LogError> {
        let sealed = self.active_segment();
        self.store_epochs_if_dirty().await?;
        guard.appender.finish().await?;
        let base = self.log_end_offset.get();
        self.flushed_offset.set(base);
        self.cache
            .set_written_offset(guard.appender.offset_written());
        sealed.store_index(&*self.storage).await?;
        let segment = Segment::new(&self.dir, SegmentIndex::new(base), 0, base, now_ms);
        let path = segment_path(&self.dir, base, LOG_SUFFIX);
        let appender = open_appender(&self.storage, &self.pool, &segment, &self.config()).await?;
        self.storage.sync_dir(&self.dir).await.map_err(|err| {
            LogError::io(
                format!("syncing dir after creating {}", path.display()),
                err,
            )
        })?;
        guard.appender = appender;
        self.segments.borrow_mut().push(segment);
        checkpoint::write_recovery_point(&*self.storage, &self.dir, base).await?;
        Ok(())
    }

    /// Makes everything appended before this call durable: writes the write-behind buffers
    /// (re-writing the partial tail block) and fdatasyncs the active segment. Concurrent callers
    /// coalesce: a caller whose data a running flush already covers returns when it completes
    /// (group commit). Returns the durable end offset (`flushed_offset`).
    ///
    /// The write lock is held only while the buffers are written, not through the fdatasync:
    /// appends to this partition go on while the device syncs. That is safe because fdatasync
    /// covers every write that completed before it was issued (all bytes below `end` here);
    /// later writes may rewrite the tail block, but with the same bytes below the old end, so
    /// a torn rewrite cannot damage what this flush made durable.
    ///
    /// After `Ok(end)`, every batch below `end` survives kill -9 and power loss (given a device
    /// that honours fdatasync). On `Err` nothing is lost from the log: the buffers are kept and
    /// the next `append`/`flush` retries the writes; only durability is not yet reached.
    pub async fn flush(&self) -> Result<i64, LogError> {
        self.check_open()?;
        let target = self.log_end_offset.get();
        if self.flushed_offset.get() >= target {
            return Ok(self.flushed_offset.get());
        }
        let _turn = self
            .sync_turn
            .write()
            .await
            .map_err(|_| LogError::Closed { name: self.name() })?;
        if self.flushed_offset.get() >= target {
            return Ok(self.flushed_offset.get());
        }
        let (end, file, truncations) = {
            let mut guard = self.lock().await?;
            let end = self.log_end_offset.get();
            self.store_epochs_if_dirty().await?;
            let written = guard.appender.write_all().await;
            self.cache
                .set_written_offset(guard.appender.offset_written());
            written?;
            (end, guard.appender.file(), self.truncations.get())
        };
        file.fdatasync()
            .await
            .map_err(|err| LogError::io("fdatasync of segment", err))?;
        // A roll or close meanwhile synced at least as far; a truncation voids this sync's end.
        if self.truncations.get() == truncations && end > self.flushed_offset.get() {
            self.flushed_offset.set(end);
        }
        Ok(self.flushed_offset.get())
    }

    /// True when some appended data is not yet durable.
    pub fn needs_flush(&self) -> bool {
        self.flushed_offset.get() < self.log_end_offset.get()
    }
}
