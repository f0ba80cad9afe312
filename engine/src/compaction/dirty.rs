//! How dirty a compacted log is, and which log the shard's cleaner takes next.
//!
//! The clean section is the segments wholly below the first dirty offset (already cleaned);
//! the dirty section is the sealed segments from the one holding it up to the first
//! uncleanable offset: the smallest of the active segment's base (never cleaned), the caller's
//! limit (the high watermark or last stable offset), and the base of the first segment holding
//! a record younger than `min.compaction.lag.ms`. Kafka's `LogCleanerManager.cleanableOffsets`.

use std::rc::Rc;

use crate::log::PartitionLog;
use crate::segment::read_header_at;

/// A compacted log's dirtiness at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanableStats {
    /// Start of the dirty section (the cleaner's checkpoint, clamped into the log).
    pub first_dirty_offset: i64,
    /// End of what may be cleaned now.
    pub first_uncleanable_offset: i64,
    /// Bytes of the clean section.
    pub clean_bytes: u64,
    /// Bytes of the dirty section.
    pub dirty_bytes: u64,
    /// dirty / (clean + dirty); 0 when both are 0.
    pub dirty_ratio: f64,
    /// How long past `max.compaction.lag.ms` the first dirty record is (0 when not overdue).
    pub compaction_delay_ms: i64,
    /// A kept tombstone's delete horizon has passed: a pass would remove it.
    pub delete_horizon_due: bool,
    /// Whether the cleaner should take this log now: dirty enough, or overdue, or a tombstone
    /// due for removal.
    pub cleanable: bool,
}

/// Per-log cleaner bookkeeping, in memory (the first dirty offset is also checkpointed).
#[derive(Debug, Clone, Default)]
pub(crate) struct CleanerLogState {
    pub first_dirty_offset: i64,
    /// When a pass last finished on this log (`now_ms` of that pass).
    pub last_clean_ms: Option<i64>,
    /// Earliest delete horizon of a batch whose tombstones the last pass kept.
    pub delete_horizon_min_ms: Option<i64>,
}

impl PartitionLog {
    /// The log's dirtiness now, with `offset_limit` (high watermark or last stable offset) as an
    /// upper bound of what may be cleaned. `None` when the log is not compacted.
    pub fn cleanable_stats(&self, now_ms: i64, offset_limit: i64) -> Option<CleanableStats> {
        let config = self.config();
        let compact = config.cleanup_policy.compact?;
        let segments = self.segments.borrow();
        let (active, sealed) = segments.split_last()?;
        let state = self.cleaner_state.borrow();
        let log_base = segments[0].base_offset;
        let mut first_uncleanable = active.base_offset.min(offset_limit).max(log_base);
        let mut first_dirty = state.first_dirty_offset;
        if first_dirty < log_base || first_dirty > self.log_end_offset.get() {
            // Retention passed it, or a truncation went below it: everything is dirty again.
            first_dirty = log_base;
        }
        if compact.min_compaction_lag_ms > 0 {
            let young_after = now_ms.saturating_sub(compact.min_compaction_lag_ms);
            if let Some(young) = sealed
                .iter()
                .find(|s| s.next_offset() > first_dirty && s.max_timestamp() > young_after)
            {
                first_uncleanable = first_uncleanable.min(young.base_offset.max(log_base));
            }
        }
        let first_dirty = first_dirty.min(first_uncleanable);
        let mut clean_bytes = 0;
        let mut dirty_bytes = 0;
        let mut first_dirty_segment = None;
        for segment in sealed {
            if segment.next_offset() <= first_dirty {
                clean_bytes += segment.size_bytes();
            } else if segment.base_offset < first_uncleanable {
                dirty_bytes += segment.size_bytes();
                first_dirty_segment.get_or_insert(segment.clone());
            }
        }
        let total = clean_bytes + dirty_bytes;
        let dirty_ratio = if total == 0 {
            0.0
        } else {
            dirty_bytes as f64 / total as f64
        };
        let compaction_delay_ms = match &first_dirty_segment {
            Some(segment) if compact.max_compaction_lag_ms < i64::MAX => {
                let first_timestamp = segment
                    .reader(&*self.storage)
                    .ok()
                    .and_then(|reader| read_header_at(&*reader, 0).ok().flatten())
                    .map_or(segment.max_timestamp(), |header| header.max_timestamp);
                let due_ms = first_timestamp.saturating_add(compact.max_compaction_lag_ms);
                now_ms.saturating_sub(due_ms).max(0)
            }
            _ => 0,
        };
        let delete_horizon_due = state
            .delete_horizon_min_ms
            .is_some_and(|horizon| horizon <= now_ms);
        let dirty_enough = dirty_bytes > 0
            && (dirty_ratio >= compact.min_cleanable_dirty_ratio || compaction_delay_ms > 0);
        Some(CleanableStats {
            first_dirty_offset: first_dirty,
            first_uncleanable_offset: first_uncleanable,
            clean_bytes,
            dirty_bytes,
            dirty_ratio,
            compaction_delay_ms,
            delete_horizon_due,
            cleanable: dirty_enough || delete_horizon_due,
        })
    }

    /// When a cleaner pass last finished on this log (its `now_ms`), if one did since open.
    pub fn last_clean_ms(&self) -> Option<i64> {
        self.cleaner_state.borrow().last_clean_ms
    }
}

/// The log the cleaner should take next among `logs`: the cleanable one with the highest dirty
/// ratio, overdue logs (`max.compaction.lag.ms`) first, then logs whose only work is removing
/// tombstones past their horizon. `offset_limit` gives each log's cleaning bound.
pub fn dirtiest_log(
    logs: impl IntoIterator<Item = Rc<PartitionLog>>,
    now_ms: i64,
    offset_limit: impl Fn(&PartitionLog) -> i64,
) -> Option<(Rc<PartitionLog>, CleanableStats)> {
    let rank = |stats: &CleanableStats| {
        let work = stats.dirty_bytes > 0;
        (stats.compaction_delay_ms > 0, work, stats.dirty_ratio)
    };
    let mut best: Option<(Rc<PartitionLog>, CleanableStats)> = None;
    for log in logs {
        let limit = offset_limit(&log);
        let Some(stats) = log.cleanable_stats(now_ms, limit) else {
            continue;
        };
        if !stats.cleanable {
            continue;
        }
        let better = best.as_ref().is_none_or(|(_, held)| {
            rank(&stats)
                .partial_cmp(&rank(held))
                .is_some_and(|order| order.is_gt())
        });
        if better {
            best = Some((log, stats));
        }
    }
    best
}
