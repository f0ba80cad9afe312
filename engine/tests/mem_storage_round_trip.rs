//! The engine runs whole on `MemStorage`: appended batches read back byte-exact across flushes,
//! segment rolls and a clean close and reopen, and cold reads come back as file ranges that
//! have no fd (the server copies them instead of using sendfile).

mod common;

use std::path::Path;
use std::rc::Rc;

use common::*;
use sluice_engine::storage::MemStorage;
use sluice_engine::{LogManager, ReadChunk};

const BATCHES: u64 = 300;

#[test]
fn appended_batches_read_back_across_rolls_and_reopen_in_memory() {
    run(|| async {
        let mem = Rc::new(MemStorage::new());
        let data_dir = Path::new("/mem/data");
        let config = log_config(32 * 1024);
        let manager = LogManager::with_storage(shard_config(data_dir), mem.clone());
        let log = manager
            .open_log("t", 0, config.clone())
            .await
            .expect("open");
        let mut sent = Vec::new();
        for i in 0..BATCHES {
            let records = (i % 5 + 1) as i32;
            let batch = batch_of(records, 50 + (i as usize * 37) % 700, i, 1_000 + i as i64);
            let info = log
                .append(std::slice::from_ref(&batch), 5_000)
                .await
                .expect("append");
            sent.push((info.base_offset, batch));
            if i % 13 == 0 {
                assert_eq!(log.flush().await.expect("flush"), log.log_end_offset());
            }
        }
        assert!(log.segment_count() > 3, "segments should have rolled");
        let check = |got: Vec<(i64, Vec<u8>)>| assert_same_batches(&got, &sent);
        check(read_all(&log).await);

        let end = log.log_end_offset();
        manager.close_all().await.expect("close");
        drop(log);
        let segment_files = mem
            .file_paths()
            .iter()
            .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
            .count();
        assert!(segment_files > 3, "{segment_files} segment files");

        let manager = LogManager::with_storage(shard_config(data_dir), mem.clone());
        let log = manager.open_log("t", 0, config).await.expect("reopen");
        assert_eq!(log.log_end_offset(), end);
        assert_eq!(log.flushed_offset(), end);
        // After a reopen nothing is cached: reads are ranges of in-memory files.
        let cold = log.read(0, 1 << 20, i64::MAX).await.expect("cold read");
        let ReadChunk::File(range) = &cold.chunks[0] else {
            panic!("a sealed segment should be read as a file range");
        };
        assert!(range.file.std_file().is_none());
        assert!(range.try_clone_fd().expect("no fd to clone").is_none());
        let bytes = cold.chunks[0].to_bytes().await.expect("copy the range");
        assert_eq!(bytes.len(), range.len as usize);
        assert_eq!(split_batches(&bytes)[0].0, 0);
        check(read_all(&log).await);
        manager.close_all().await.expect("close");
    });
}
