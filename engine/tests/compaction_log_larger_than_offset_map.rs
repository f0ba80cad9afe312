//! A log with more keys than the offset map holds is cleaned a prefix per pass: each pass
//! stops where the map filled, checkpoints there, and the next continues, until every sealed
//! segment is clean and holds each key's latest record only.

mod common;

use common::keyed::*;
use common::*;
use sluice_engine::compaction::offset_map::{SLOTS_MIN, SLOT_BYTES};
use sluice_engine::compaction::{Cleaner, CleanerConfig};
use sluice_engine::{CompactionConfig, LogManager};

const KEYS: usize = 3000;
const PASSES_MAX: usize = 20;

#[test]
fn a_log_larger_than_the_offset_map_is_cleaned_over_several_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = compacted_log_config(16 * 1024, CompactionConfig::default());
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("m", 0, config).await.expect("open");
        let mut history = Vec::new();
        for round in 0..2 {
            for chunk in 0..KEYS / 10 {
                let puts: Vec<Put> = (chunk * 10..chunk * 10 + 10)
                    .map(|key| put(&format!("key-{key:05}"), &format!("{round}-{key:0>40}")))
                    .collect();
                append_keyed(&log, &mut history, &puts, 0, 1000).await;
            }
        }
        append_keyed(&log, &mut history, &[put("tail", "active")], 0, 1000).await;
        let cleaner = Cleaner::new(CleanerConfig {
            dedupe_buffer_bytes: SLOTS_MIN * SLOT_BYTES,
            ..CleanerConfig::default()
        });
        let entries_max = cleaner.map_entries_max().await;
        assert!(
            entries_max * 3 < KEYS,
            "the map holds a third of the keys at most"
        );
        let mut passes = 0;
        let mut checkpoints = Vec::new();
        while let Some(outcome) = cleaner.clean(&log, 10_000, i64::MAX).await.expect("clean") {
            passes += 1;
            assert!(passes <= PASSES_MAX, "cleaning converges");
            checkpoints.push(outcome.first_dirty_offset);
        }
        assert!(passes > 2, "several passes: {checkpoints:?}");
        assert!(
            checkpoints.windows(2).all(|w| w[0] < w[1]),
            "each pass moves on"
        );
        let stats = log.cleanable_stats(10_000, i64::MAX).expect("compacted");
        assert_eq!(stats.dirty_bytes, 0);
        let latest = latest_per_key(&history);
        let served = served_records(&log).await;
        assert_eq!(served.len(), latest.len(), "one record per key");
        for record in served {
            let key = record.key.expect("keyed");
            assert_eq!(
                latest[&key].0, record.offset,
                "the latest record of {key:?}"
            );
            assert_eq!(latest[&key].1, record.value);
        }
        manager.close_all().await.expect("close");
    });
}
