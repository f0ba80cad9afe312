//! Group commit: `flush_all` flushes every dirty partition of the shard in one concurrent
//! round; concurrent `flush` callers on one log coalesce and all see their data durable.

mod common;

use common::*;
use sluice_engine::LogManager;

#[test]
fn flush_all_makes_every_partition_durable_and_concurrent_flushes_coalesce() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let mut logs = Vec::new();
        for partition in 0..16 {
            let log = manager
                .open_log("gc", partition, log_config(1 << 20))
                .await
                .expect("open");
            fill(&log, 5, 300).await;
            assert!(log.needs_flush());
            logs.push(log);
        }
        manager.flush_all().await.expect("flush_all");
        for log in &logs {
            assert!(!log.needs_flush());
            assert_eq!(log.flushed_offset(), log.log_end_offset());
        }

        // Many concurrent flushers of one log, interleaved with appends.
        let log = logs[0].clone();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let log = log.clone();
            tasks.push(glommio::spawn_local(async move {
                let appended = log
                    .append(&[batch_of(1, 100, i, 1)], 0)
                    .await
                    .expect("append");
                let durable = log.flush().await.expect("flush");
                assert!(
                    durable > appended.last_offset,
                    "flush covers the caller's append"
                );
            }));
        }
        for task in tasks {
            task.await;
        }
        assert_eq!(log.flushed_offset(), log.log_end_offset());
        drop(logs);
        drop(log);
        drop(manager); // crash: everything flushed must be there

        let manager = LogManager::new(shard_config(&path));
        for partition in 0..16 {
            let log = manager
                .open_log("gc", partition, log_config(1 << 20))
                .await
                .expect("reopen");
            // fill(5) appends batches of 1, 2, 3, 4 and 1 records: 11 offsets.
            assert_eq!(
                log.log_end_offset(),
                if partition == 0 { 11 + 8 } else { 11 }
            );
        }
        manager.close_all().await.expect("close");
    });
}
