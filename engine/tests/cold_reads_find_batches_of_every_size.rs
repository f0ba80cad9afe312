//! Cold reads (file ranges) find every batch whatever the mix of batch sizes: small batches many
//! to a header window, large batches (whose headers are read one by one), and small ones right
//! after large ones. Every offset reads back its own batch and those after it.

mod common;

use common::*;
use sluice_engine::{LogManager, ReadChunk, ShardEngineConfig};

/// Value bytes of each batch, in log order: around the 4 KiB above which headers are read one
/// by one, around and far beyond the 16 KiB header window.
const VALUE_BYTES: [usize; 16] = [
    100, 40_000, 100, 100, 4_000, 4_100, 16_300, 16_384, 17_000, 200, 70_000, 65_000, 50, 10,
    3_000, 33_000,
];

#[test]
fn cold_reads_find_batches_of_every_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        // A cache far smaller than one large batch: everything written reads from the file.
        let shard = ShardEngineConfig {
            batch_cache_bytes_max: 4 * 1024,
            ..shard_config(&path)
        };
        let manager = LogManager::new(shard);
        let log = manager
            .open_log("sizes", 0, log_config(1 << 30))
            .await
            .expect("open");
        let mut expected = Vec::new();
        for (i, value_bytes) in VALUE_BYTES.iter().enumerate() {
            let sent = batch_of((i % 3) as i32 + 1, *value_bytes, i as u64, 1_000);
            expected.push(append_as_stored(&log, &sent).await);
        }
        log.flush().await.expect("flush");
        // An insert triggers eviction down to the budget.
        let sent = batch_of(1, 10, 99, 1_000);
        append_as_stored(&log, &sent).await;

        for (i, (base_offset, _)) in expected.iter().enumerate() {
            let read = log
                .read(*base_offset, u32::MAX, i64::MAX)
                .await
                .expect("read");
            assert!(
                matches!(read.chunks[0], ReadChunk::File(_)),
                "batch {i} is read from the file"
            );
            let got = split_batches(&read_bytes(&read).await);
            assert_eq!(got[..expected.len() - i], expected[i..], "from batch {i}");
        }
    });
}
