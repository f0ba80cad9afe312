//! LogLoaderTest-style: random garbage (1..=1024 bytes) appended to the active segment and to
//! its index is dropped on reopen; every valid batch stays intact (10 rounds).

mod common;

use std::io::Write;

use common::*;
use sluice_engine::LogManager;

#[test]
fn garbage_after_the_last_batch_and_in_the_index_is_removed_on_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
        let config = log_config(32 * 1024);
        let partition_dir = path.join("g-0");
        let mut expected = Vec::new();
        for round in 0..10 {
            let manager = LogManager::new(shard_config(&path));
            let log = manager
                .open_log("g", 0, config.clone())
                .await
                .expect("open");
            assert_eq!(
                read_all(&log).await,
                expected,
                "round {round}: log differs after reopen"
            );
            expected.extend(
                fill(
                    &log,
                    5 + rng.below(20) as usize,
                    200 + rng.below(600) as usize,
                )
                .await,
            );
            let end = log.log_end_offset();
            manager.close_all().await.expect("close");
            drop(log);

            let active = files_with_suffix(&partition_dir, ".log")
                .pop()
                .expect("active segment");
            let index = active.with_extension("index");
            for file in [&active, &index] {
                let garbage: Vec<u8> = (0..1 + rng.below(1024)).map(|_| rng.next() as u8).collect();
                let mut handle = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(file)
                    .expect("open");
                handle.write_all(&garbage).expect("garbage");
            }
            let manager = LogManager::new(shard_config(&path));
            let log = manager
                .open_log("g", 0, config.clone())
                .await
                .expect("reopen");
            assert_eq!(log.log_end_offset(), end, "round {round}");
            assert_eq!(read_all(&log).await, expected, "round {round}");
            let logical: u64 = log.size_bytes();
            manager.close_all().await.expect("close");
            drop(log);
            let physical: u64 = files_with_suffix(&partition_dir, ".log")
                .iter()
                .map(|file| std::fs::metadata(file).expect("metadata").len())
                .sum();
            assert_eq!(physical, logical, "round {round}: garbage left on disk");
        }
    });
}
