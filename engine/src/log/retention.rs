//! Retention: whole sealed segments past `retention.ms` or beyond `retention.bytes` are deleted
//! (oldest first, so a crash leaves a suffix of the log) and the log start offset advances.
//! Time and size apply only when `cleanup.policy` includes `delete`; segments below the log
//! start go either way.

use super::checkpoint;
use super::PartitionLog;
use crate::error::LogError;

impl PartitionLog {
    /// Deletes sealed segments whose newest timestamp is older than `now_ms - retention.ms`,
    /// then oldest sealed segments while the log exceeds `retention.bytes`, and segments wholly
    /// below the log start. The active segment is never deleted. Returns segments deleted.
    pub async fn apply_retention(&self, now_ms: i64) -> Result<usize, LogError> {
        let _change = self.lock_segments_change().await?;
        let _guard = self.lock().await?;
        let config = self.config();
        let mut total_bytes = self.size_bytes() as i64;
        let mut doomed = Vec::new();
        {
            let segments = self.segments.borrow();
            let sealed = &segments[..segments.len() - 1];
            for segment in sealed {
                let expired = config.retention_applies()
                    && config.retention_ms >= 0
                    && now_ms - segment.max_timestamp() > config.retention_ms;
                let oversize = config.retention_applies()
                    && config.retention_bytes >= 0
                    && total_bytes - segment.size_bytes() as i64 >= config.retention_bytes;
                let below_start = segment.next_offset() <= self.log_start_offset.get();
                if !(expired || oversize || below_start) {
                    break;
                }
                total_bytes -= segment.size_bytes() as i64;
                doomed.push(segment.clone());
            }
        }
        if doomed.is_empty() {
            return Ok(0);
        }
        let new_start = {
            let segments = self.segments.borrow();
            segments[doomed.len()]
                .base_offset
                .max(self.log_start_offset.get())
        };
        checkpoint::write_log_start(&*self.storage, &self.dir, new_start).await?;
        self.log_start_offset.set(new_start);
        self.cache.remove_below(new_start);
        self.segments.borrow_mut().drain(..doomed.len());
        for segment in &doomed {
            tracing::info!(log = %self.name(), base_offset = segment.base_offset, "retention deletes segment");
            self.delete_segment_files(segment).await?;
        }
        self.recompute_max_timestamp();
        Ok(doomed.len())
    }
}
