//! Appended batches read back byte-exact (with assigned offsets), before and after a clean
//! close and reopen, across segment rolls.

mod common;

use common::*;
use sluice_engine::LogManager;

#[test]
fn appended_batches_read_back_before_and_after_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("t", 0, log_config(64 * 1024))
            .await
            .expect("open");
        let mut sent = Vec::new();
        for i in 0..200u64 {
            let records = (i % 5 + 1) as i32;
            let batch = batch_of(records, 100 + (i as usize * 37) % 900, i, 1_000 + i as i64);
            let info = log
                .append(std::slice::from_ref(&batch), 5_000)
                .await
                .expect("append");
            assert_eq!(info.last_offset - info.base_offset + 1, records as i64);
            sent.push((info.base_offset, batch));
            if i % 17 == 0 {
                log.flush().await.expect("flush");
            }
        }
        assert!(log.segment_count() > 2, "segments should have rolled");
        let check = |got: Vec<(i64, Vec<u8>)>| assert_same_batches(&got, &sent);
        check(read_all(&log).await);
        let end = log.log_end_offset();
        manager.close_all().await.expect("close");
        drop(log);
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("t", 0, log_config(64 * 1024))
            .await
            .expect("reopen");
        assert_eq!(log.log_end_offset(), end);
        assert_eq!(log.flushed_offset(), end);
        check(read_all(&log).await);
        manager.close_all().await.expect("close");
    });
}
