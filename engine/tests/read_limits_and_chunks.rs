//! Read semantics: whole batches only, at least one batch even above max_bytes, never a batch
//! at or above offset_limit, empty at the log end, OffsetOutOfRange past it; tail reads come
//! from the batch cache without copying, cold reads as file ranges.

mod common;

use common::*;
use sluice_engine::{LogManager, ReadChunk, ReadError, ShardEngineConfig};

#[test]
fn reads_respect_max_bytes_offset_limit_and_return_cached_or_file_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        // A cache of 64 KiB: early batches are evicted once written, the tail stays cached.
        let shard = ShardEngineConfig {
            batch_cache_bytes_max: 64 * 1024,
            ..shard_config(&path)
        };
        let manager = LogManager::new(shard);
        let log = manager
            .open_log("rl", 0, log_config(1 << 20))
            .await
            .expect("open");
        let expected = fill(&log, 200, 1000).await;
        log.flush().await.expect("flush"); // written, so no longer pinned
        fill(&log, 1, 1000).await; // an insert triggers eviction down to the budget
        assert!(manager.cache_bytes() <= 64 * 1024 + 2 * 1024);

        // max_bytes smaller than one batch: still exactly one whole batch.
        let one = log.read(expected[10].0, 1, i64::MAX).await.expect("read");
        let batches = split_batches(&read_bytes(&one).await);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0], expected[10]);
        assert!(
            matches!(one.chunks[0], ReadChunk::File(_)),
            "cold read is a file range"
        );

        // max_bytes of three batches: three whole batches, one merged file range.
        let three_bytes =
            (expected[10].1.len() + expected[11].1.len() + expected[12].1.len()) as u32;
        let three = log
            .read(expected[10].0, three_bytes + 5, i64::MAX)
            .await
            .expect("read");
        assert_eq!(
            split_batches(&read_bytes(&three).await),
            expected[10..13].to_vec()
        );
        assert_eq!(three.chunks.len(), 1);

        // offset_limit: nothing at or above it.
        let limited = log
            .read(expected[10].0, 1 << 20, expected[12].0)
            .await
            .expect("read");
        assert_eq!(
            split_batches(&read_bytes(&limited).await),
            expected[10..12].to_vec()
        );
        let at_limit = log
            .read(expected[12].0, 1 << 20, expected[12].0)
            .await
            .expect("read");
        assert!(at_limit.chunks.is_empty());

        // Tail: cached, zero-copy.
        let last = expected.len() - 1;
        let tail = log.read(expected[last].0, 1, i64::MAX).await.expect("read");
        assert!(
            matches!(tail.chunks[0], ReadChunk::Cached(_)),
            "tail read comes from the cache"
        );
        assert_eq!(split_batches(&read_bytes(&tail).await)[0], expected[last]);

        // A read spanning file and cache returns both kinds, in order.
        let all = log.read(0, u32::MAX, i64::MAX).await.expect("read");
        let got = split_batches(&read_bytes(&all).await);
        assert_eq!(got[..expected.len()], expected[..]);
        assert!(all.chunks.iter().any(|c| matches!(c, ReadChunk::File(_))));
        assert!(all.chunks.iter().any(|c| matches!(c, ReadChunk::Cached(_))));

        let end = log.log_end_offset();
        let empty = log.read(end, 1024, i64::MAX).await.expect("read at end");
        assert!(empty.chunks.is_empty());
        assert_eq!(empty.log_end_offset, end);
        assert!(matches!(
            log.read(end + 1, 1024, i64::MAX).await,
            Err(ReadError::OffsetOutOfRange { .. })
        ));
        manager.close_all().await.expect("close");
    });
}
