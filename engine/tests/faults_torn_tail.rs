//! A torn tail: the device persisted only the first block of the last write, then the process
//! died. Recovery keeps every flushed batch and cuts the log at the first torn batch.

mod common;

use common::*;
use sluice_engine::storage::Fault;
use sluice_engine::LogManager;

#[test]
fn torn_tail_write_is_truncated_on_recovery_and_flushed_data_survives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(1 << 20);
        let (manager, storage) = faulty_manager(&path);
        let log = manager
            .open_log("t", 0, config.clone())
            .await
            .expect("open");
        let flushed = fill(&log, 7, 900).await;
        let flushed_end = log.flush().await.expect("flush");
        storage.inject(Fault::TornWrite);
        let unflushed = fill(&log, 6, 3000).await;
        assert!(log.flush().await.is_err(), "torn write reported");
        drop(log);
        drop(manager); // the process dies with a torn tail on disk

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("t", 0, config).await.expect("reopen");
        let recovered = read_all(&log).await;
        assert!(log.log_end_offset() >= flushed_end);
        assert_eq!(recovered[..flushed.len()], flushed[..]);
        // Whatever survived past the flush point is a whole prefix of what was appended.
        let extra = &recovered[flushed.len()..];
        assert!(
            extra.len() < unflushed.len(),
            "the torn part cannot all be there"
        );
        assert_eq!(extra, &unflushed[..extra.len()]);
        manager.close_all().await.expect("close");
    });
}
