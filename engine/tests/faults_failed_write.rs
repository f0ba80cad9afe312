//! Failed writes (EIO) and failed fdatasync through the storage seam: flush reports the error
//! and does not advance the flushed offset, data stays readable, and the kept buffers are
//! written by the next flush once the fault clears.

mod common;

use common::*;
use sluice_engine::storage::Fault;
use sluice_engine::{AppendError, LogError, LogManager};

#[test]
fn failed_writes_and_syncs_are_errors_and_are_retried_after_the_fault_clears() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(1 << 20);
        let (manager, storage) = faulty_manager(&path);
        let log = manager
            .open_log("w", 0, config.clone())
            .await
            .expect("open");
        let mut expected = fill(&log, 5, 700).await;
        log.flush().await.expect("flush");

        storage.inject(Fault::WriteFails);
        // Appends fill chunks whose background writes fail; once a failure is seen, appends are
        // refused (nothing appended) until the failed buffers can be written.
        let mut refused = None;
        for seed in 0..400u64 {
            let before = log.log_end_offset();
            let sent = batch_of(2, 1500, seed, 7);
            match log.append(std::slice::from_ref(&sent), 0).await {
                Ok(info) => {
                    let mut stored = sent.to_vec();
                    sluice_engine::batch::set_base_offset(&mut stored, info.base_offset);
                    sluice_engine::batch::set_partition_leader_epoch(&mut stored, 0);
                    expected.push((info.base_offset, stored));
                }
                Err(err) => {
                    assert_eq!(log.log_end_offset(), before);
                    refused = Some(err);
                    break;
                }
            }
        }
        let refused = refused.expect("a failed background write must refuse later appends");
        assert!(
            matches!(refused, AppendError::Storage(LogError::Io { .. })),
            "{refused:?}"
        );
        let flushed_before = log.flushed_offset();
        let err = manager
            .flush_all()
            .await
            .expect_err("group commit reports the failure");
        assert!(matches!(err, LogError::Io { .. }), "{err:?}");
        assert_eq!(log.flushed_offset(), flushed_before);
        assert_eq!(read_all(&log).await, expected);
        storage.clear();
        assert_eq!(
            log.flush().await.expect("retry succeeds"),
            log.log_end_offset()
        );

        storage.inject(Fault::SyncFails);
        expected.extend(fill(&log, 4, 300).await);
        let err = log
            .flush()
            .await
            .expect_err("fdatasync failure is reported");
        assert!(matches!(err, LogError::Io { .. }), "{err:?}");
        assert!(log.flushed_offset() < log.log_end_offset());
        storage.clear();
        assert_eq!(log.flush().await.expect("flush"), log.log_end_offset());
        expected.extend(fill(&log, 2, 300).await);
        manager.close_all().await.expect("close");
        drop(log);

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("w", 0, config).await.expect("reopen");
        assert_eq!(read_all(&log).await, expected);
        manager.close_all().await.expect("close");
    });
}
