//! A cold read whose segment reader cannot be opened fails with a storage error (no panic, no
//! partial data), and the same read succeeds once the fault clears.

mod common;

use std::path::Path;
use std::rc::Rc;

use common::*;
use sluice_engine::storage::{Fault, FaultyStorage, MemStorage};
use sluice_engine::{LogManager, ReadChunk};

#[test]
fn cold_read_fails_cleanly_while_readers_cannot_open() {
    run(|| async {
        let storage = Rc::new(FaultyStorage::new(Rc::new(MemStorage::new())));
        let data_dir = Path::new("/mem/data");
        let config = log_config(16 * 1024);
        let manager = LogManager::with_storage(shard_config(data_dir), storage.clone());
        let log = manager
            .open_log("t", 0, config.clone())
            .await
            .expect("open");
        let written = fill(&log, 40, 700).await;
        manager.close_all().await.expect("close");
        drop(log);

        // Reopened: nothing is cached and no reader is open yet.
        let manager = LogManager::with_storage(shard_config(data_dir), storage.clone());
        let log = manager.open_log("t", 0, config).await.expect("reopen");
        storage.inject(Fault::ReaderOpenFails);
        assert!(log.read(0, 1 << 20, i64::MAX).await.is_err());
        assert!(storage.injected_count() > 0);

        storage.clear();
        let result = log.read(0, 1 << 20, i64::MAX).await.expect("read");
        assert!(matches!(result.chunks[0], ReadChunk::File(_)));
        assert_eq!(read_all(&log).await, written);
        manager.close_all().await.expect("close");
    });
}
