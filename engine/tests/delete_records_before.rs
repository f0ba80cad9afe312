//! DeleteRecords: `delete_records_before` moves the log start offset (durably), deletes sealed
//! segments wholly below it, and reads below it fail.

mod common;

use common::*;
use sluice_engine::{LogError, LogManager, ReadError};

#[test]
fn delete_records_moves_the_log_start_and_drops_whole_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(16 * 1024);
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("dr", 0, config.clone())
            .await
            .expect("open");
        let expected = fill(&log, 100, 400).await;
        let segments_before = log.segment_count();
        let target = expected[70].0 + 1; // inside batch 70 when it has > 1 record
        log.delete_records_before(target)
            .await
            .expect("delete records");
        assert_eq!(log.log_start_offset(), target);
        assert!(log.segment_count() < segments_before);
        assert!(matches!(
            log.read(target - 1, 100, i64::MAX).await,
            Err(ReadError::OffsetOutOfRange { .. })
        ));
        let read = log.read(target, 1, i64::MAX).await.expect("read at start");
        let first = split_batches(&read_bytes(&read).await);
        assert!(first[0].0 <= target);
        let beyond = log.delete_records_before(log.log_end_offset() + 1).await;
        assert!(matches!(beyond, Err(LogError::InvalidArgument { .. })));
        manager.close_all().await.expect("close");
        drop(log);

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("dr", 0, config).await.expect("reopen");
        assert_eq!(log.log_start_offset(), target);
        manager.close_all().await.expect("close");
    });
}
