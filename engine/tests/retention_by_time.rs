//! Retention by time: sealed segments whose newest timestamp is older than `retention.ms` are
//! deleted, the log start offset advances to the first remaining batch, reads below it fail
//! with `OffsetOutOfRange`, and the active segment is never deleted.

mod common;

use common::*;
use sluice_engine::{LogManager, ReadError};

#[test]
fn segments_older_than_retention_ms_are_deleted_and_reads_below_start_fail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let mut config = log_config(16 * 1024);
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("rt", 0, config.clone())
            .await
            .expect("open");
        // Timestamps 1000 * (i + 1): batch i is "written" at second i + 1.
        let expected = fill(&log, 100, 400).await;
        let segments_before = log.segment_count();
        assert!(segments_before > 4);
        let now_ms = 1000 * 100 + 1;
        config.retention_ms = 50_000; // keep roughly the newest half
        log.set_config(config.clone());
        let deleted = manager.apply_retention(now_ms).await.expect("retention");
        assert!(deleted > 0);
        assert_eq!(log.segment_count(), segments_before - deleted);
        let start = log.log_start_offset();
        let first_kept = expected
            .iter()
            .position(|(base, _)| *base == start)
            .expect("start at a batch");
        // Every deleted batch is older than the cut-off; the first kept segment has a newer one.
        assert!(1000 * (first_kept as i64) < now_ms - config.retention_ms);
        assert_eq!(read_all(&log).await, expected[first_kept..].to_vec());
        match log.read(start - 1, 1024, i64::MAX).await {
            Err(ReadError::OffsetOutOfRange {
                offset,
                log_start_offset,
                ..
            }) => {
                assert_eq!(offset, start - 1);
                assert_eq!(log_start_offset, start);
            }
            other => panic!("expected OffsetOutOfRange, got {other:?}"),
        }
        // Everything expired: all sealed segments go, the active one stays.
        let deleted = manager
            .apply_retention(i64::MAX / 2)
            .await
            .expect("retention");
        assert!(deleted > 0);
        assert_eq!(log.segment_count(), 1);
        assert!(log.log_end_offset() > log.log_start_offset());
        manager.close_all().await.expect("close");
        drop(log);

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("rt", 0, config).await.expect("reopen");
        let start = log.log_start_offset();
        let first_kept = expected
            .iter()
            .position(|(base, _)| *base == start)
            .expect("start");
        assert_eq!(read_all(&log).await, expected[first_kept..].to_vec());
        manager.close_all().await.expect("close");
    });
}
