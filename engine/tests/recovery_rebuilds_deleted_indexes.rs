//! LogLoaderTest-style: with every index file deleted, reopen rebuilds them and offset and
//! timestamp lookups still work.

mod common;

use common::*;
use sluice_engine::LogManager;

#[test]
fn offset_and_timestamp_lookups_work_after_all_index_files_are_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = log_config(16 * 1024);
        let manager = LogManager::new(shard_config(&path));
        let log = manager
            .open_log("i", 1, config.clone())
            .await
            .expect("open");
        let expected = fill(&log, 120, 300).await;
        assert!(log.segment_count() > 3);
        manager.close_all().await.expect("close");
        drop(log);
        let partition_dir = path.join("i-1");
        let mut deleted = 0;
        for suffix in [".index", ".timeindex"] {
            for file in files_with_suffix(&partition_dir, suffix) {
                std::fs::remove_file(file).expect("remove");
                deleted += 1;
            }
        }
        assert!(deleted >= 6);

        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("i", 1, config).await.expect("reopen");
        assert_eq!(read_all(&log).await, expected);
        for (i, (base, _)) in expected.iter().enumerate() {
            let ts = 1000 * (i as i64 + 1);
            // Batch i's max timestamp is ts + records - 1; a lookup of ts finds batch i.
            let found = log.offset_for_timestamp(ts).await.expect("lookup");
            assert_eq!(
                found.map(|(offset, _)| offset),
                Some(*base),
                "timestamp {ts}"
            );
            let read = log.read(*base, 1, i64::MAX).await.expect("read");
            assert_eq!(split_batches(&read_bytes(&read).await)[0].0, *base);
        }
        assert_eq!(
            log.offset_for_timestamp(i64::MAX).await.expect("lookup"),
            None
        );
        assert!(
            !files_with_suffix(&partition_dir, ".index").is_empty(),
            "indexes rewritten"
        );
        manager.close_all().await.expect("close");
    });
}
