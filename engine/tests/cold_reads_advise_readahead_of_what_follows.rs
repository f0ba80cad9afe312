//! A cold read that stops at its byte limit inside a segment file asks the storage to read ahead
//! what follows (`SegmentReader::will_need`): from the first batch left out, two reads' worth,
//! never past the segment's end nor into batches that are only in the cache. A read that ends at
//! its offset limit asks for nothing. Reader faults during the header scan fail the read cleanly.

mod common;

use std::path::Path;
use std::rc::Rc;

use common::*;
use sluice_engine::storage::{Fault, FaultyStorage, MemStorage};
use sluice_engine::{LogManager, PartitionLog, ReadChunk};

const MAX_BYTES: u32 = 4096;

/// File position of each batch of a one-segment log, and the segment's size.
fn positions(written: &[(i64, Vec<u8>)]) -> (Vec<u64>, u64) {
    let mut at = Vec::new();
    let mut position = 0u64;
    for (_, bytes) in written {
        at.push(position);
        position += bytes.len() as u64;
    }
    (at, position)
}

/// A log of 40 batches of 0.8 to 2.9 KB written and reopened: nothing cached, one segment.
async fn cold_log(
    storage: &Rc<FaultyStorage>,
) -> (Rc<LogManager>, Rc<PartitionLog>, Vec<(i64, Vec<u8>)>) {
    let data_dir = Path::new("/mem/data");
    let config = log_config(1 << 20);
    let manager = LogManager::with_storage(shard_config(data_dir), storage.clone());
    let log = manager
        .open_log("t", 0, config.clone())
        .await
        .expect("open");
    let written = fill(&log, 40, 700).await;
    manager.close_all().await.expect("close");
    drop(log);
    let manager = LogManager::with_storage(shard_config(data_dir), storage.clone());
    let log = manager.open_log("t", 0, config).await.expect("reopen");
    (manager, log, written)
}

#[test]
fn a_read_stopped_by_its_byte_limit_asks_for_the_next_two_reads() {
    run(|| async {
        let storage = Rc::new(FaultyStorage::new(Rc::new(MemStorage::new())));
        let (manager, log, written) = cold_log(&storage).await;
        let (at, segment_bytes) = positions(&written);

        let read = log.read(0, MAX_BYTES, i64::MAX).await.expect("read");
        assert!(matches!(read.chunks[0], ReadChunk::File(_)));
        let left_out = written
            .iter()
            .position(|(base, _)| *base == read.next_offset);
        let left_out = left_out.expect("the read stops at a batch boundary");
        assert_eq!(at[left_out], u64::from(read.bytes));
        assert_eq!(
            storage.advised(),
            vec![(u64::from(read.bytes), 2 * u64::from(MAX_BYTES))]
        );

        // Near the segment's end the advice stops at the end (batches are 0.8 to 2.9 KB: the
        // read returns one or two of the last three).
        let from = written.len() - 3;
        let read = log
            .read(written[from].0, MAX_BYTES, i64::MAX)
            .await
            .expect("read");
        let left_out = written
            .iter()
            .position(|(base, _)| *base == read.next_offset);
        let left_out = left_out.expect("the read stops at a batch boundary");
        assert!(segment_bytes - at[left_out] < 2 * u64::from(MAX_BYTES));
        let advice = *storage.advised().last().expect("advice");
        assert_eq!(advice, (at[left_out], segment_bytes - at[left_out]));

        // A read that reaches its offset limit (a high watermark) asks for nothing.
        let advised_before = storage.advised().len();
        let limit = written[2].0;
        let read = log.read(0, MAX_BYTES, limit).await.expect("read");
        assert_eq!(read.next_offset, limit);
        assert_eq!(storage.advised().len(), advised_before);
        manager.close_all().await.expect("close");
    });
}

#[test]
fn readahead_never_reaches_batches_only_in_the_cache() {
    run(|| async {
        let storage = Rc::new(FaultyStorage::new(Rc::new(MemStorage::new())));
        let (manager, log, written) = cold_log(&storage).await;
        let (_, file_bytes) = positions(&written);
        // Appended after the reopen: in the cache, above the file data read cold.
        let cached = fill(&log, 8, 700).await;
        let first_cached = log.read(cached[0].0, 1, i64::MAX).await.expect("read");
        assert!(matches!(first_cached.chunks[0], ReadChunk::Cached(_)));

        // Batches 36, 37, 38, 39 are 0.8, 1.5, 2.2 and 2.9 KB: the read returns 36 and 37 and
        // stops at 38, so two reads' worth from there (6 KB) would reach the cached batches.
        let from = written.len() - 4;
        let read = log
            .read(written[from].0, 3000, i64::MAX)
            .await
            .expect("read");
        assert_eq!(read.next_offset, written[from + 2].0);
        assert!(read.next_offset < cached[0].0);
        let (position, len) = *storage.advised().last().expect("advice");
        assert!(len > 0);
        assert!(
            position + len <= file_bytes,
            "advice {position}+{len} reaches the cached batches at {file_bytes}"
        );
        manager.close_all().await.expect("close");
    });
}

#[test]
fn a_reader_fault_during_the_header_scan_fails_the_read_without_a_panic() {
    run(|| async {
        let storage = Rc::new(FaultyStorage::new(Rc::new(MemStorage::new())));
        let (manager, log, written) = cold_log(&storage).await;
        storage.inject(Fault::ReaderReadFails);
        assert!(log.read(written[5].0, MAX_BYTES, i64::MAX).await.is_err());
        assert!(storage.injected_count() > 0);
        storage.clear();
        assert_eq!(read_all(&log).await, written);
        manager.close_all().await.expect("close");
    });
}
