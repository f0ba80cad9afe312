//! Kafka's cleaner rules for transactions (LogCleanerTest's transaction cases), on real files:
//! - records of an aborted transaction go, and never hide an older committed value of their key;
//! - records of a committed transaction stay under the key rule;
//! - an ABORT marker stays while data of its transaction remains, then gets a delete horizon
//!   (`delete.retention.ms`) on the next pass, and goes on the first pass after the horizon;
//!   its `.txnindex` entry goes once no data is left;
//! - nothing at or past the bound (the last stable offset) is cleaned: an open transaction's
//!   batch stays byte for byte;
//! - read_committed reads (the aborted index applied) give the same latest value per key
//!   before and after cleaning, and after a reopen.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use bytes::Bytes;
use common::keyed::*;
use common::*;
use sluice_engine::batch;
use sluice_engine::compaction::{codec, records, Cleaner, CleanerConfig, ATTRIBUTE_DELETE_HORIZON};
use sluice_engine::{AbortedTxn, CompactionConfig, LogConfig, LogManager, PartitionLog};

const DELETE_RETENTION_MS: i64 = 1_000;
const COMMITTED: i64 = 1;
const ABORTED: i64 = 2;
const OPEN: i64 = 3;

fn config() -> LogConfig {
    compacted_log_config(
        4 * 1024,
        CompactionConfig {
            delete_retention_ms: DELETE_RETENTION_MS,
            min_cleanable_dirty_ratio: 0.01,
            ..CompactionConfig::default()
        },
    )
}

fn producer(id: i64, base_sequence: i32) -> Producer {
    Producer {
        id,
        epoch: 0,
        base_sequence,
    }
}

/// One batch as a read_committed consumer would treat it.
#[derive(Debug, Clone, PartialEq)]
struct BatchView {
    header: batch::BatchHeader,
    /// (offset, key, value) of its records.
    records: Vec<(i64, Vec<u8>, Option<Vec<u8>>)>,
}

async fn batches(log: &PartitionLog) -> Vec<BatchView> {
    let mut out = Vec::new();
    for bytes in batches_served(log).await {
        let header = batch::validate(&bytes, batch::CountRule::Compacted).unwrap();
        let section =
            codec::decompress(header.compression(), &bytes[batch::HEADER_BYTES..], 1 << 24)
                .unwrap();
        let records = records::parse_records(&section, header.records_count)
            .unwrap()
            .iter()
            .map(|r| {
                let offset = header.base_offset + i64::from(r.offset_delta);
                (offset, r.key.unwrap().to_vec(), r.value.map(<[u8]>::to_vec))
            })
            .collect();
        out.push(BatchView { header, records });
    }
    out
}

/// Key -> (offset, value) a read_committed consumer ends with: control batches skipped, and
/// transactional batches inside an aborted transaction of the index dropped.
async fn read_committed(log: &PartitionLog) -> BTreeMap<Vec<u8>, (i64, Option<Vec<u8>>)> {
    let aborted = log.collect_aborted_txns(log.log_start_offset(), log.log_end_offset());
    let mut latest = BTreeMap::new();
    for view in batches(log).await {
        let h = &view.header;
        if h.is_control() {
            continue;
        }
        let dropped = h.is_transactional()
            && aborted.iter().any(|e| {
                e.producer_id == h.producer_id
                    && e.first_offset <= h.base_offset
                    && h.base_offset <= e.last_offset
            });
        if dropped {
            continue;
        }
        for (offset, key, value) in view.records {
            latest.insert(key, (offset, value));
        }
    }
    latest
}

fn markers(views: &[BatchView], producer_id: i64) -> Vec<batch::BatchHeader> {
    views
        .iter()
        .filter(|v| v.header.is_control() && v.header.producer_id == producer_id)
        .map(|v| v.header)
        .collect()
}

fn data_records_of(views: &[BatchView], producer_id: i64) -> usize {
    views
        .iter()
        .filter(|v| !v.header.is_control() && v.header.producer_id == producer_id)
        .map(|v| v.records.len())
        .sum()
}

async fn append(log: &PartitionLog, batch: Bytes, now_ms: i64) -> (i64, i64) {
    let info = log.append(&[batch], now_ms).await.unwrap();
    (info.base_offset, info.last_offset)
}

