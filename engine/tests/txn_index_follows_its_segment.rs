//! The aborted-transaction index (`.txnindex`) on real files: entries land in the segment of
//! their marker, lookups return what overlaps a range (and stop early on the stable offset),
//! truncation cuts them, retention and DeleteRecords delete them with their segment, a reopen
//! loads them, a crash drops entries whose marker was lost, and a damaged file is reported.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::rc::Rc;

use common::*;
use sluice_engine::{AbortedTxn, LogManager, PartitionLog, TXN_INDEX_SUFFIX};

const RECORDS: i32 = 4;

async fn fill(log: &PartitionLog, batches: usize) {
    for i in 0..batches {
        log.append(&[batch_of(RECORDS, 600, i as u64, 1_000)], 1_000)
            .await
            .unwrap();
    }
}

fn entry(producer_id: i64, first_offset: i64, last_offset: i64, lso: i64) -> AbortedTxn {
    AbortedTxn {
        producer_id,
        first_offset,
        last_offset,
        last_stable_offset: lso,
    }
}

fn txn_files(dir: &Path) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(dir.join("t-0"))
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            name.ends_with(&format!(".{TXN_INDEX_SUFFIX}"))
                .then(|| (name, entry.metadata().unwrap().len()))
        })
        .collect();
    files.sort();
    files
}

async fn open(manager: &Rc<LogManager>) -> Rc<PartitionLog> {
    manager
        .open_log("t", 0, log_config(8 * 1024))
        .await
        .unwrap()
}

#[test]
fn entries_go_to_the_marker_segment_and_lookups_return_the_overlapping_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = open(&manager).await;
        fill(&log, 40).await;
        assert!(log.segment_count() >= 3, "small segments roll");
        let a = entry(1, 0, 10, 11);
        let b = entry(2, 8, 60, 20);
        let c = entry(3, 20, 120, 121);
        for e in [a, b, c] {
            log.append_aborted_txn(e).await.unwrap();
        }
        // Appending the same entry again changes nothing; an older marker is refused.
        log.append_aborted_txn(c).await.unwrap();
        assert!(log.append_aborted_txn(entry(4, 0, 5, 6)).await.is_err());
        assert!(
            log.append_aborted_txn(entry(4, 0, 10_000, 6))
                .await
                .is_err(),
            "past the end"
        );
        assert_eq!(log.aborted_txns(), vec![a, b, c]);
        let files = txn_files(&path);
        assert!(
            files.len() >= 2,
            "markers 10 and 120 are in different segments: {files:?}"
        );
        let total: u64 = files.iter().map(|(_, len)| len).sum();
        assert_eq!(total, 3 * 34, "Kafka's 34-byte entries");

        assert_eq!(log.collect_aborted_txns(0, 160), vec![a, b, c]);
        assert_eq!(log.collect_aborted_txns(11, 160), vec![b, c]);
        // [11, 15): b overlaps (8..=60); a ended before 11; c starts at 20, and a's stable
        // offset is below 15 so the lookup goes on to b, whose stable offset 20 ends it.
        assert_eq!(log.collect_aborted_txns(11, 15), vec![b]);
        assert_eq!(log.collect_aborted_txns(61, 100), vec![c]);
        assert_eq!(log.collect_aborted_txns(121, 160), vec![]);
        manager.close_all().await.unwrap();

        // A clean reopen has the same entries.
        let manager = LogManager::new(shard_config(&path));
        let log = open(&manager).await;
        assert_eq!(log.aborted_txns(), vec![a, b, c]);
        assert!(!log.txn_index_damaged());
        manager.close_all().await.unwrap();
    });
}

#[test]
fn truncation_cuts_the_index_and_a_full_restart_empties_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = open(&manager).await;
        fill(&log, 40).await;
        let (a, b, c) = (
            entry(1, 0, 10, 11),
            entry(2, 8, 60, 61),
            entry(3, 100, 130, 131),
        );
        for e in [a, b, c] {
            log.append_aborted_txn(e).await.unwrap();
        }
        log.truncate_to(61).await.unwrap();
        assert!(log.log_end_offset() <= 61);
        let end = log.log_end_offset();
        let kept: Vec<_> = [a, b].into_iter().filter(|e| e.last_offset < end).collect();
        assert_eq!(log.aborted_txns(), kept);
        log.truncate_aborted_txns_from(11).await.unwrap();
        assert_eq!(log.aborted_txns(), vec![a]);
        log.truncate_fully_and_start_at(500).await.unwrap();
        assert_eq!(log.aborted_txns(), vec![]);
        assert_eq!(txn_files(&path), vec![]);
        manager.close_all().await.unwrap();
        let manager = LogManager::new(shard_config(&path));
        let log = open(&manager).await;
        assert_eq!(log.aborted_txns(), vec![]);
        manager.close_all().await.unwrap();
    });
}

#[test]
fn retention_and_delete_records_delete_the_index_with_its_segment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = open(&manager).await;
        fill(&log, 40).await;
        let (a, b) = (entry(1, 0, 2, 3), entry(2, 100, 130, 131));
        log.append_aborted_txn(a).await.unwrap();
        log.append_aborted_txn(b).await.unwrap();
        assert_eq!(txn_files(&path).len(), 2);
        log.delete_records_before(100).await.unwrap();
        assert_eq!(log.aborted_txns(), vec![b]);
        assert_eq!(txn_files(&path).len(), 1);
        let mut config = log_config(8 * 1024);
        config.retention_bytes = 1;
        log.set_config(config);
        log.apply_retention(2_000).await.unwrap();
        assert_eq!(log.segment_count(), 1);
        assert_eq!(log.aborted_txns(), vec![]);
        assert_eq!(txn_files(&path), vec![]);
        manager.close_all().await.unwrap();
    });
}

#[test]
fn a_crash_drops_entries_whose_marker_was_lost_and_a_damaged_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = open(&manager).await;
        fill(&log, 10).await;
        let durable_end = log.flush().await.unwrap();
        // Unflushed appends (the marker among them) and their durable index entry.
        fill(&log, 1).await;
        let kept = entry(1, 0, 3, 4);
        let lost = entry(2, 4, durable_end, durable_end + 1);
        log.append_aborted_txn(kept).await.unwrap();
        log.append_aborted_txn(lost).await.unwrap();
        drop(log);
        drop(manager); // kill -9: no flush, no close

        let manager = LogManager::new(shard_config(&path));
        let log = open(&manager).await;
        assert_eq!(log.log_end_offset(), durable_end);
        assert_eq!(
            log.aborted_txns(),
            vec![kept],
            "the lost marker's entry is gone"
        );
        assert!(!log.txn_index_damaged());
        manager.close_all().await.unwrap();

        // A file of the wrong length is dropped and reported.
        let (name, _) = txn_files(&path).pop().unwrap();
        std::fs::write(path.join("t-0").join(name), [0u8; 33]).unwrap();
        let manager = LogManager::new(shard_config(&path));
        let log = open(&manager).await;
        assert!(log.txn_index_damaged());
        assert_eq!(log.aborted_txns(), vec![]);
        assert_eq!(txn_files(&path), vec![]);
        manager.close_all().await.unwrap();
    });
}
