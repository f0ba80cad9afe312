//! ENOSPC through the storage seam: a flush and a pre-allocation that hit a full device fail
//! with `LogError::NoSpace`; appends are refused while the fault lasts and leave the log
//! unchanged; everything stays readable; once space is back, appends and flushes work and a
//! reopen finds every batch.

mod common;

use common::*;
use sluice_engine::storage::Fault;
use sluice_engine::{AppendError, LogError, LogManager};

#[test]
fn no_space_surfaces_as_errors_and_the_log_recovers_when_space_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(64 * 1024);
        let (manager, storage) = faulty_manager(&path);
        let log = manager
            .open_log("n", 0, config.clone())
            .await
            .expect("open");
        let mut expected = fill(&log, 10, 500).await;
        log.flush().await.expect("flush");

        storage.inject(Fault::NoSpace);
        expected.extend(fill(&log, 2, 500).await); // buffered: not yet written
        let end = log.log_end_offset();
        let err = log
            .flush()
            .await
            .expect_err("flush must fail on a full device");
        assert!(matches!(err, LogError::NoSpace { .. }), "{err:?}");
        assert!(log.flushed_offset() < end);
        assert_eq!(
            read_all(&log).await,
            expected,
            "appended data stays readable"
        );
        let refused = log
            .append(&[batch_of(1, 10, 1, 1)], 0)
            .await
            .expect_err("append must fail");
        assert!(
            matches!(refused, AppendError::Storage(LogError::NoSpace { .. })),
            "{refused:?}"
        );
        assert_eq!(
            log.log_end_offset(),
            end,
            "a refused append changes nothing"
        );
        assert!(storage.injected_count() > 0);

        storage.clear();
        expected.extend(fill(&log, 3, 500).await);
        assert_eq!(
            log.flush().await.expect("flush after space returns"),
            log.log_end_offset()
        );

        // Pre-allocation of a new segment hits ENOSPC: the append is refused, nothing changes.
        storage.inject(Fault::PreallocateNoSpace);
        let mut refused = None;
        for seed in 0..200u64 {
            let before = log.log_end_offset();
            match log.append(&[batch_of(4, 1000, seed, 5)], 0).await {
                Ok(info) => {
                    let mut stored = batch_of(4, 1000, seed, 5).to_vec();
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
        let refused = refused.expect("a roll needs pre-allocation within 200 appends");
        assert!(
            matches!(refused, AppendError::Storage(LogError::NoSpace { .. })),
            "{refused:?}"
        );
        storage.clear();
        expected.extend(fill(&log, 3, 500).await);
        assert_eq!(read_all(&log).await, expected);
        manager.close_all().await.expect("close");
        drop(log);

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("n", 0, config).await.expect("reopen");
        assert_eq!(read_all(&log).await, expected);
        manager.close_all().await.expect("close");
    });
}
