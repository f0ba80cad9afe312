//! The shard's log cleaner task (`log.cleaner.*`): one engine `Cleaner` per shard, cleaning the
//! dirtiest compacted log it owns (by `min.cleanable.dirty.ratio`, overdue logs by
//! `max.compaction.lag.ms` first), one pass at a time, and sleeping `log.cleaner.backoff.ms`
//! when no log needs cleaning. A pass pauses after every slice so it takes at most
//! `sluice.log.cleaner.duty.percent` of the shard's time (see `sluice_engine::compaction`), so
//! produce and fetch on the shard keep their latency.
//!
//! Cleaning stops at each partition's last stable offset: a consumer never sees a record
//! vanish that it could not read yet.

use std::rc::Rc;
use std::time::Duration;

use sluice_engine::compaction::{dirtiest_log, Cleaner, CleanerConfig};

use super::partition::Partition;
use super::registry::Partitions;
use crate::metrics::cleaner::LogCleanerState;
use crate::metrics::shard_metrics::with_local;
use crate::shard::context::ShardContext;
use crate::util::now_ms;

/// Smallest backoff: a zero backoff would spin on a shard with nothing to clean.
const BACKOFF_MS_MIN: u64 = 1;

pub fn spawn(
    ctx: &Rc<ShardContext>,
    partitions: &Rc<Partitions>,
    backoff_ms: u64,
    dedupe_buffer_bytes: usize,
    duty_percent: u32,
) {
    let cleaner = Cleaner::new(CleanerConfig {
        dedupe_buffer_bytes,
        duty_percent,
    });
    let backoff = Duration::from_millis(backoff_ms.max(BACKOFF_MS_MIN));
    glommio::spawn_local(clean_loop(
        ctx.clone(),
        partitions.clone(),
        cleaner,
        backoff,
    ))
    .detach();
}

async fn clean_loop(
    ctx: Rc<ShardContext>,
    partitions: Rc<Partitions>,
    cleaner: Rc<Cleaner>,
    backoff: Duration,
) {
    while !ctx.is_stopping() {
        let now = now_ms();
        let logs = partitions.all().into_iter().map(|p| p.log().clone());
        let limit = |log: &sluice_engine::PartitionLog| {
            partitions
                .get(log.topic(), log.partition())
                .map_or(0, |partition| partition.last_stable_offset())
        };
        let Some((log, stats)) = dirtiest_log(logs, now, limit) else {
            glommio::timer::sleep(backoff).await;
            continue;
        };
        let read_before = cleaner.totals();
        match cleaner.clean(&log, now, limit(&log)).await {
            Ok(outcome) => {
                let totals = cleaner.totals();
                with_local(|metrics| {
                    let c = &metrics.cleaner;
                    c.read_bytes.add(totals.bytes_read - read_before.bytes_read);
                    c.written_bytes
                        .add(totals.bytes_written - read_before.bytes_written);
                    c.passes.add(totals.passes - read_before.passes);
                    c.set_max_compaction_delay_ms(stats.compaction_delay_ms);
                });
                if let Some(outcome) = outcome {
                    tracing::debug!(shard = ctx.id(), log = %log.topic(), partition = log.partition(),
                        removed = outcome.records_removed, read = outcome.bytes_read,
                        written = outcome.bytes_written, "cleaned");
                }
            }
            Err(err) => {
                tracing::error!(shard = ctx.id(), topic = %log.topic(), partition = log.partition(),
                    "log cleaning failed: {err}");
                glommio::timer::sleep(backoff).await;
            }
        }
    }
}

/// A compacted partition's cleaner state for a metrics scrape.
pub fn log_state(partition: &Partition, now_ms: i64) -> Option<LogCleanerState> {
    let log = partition.log();
    let stats = log.cleanable_stats(now_ms, partition.last_stable_offset())?;
    Some(LogCleanerState {
        dirty_ratio: stats.dirty_ratio,
        since_last_clean_ms: log.last_clean_ms().map(|at| now_ms.saturating_sub(at)),
    })
}
