//! The log cleaner's metrics (Kafka's `kafka.log:type=LogCleaner` and
//! `LogCleanerManager`): bytes the shard's cleaner read and wrote, its passes, the largest
//! compaction delay it saw (how long past `max.compaction.lag.ms` a log waited), the dirty ratio
//! of each compacted log and the time since its last clean.

use std::fmt;

use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Unit;

use super::cell::{Counter, Gauge};
use super::scrape::ShardReport;

/// Written by the shard's cleaner task only.
#[derive(Debug, Default)]
pub struct CleanerMetrics {
    pub read_bytes: Counter,
    pub written_bytes: Counter,
    pub passes: Counter,
    /// Largest `max.compaction.lag.ms` overrun of the log taken by the last pass (ms).
    pub max_compaction_delay_ms: Gauge,
}

/// A scrape's copy of [`CleanerMetrics`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CleanerReport {
    pub read_bytes: u64,
    pub written_bytes: u64,
    pub passes: u64,
    pub max_compaction_delay_ms: i64,
}

impl CleanerMetrics {
    pub fn report(&self) -> CleanerReport {
        CleanerReport {
            read_bytes: self.read_bytes.get(),
            written_bytes: self.written_bytes.get(),
            passes: self.passes.get(),
            max_compaction_delay_ms: self.max_compaction_delay_ms.get(),
        }
    }

    /// Sets the gauge to `value` (the cell only adds).
    pub fn set_max_compaction_delay_ms(&self, value: i64) {
        let held = self.max_compaction_delay_ms.get();
        self.max_compaction_delay_ms.add(value - held);
    }
}

/// One compacted log's cleaner state at a scrape.
#[derive(Debug, Clone, Copy)]
pub struct LogCleanerState {
    pub dirty_ratio: f64,
    /// Milliseconds since the last pass over this log finished (None: none since open).
    pub since_last_clean_ms: Option<i64>,
}

pub fn encode(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    let label = |shard: usize| vec![("shard", shard.to_string())];
    let rows = |f: &dyn Fn(&CleanerReport) -> u64| -> Vec<_> {
        shards
            .iter()
            .map(|s| (label(s.shard), f(&s.cleaner) as f64))
            .collect()
    };
    let bytes = Some(&Unit::Bytes);
    super::exposition::counters(
        encoder,
        "log_cleaner_read",
        "Bytes the shard's log cleaner read (offset map, producer scan and rewrite).",
        bytes,
        &rows(&|c| c.read_bytes),
    )?;
    super::exposition::counters(
        encoder,
        "log_cleaner_written",
        "Bytes of cleaned segments the shard's log cleaner swapped in.",
        bytes,
        &rows(&|c| c.written_bytes),
    )?;
    super::exposition::counters(
        encoder,
        "log_cleaner_passes",
        "Cleaner passes over a log.",
        None,
        &rows(&|c| c.passes),
    )?;
    let delays: Vec<_> = shards
        .iter()
        .map(|s| (label(s.shard), s.cleaner.max_compaction_delay_ms / 1000))
        .collect();
    super::exposition::gauges(
        encoder,
        "log_cleaner_max_compaction_delay_seconds",
        "How long past max.compaction.lag.ms the log of the last pass waited (0: not overdue).",
        None,
        &delays,
    )?;
    let mut ratios = Vec::new();
    let mut ages = Vec::new();
    for state in shards.iter().filter_map(|s| s.state.as_ref()) {
        for p in &state.partitions {
            let Some(cleaner) = p.cleaner else { continue };
            let labels = vec![
                ("shard", state.shard.to_string()),
                ("topic", p.topic.clone()),
                ("partition", p.partition.to_string()),
            ];
            ratios.push((labels.clone(), cleaner.dirty_ratio));
            if let Some(ms) = cleaner.since_last_clean_ms {
                ages.push((labels, ms / 1000));
            }
        }
    }
    if !ratios.is_empty() {
        let mut metric = encoder.encode_descriptor(
            "log_cleaner_dirty_ratio",
            "Dirty bytes / cleanable bytes of each compacted log.",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for (labels, value) in &ratios {
            metric.encode_family(labels)?.encode_gauge(value)?;
        }
    }
    super::exposition::gauges(
        encoder,
        "log_cleaner_time_since_last_clean_seconds",
        "Seconds since the cleaner last finished a pass over each compacted log.",
        None,
        &ages,
    )
}
