//! Retention by size: the oldest sealed segments are deleted while the log is larger than
//! `retention.bytes`; the log start offset advances and survives a reopen.

mod common;

use common::*;
use sluice_engine::{LogManager, ReadError};

#[test]
fn oldest_segments_beyond_retention_bytes_are_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let mut config = log_config(16 * 1024);
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("rb", 2, config.clone())
            .await
            .expect("open");
        let expected = fill(&log, 150, 500).await;
        let size_before = log.size_bytes();
        config.retention_bytes = 40 * 1024;
        config.retention_ms = -1;
        log.set_config(config.clone());
        let deleted = manager.apply_retention(0).await.expect("retention");
        assert!(deleted > 0);
        let size_after = log.size_bytes();
        assert!(size_after < size_before);
        assert!(
            size_after as i64 >= config.retention_bytes,
            "never below the limit"
        );
        assert!(
            size_after as i64 - 16 * 1024 < config.retention_bytes,
            "at most one segment over"
        );
        let start = log.log_start_offset();
        assert!(start > 0);
        assert!(matches!(
            log.read(0, 100, i64::MAX).await,
            Err(ReadError::OffsetOutOfRange { .. })
        ));
        let first_kept = expected
            .iter()
            .position(|(base, _)| *base == start)
            .expect("start");
        assert_eq!(read_all(&log).await, expected[first_kept..].to_vec());
        assert_eq!(manager.apply_retention(0).await.expect("idempotent"), 0);
        manager.close_all().await.expect("close");
        drop(log);

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("rb", 2, config).await.expect("reopen");
        assert_eq!(log.log_start_offset(), start);
        manager.close_all().await.expect("close");
    });
}
