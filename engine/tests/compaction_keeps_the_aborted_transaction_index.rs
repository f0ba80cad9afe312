//! The cleaner merges sealed segments; the aborted-transaction entries of every merged segment
//! move to the merged segment's `.txnindex` (the transactional batches and markers they describe
//! are kept by the cleaner), so read_committed lookups find every aborted transaction after the
//! swap and after a reopen, and no index file is left for a segment that no longer exists.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::keyed::*;
use common::*;
use sluice_engine::compaction::{Cleaner, CleanerConfig};
use sluice_engine::{
    AbortedTxn, CleanupPolicy, CompactionConfig, LogConfig, LogManager, TXN_INDEX_SUFFIX,
};

const KEYS: usize = 10;
const ROUNDS: usize = 90;

fn compacted_config() -> LogConfig {
    LogConfig {
        cleanup_policy: CleanupPolicy {
            delete: false,
            compact: Some(CompactionConfig::default()),
        },
        ..log_config(4 * 1024)
    }
}

fn txn_index_bases(dir: &Path) -> Vec<i64> {
    let mut bases: Vec<i64> = std::fs::read_dir(dir.join("c-0"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let base = name.strip_suffix(&format!(".{TXN_INDEX_SUFFIX}"))?;
            base.parse().ok()
        })
        .collect();
    bases.sort();
    bases
}

#[test]
fn aborted_transactions_survive_a_merging_clean_and_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("c", 0, compacted_config()).await.unwrap();
        let mut history = Vec::new();
        let value = "v".repeat(100);
        // One aborted transaction per early segment: its marker's offset decides the segment.
        let mut entries: Vec<AbortedTxn> = Vec::new();
        for round in 0..ROUNDS {
            // Overwritten keys, and one key per round that stays: no segment is emptied.
            let mut puts: Vec<Put> = (0..KEYS).map(|k| put(&format!("k{k}"), &value)).collect();
            puts.push(put(&format!("round-{round}"), &value));
            let first = log.log_end_offset();
            append_keyed(&log, &mut history, &puts, 0, 1_000 + round as i64).await;
            if round % 5 == 0 && round < ROUNDS - 20 {
                entries.push(AbortedTxn {
                    producer_id: 100 + round as i64,
                    first_offset: first,
                    last_offset: log.log_end_offset() - 1,
                    last_stable_offset: first,
                });
            }
        }
        for entry in &entries {
            log.append_aborted_txn(*entry).await.unwrap();
        }
        let files_before = txn_index_bases(&path);
        assert!(
            files_before.len() >= 3,
            "entries spread over segments: {files_before:?}"
        );
        let cleaner = Cleaner::new(CleanerConfig::default());
        // Groups are sized before cleaning (as Kafka's): the first pass shrinks the segments,
        // the second (after more writes make the log dirty again) merges them.
        for pass in 0..2 {
            cleaner
                .clean(&log, 100_000, i64::MAX)
                .await
                .unwrap()
                .expect("the log was dirty");
            assert_eq!(log.aborted_txns(), entries, "every entry after pass {pass}");
            for round in 0..ROUNDS {
                let puts: Vec<Put> = (0..KEYS).map(|k| put(&format!("k{k}"), &value)).collect();
                append_keyed(&log, &mut history, &puts, 0, 50_000 + round as i64).await;
            }
        }
        assert_eq!(log.aborted_txns(), entries, "every entry after the swap");
        let files_after = txn_index_bases(&path);
        assert!(
            files_after.len() < files_before.len(),
            "segments holding entries merged: {files_before:?} -> {files_after:?}"
        );
        let everything = log.collect_aborted_txns(0, log.log_end_offset());
        assert_eq!(everything, entries, "lookups find them all");

        manager.close_all().await.unwrap();
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("c", 0, compacted_config()).await.unwrap();
        assert_eq!(log.aborted_txns(), entries, "every entry after a reopen");
        assert!(!log.txn_index_damaged());
        assert_eq!(txn_index_bases(&path), files_after);
    });
}