/// Plain overwrites of a few keys, enough to seal segments (16 KiB at least; the active one is
/// never cleaned).
async fn filler(log: &PartitionLog, round: usize, now_ms: i64) {
    let value = "f".repeat(1_000);
    for i in 0..40 {
        let puts = [put(&format!("fill-{}", i % 4), &format!("{value}{round}"))];
        append(log, keyed_batch(&puts, 0, now_ms, NO_PRODUCER), now_ms).await;
    }
}

#[test]
fn aborted_data_goes_markers_follow_their_horizon_and_reads_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("t", 0, config()).await.unwrap();
        let now = 1_000;
        append(
            &log,
            keyed_batch(&[put("shared", "plain")], 0, now, NO_PRODUCER),
            now,
        )
        .await;
        // A committed transaction, and an aborted one overwriting its key and "shared".
        let committed = [put("c0", "committed"), put("c1", "committed")];
        append(
            &log,
            txn_batch(&committed, now, producer(COMMITTED, 0)),
            now,
        )
        .await;
        let (aborted_first, _) = append(
            &log,
            txn_batch(
                &[
                    put("c0", "aborted"),
                    put("shared", "aborted"),
                    put("a0", "x"),
                ],
                now,
                producer(ABORTED, 0),
            ),
            now,
        )
        .await;
        append(&log, marker_batch(producer(COMMITTED, 0), true, now), now).await;
        let (abort_marker, _) =
            append(&log, marker_batch(producer(ABORTED, 0), false, now), now).await;
        let entry = AbortedTxn {
            producer_id: ABORTED,
            first_offset: aborted_first,
            last_offset: abort_marker,
            last_stable_offset: abort_marker + 1,
        };
        log.append_aborted_txn(entry).await.unwrap();
        // The aborted producer's later, committed transaction: the aborted batch is not its
        // last data batch, so nothing of it is kept for its sequence's sake.
        append(
            &log,
            txn_batch(&[put("b0", "later")], now, producer(ABORTED, 3)),
            now,
        )
        .await;
        append(&log, marker_batch(producer(ABORTED, 0), true, now), now).await;
        filler(&log, 0, now).await;
        // An open transaction, past the bound the cleaner gets (its first offset: the LSO).
        let (open_first, _) = append(
            &log,
            txn_batch(&[put("fill-0", "open")], now, producer(OPEN, 0)),
            now,
        )
        .await;
        let open_bytes = batches(&log).await.last().unwrap().clone();
        filler(&log, 1, now).await;
        let lso = open_first;

        let before = read_committed(&log).await;
        assert_eq!(
            before[b"c0".as_slice()].1.as_deref(),
            Some(b"committed".as_slice())
        );
        assert_eq!(
            before[b"shared".as_slice()].1.as_deref(),
            Some(b"plain".as_slice())
        );
        let cleaner = Cleaner::new(CleanerConfig::default());

        // Pass 1: aborted data goes, its marker and index entry stay (data was there).
        cleaner
            .clean(&log, 10_000, lso)
            .await
            .unwrap()
            .expect("dirty");
        let views = batches(&log).await;
        assert_eq!(
            data_records_of(&views, ABORTED),
            1,
            "only the later committed b0"
        );
        assert_eq!(markers(&views, ABORTED).len(), 2);
        assert_eq!(log.aborted_txns(), vec![entry]);
        assert_eq!(read_committed(&log).await, before, "read_committed agrees");
        let open_now: Vec<_> = views
            .iter()
            .filter(|v| v.header.producer_id == OPEN)
            .collect();
        assert_eq!(
            open_now,
            vec![&open_bytes],
            "the open transaction is untouched"
        );
        assert!(views.iter().all(|v| v.header.base_offset < lso
            || v.header.producer_id == OPEN
            || v.header.producer_id < 0));

        // The open transaction commits; from now on everything is stable.
        append(&log, marker_batch(producer(OPEN, 0), true, now), now).await;

        // Pass 2: no data of the aborted transaction left: its marker gets a horizon, its
        // entry goes; the committed transaction's marker stays (c0, c1 remain).
        filler(&log, 2, 20_000).await;
        let before = read_committed(&log).await;
        cleaner
            .clean(&log, 20_000, i64::MAX)
            .await
            .unwrap()
            .expect("dirty");
        let views = batches(&log).await;
        let abort = markers(&views, ABORTED)
            .into_iter()
            .find(|h| h.base_offset == abort_marker)
            .expect("the abort marker stays until its horizon");
        assert_ne!(abort.attributes & ATTRIBUTE_DELETE_HORIZON, 0);
        assert_eq!(abort.base_timestamp, 20_000 + DELETE_RETENTION_MS);
        assert!(log.aborted_txns().is_empty(), "no data left: no entry");
        assert_eq!(markers(&views, COMMITTED).len(), 1);
        assert_eq!(
            markers(&views, COMMITTED)[0].attributes & ATTRIBUTE_DELETE_HORIZON,
            0
        );
        assert_eq!(read_committed(&log).await, before);

        // Pass 3, before the horizon: the marker stays. Pass 4, after it: the marker goes.
        filler(&log, 3, 20_500).await;
        cleaner
            .clean(&log, 20_500, i64::MAX)
            .await
            .unwrap()
            .expect("dirty");
        assert!(markers(&batches(&log).await, ABORTED)
            .iter()
            .any(|h| h.base_offset == abort_marker));
        filler(&log, 4, 21_000).await;
        let before = read_committed(&log).await;
        cleaner
            .clean(&log, 20_000 + DELETE_RETENTION_MS, i64::MAX)
            .await
            .unwrap()
            .expect("dirty");
        let views = batches(&log).await;
        assert!(!markers(&views, ABORTED)
            .iter()
            .any(|h| h.base_offset == abort_marker));
        assert_eq!(read_committed(&log).await, before);
        let c0 = &before[b"c0".as_slice()];
        assert_eq!(c0.1.as_deref(), Some(b"committed".as_slice()));

        manager.close_all().await.unwrap();
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("t", 0, config()).await.unwrap();
        assert!(!log.txn_index_damaged());
        assert!(log.aborted_txns().is_empty());
        assert_eq!(read_committed(&log).await, before, "after a reopen");
        assert_eq!(batches(&log).await, views);
    });
}

