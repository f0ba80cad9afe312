//! Short writes through the storage seam are detected (the written length is checked), reported
//! by flush, and repaired by rewriting the whole buffer once the fault clears.

mod common;

use common::*;
use sluice_engine::storage::Fault;
use sluice_engine::LogManager;

#[test]
fn short_writes_are_reported_and_rewritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(1 << 20);
        let (manager, storage) = faulty_manager(&path);
        let log = manager
            .open_log("s", 0, config.clone())
            .await
            .expect("open");
        let mut expected = fill(&log, 3, 400).await;
        log.flush().await.expect("flush");
        storage.inject(Fault::ShortWrite);
        expected.extend(fill(&log, 20, 900).await);
        let err = log
            .flush()
            .await
            .expect_err("short write must not pass as durable");
        assert!(err.to_string().contains("short write"), "{err}");
        assert_eq!(read_all(&log).await, expected);
        storage.clear();
        assert_eq!(log.flush().await.expect("rewrite"), log.log_end_offset());
        drop(log);
        drop(manager); // crash right after the successful flush

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("s", 0, config).await.expect("reopen");
        assert_eq!(read_all(&log).await, expected);
        manager.close_all().await.expect("close");
    });
}
