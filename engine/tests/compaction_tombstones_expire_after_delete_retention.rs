//! A tombstone stays for `delete.retention.ms` after the pass that first keeps it (its batch
//! gets the delete horizon, KIP-534), and the first pass after the horizon removes it. The
//! values it deleted are gone from the first pass on.

mod common;

use common::keyed::*;
use common::*;
use sluice_engine::batch::{self, CountRule};
use sluice_engine::compaction::{Cleaner, CleanerConfig, ATTRIBUTE_DELETE_HORIZON};
use sluice_engine::{CompactionConfig, LogManager};

const DELETE_RETENTION_MS: i64 = 1000;

#[test]
fn tombstones_stay_until_the_delete_horizon_then_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let compaction = CompactionConfig {
            delete_retention_ms: DELETE_RETENTION_MS,
            ..CompactionConfig::default()
        };
        // segment.ms = 1 with a clock that moves 1 ms per append: every batch rolls.
        let config = sluice_engine::LogConfig {
            segment_ms: 1,
            ..compacted_log_config(16 * 1024, compaction)
        };
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("t", 0, config.clone())
            .await
            .expect("open");
        let mut history = Vec::new();
        let writes = [
            vec![put("a", "1"), put("b", "1"), put("c", "1")],
            vec![tombstone("a"), put("d", "1"), tombstone("b")],
            vec![put("e", "active")],
        ];
        for (i, puts) in writes.iter().enumerate() {
            append_keyed(&log, &mut history, puts, 0, 100 + i as i64).await;
        }
        let cleaner = Cleaner::new(CleanerConfig::default());
        let first_pass_ms = 10_000;
        cleaner
            .clean(&log, first_pass_ms, i64::MAX)
            .await
            .expect("clean")
            .expect("dirty");
        let served = served_records(&log).await;
        let keys = |served: &[Served]| -> Vec<(String, bool)> {
            served
                .iter()
                .map(|r| {
                    let key = String::from_utf8(r.key.clone().expect("key")).expect("utf8");
                    (key, r.value.is_none())
                })
                .collect()
        };
        let expected = [
            ("c", false),
            ("a", true),
            ("d", false),
            ("b", true),
            ("e", false),
        ];
        let expected: Vec<(String, bool)> =
            expected.iter().map(|(k, t)| (k.to_string(), *t)).collect();
        assert_eq!(keys(&served), expected, "values deleted, tombstones kept");
        let tombstone_batch = batches_served(&log)
            .await
            .into_iter()
            .map(|bytes| batch::validate(&bytes, CountRule::Compacted).expect("valid"))
            .find(|header| header.base_offset == 3)
            .expect("the tombstones' batch");
        assert_ne!(tombstone_batch.attributes & ATTRIBUTE_DELETE_HORIZON, 0);
        assert_eq!(
            tombstone_batch.base_timestamp,
            first_pass_ms + DELETE_RETENTION_MS
        );
        let tombstone = served
            .iter()
            .find(|r| r.offset == 3)
            .expect("a's tombstone");
        assert_eq!(
            tombstone.timestamp, 101,
            "record timestamps survive the new base"
        );

        let before_horizon = first_pass_ms + DELETE_RETENTION_MS - 1;
        let stats = log
            .cleanable_stats(before_horizon, i64::MAX)
            .expect("compacted");
        assert!(!stats.delete_horizon_due && !stats.cleanable);
        assert!(cleaner
            .clean(&log, before_horizon, i64::MAX)
            .await
            .expect("clean")
            .is_none());
        assert_eq!(
            served_records(&log).await,
            served,
            "nothing changes before the horizon"
        );

        let at_horizon = first_pass_ms + DELETE_RETENTION_MS;
        let stats = log
            .cleanable_stats(at_horizon, i64::MAX)
            .expect("compacted");
        assert!(stats.delete_horizon_due && stats.cleanable);
        cleaner
            .clean(&log, at_horizon, i64::MAX)
            .await
            .expect("clean")
            .expect("a tombstone was due");
        let after: Vec<(String, bool)> = keys(&served_records(&log).await);
        let expected: Vec<(String, bool)> = [("c", false), ("d", false), ("e", false)]
            .iter()
            .map(|(k, t)| (k.to_string(), *t))
            .collect();
        assert_eq!(
            after, expected,
            "tombstones removed after delete.retention.ms"
        );
        manager.close_all().await.expect("close");

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("t", 0, config).await.expect("reopen");
        assert_eq!(keys(&served_records(&log).await), expected);
        manager.close_all().await.expect("close");
    });
}