#[test]
fn a_committed_transactions_marker_goes_once_its_records_are_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("t", 0, config()).await.unwrap();
        let now = 1_000;
        append(
            &log,
            txn_batch(&[put("fill-0", "txn")], now, producer(COMMITTED, 0)),
            now,
        )
        .await;
        let (commit_marker, _) =
            append(&log, marker_batch(producer(COMMITTED, 0), true, now), now).await;
        // A later idempotent batch of the producer: the transactional one is not its last.
        let later = Producer {
            base_sequence: 1,
            ..producer(COMMITTED, 0)
        };
        append(&log, keyed_batch(&[put("k", "v")], 0, now, later), now).await;
        filler(&log, 0, now).await;
        let cleaner = Cleaner::new(CleanerConfig::default());
        let find = |views: &[BatchView]| {
            markers(views, COMMITTED)
                .into_iter()
                .find(|h| h.base_offset == commit_marker)
        };
        // Pass 1 removes the overwritten record (its batch was seen: the marker stays as is).
        cleaner
            .clean(&log, 10_000, i64::MAX)
            .await
            .unwrap()
            .expect("dirty");
        let marker = find(&batches(&log).await).expect("kept");
        assert_eq!(marker.attributes & ATTRIBUTE_DELETE_HORIZON, 0);
        // Pass 2: no batch of the transaction is left, so the marker gets its horizon.
        filler(&log, 1, 10_000).await;
        cleaner
            .clean(&log, 10_000, i64::MAX)
            .await
            .unwrap()
            .expect("dirty");
        let marker = find(&batches(&log).await).expect("kept until the horizon");
        assert_eq!(marker.base_timestamp, 10_000 + DELETE_RETENTION_MS);
        // Pass 3, past the horizon: gone.
        filler(&log, 2, 20_000).await;
        cleaner
            .clean(&log, 20_000, i64::MAX)
            .await
            .unwrap()
            .expect("dirty");
        assert_eq!(find(&batches(&log).await), None);
        manager.close_all().await.unwrap();
    });
}
