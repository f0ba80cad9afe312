//! The recovery point never runs ahead of what was flushed, and after a crash (the process
//! state dropped without close) the log reopens at the flushed end: unflushed appends that
//! never reached the disk are gone, flushed ones are intact.

mod common;

use common::*;
use sluice_engine::LogManager;

#[test]
fn recovery_point_does_not_advance_without_flush_and_log_reopens_at_flushed_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(1 << 20);
        let partition_dir = path.join("r-0");
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("r", 0, config.clone())
            .await
            .expect("open");
        assert_eq!(stored_recovery_point(&partition_dir), 0);
        let flushed = fill(&log, 20, 100).await;
        assert_eq!(log.flushed_offset(), 0, "append alone is not durable");
        assert_eq!(stored_recovery_point(&partition_dir), 0);
        let end = log.flush().await.expect("flush");
        assert_eq!(end, log.log_end_offset());
        assert_eq!(log.flushed_offset(), end);
        assert!(stored_recovery_point(&partition_dir) <= log.flushed_offset());

        // Small unflushed appends stay in the write-behind buffer: a crash loses them.
        fill(&log, 3, 100).await;
        assert!(log.log_end_offset() > end);
        assert_eq!(log.flushed_offset(), end);
        assert!(stored_recovery_point(&partition_dir) <= end);
        drop(log);
        drop(manager); // crash: no close, no flush

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("r", 0, config).await.expect("reopen");
        assert_eq!(log.log_end_offset(), end);
        assert_eq!(log.flushed_offset(), end);
        assert_eq!(read_all(&log).await, flushed);
        assert_eq!(stored_recovery_point(&partition_dir), end);
        manager.close_all().await.expect("close");
    });
}
