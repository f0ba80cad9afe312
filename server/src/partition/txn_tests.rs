//! Transactions on a partition over real files: verification before a transaction starts,
//! markers and their checks, the last stable offset (held back until the high watermark
//! passes a marker), the aborted-transaction index and what a read_committed read returns,
//! the same state after an unclean stop, after losing the snapshots and after truncation, and
//! a follower that replicates it all.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use sluice_engine::batch::{
    build_batch, compute_crc, ATTRIBUTES_AT, ATTRIBUTE_CONTROL, ATTRIBUTE_TRANSACTIONAL,
    BASE_SEQUENCE_AT, CRC_AT, PRODUCER_EPOCH_AT, PRODUCER_ID_AT,
};
use sluice_engine::{AbortedTxn, LogConfig, LogManager, ShardEngineConfig};

use crate::partition::producer_append::{AppendOrigin, PartitionAppendError};
use crate::partition::producer_state::ProducerError;
use crate::partition::Partition;

const RECORDS: i32 = 2;

fn run<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    crate::partition::test_support::run("txn-test", make)
}

/// A batch of `producer_id` at `epoch` from sequence `seq`, transactional or not.
fn batch(producer_id: i64, epoch: i16, seq: i32, transactional: bool) -> Bytes {
    batch_with(
        producer_id,
        epoch,
        seq,
        if transactional {
            ATTRIBUTE_TRANSACTIONAL
        } else {
            0
        },
    )
}

fn batch_with(producer_id: i64, epoch: i16, seq: i32, attributes: i16) -> Bytes {
    batch_at(producer_id, epoch, seq, attributes, 1_000)
}

fn batch_at(producer_id: i64, epoch: i16, seq: i32, attributes: i16, timestamp_ms: i64) -> Bytes {
    let mut bytes = build_batch(0, timestamp_ms, RECORDS, &[7u8; 1500]).to_vec();
    bytes[PRODUCER_ID_AT..PRODUCER_ID_AT + 8].copy_from_slice(&producer_id.to_be_bytes());
    bytes[PRODUCER_EPOCH_AT..PRODUCER_EPOCH_AT + 2].copy_from_slice(&epoch.to_be_bytes());
    bytes[BASE_SEQUENCE_AT..BASE_SEQUENCE_AT + 4].copy_from_slice(&seq.to_be_bytes());
    bytes[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
    let crc = compute_crc(&bytes);
    bytes[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(bytes)
}

fn engine(dir: &Path) -> Rc<LogManager> {
    LogManager::new(ShardEngineConfig {
        data_dir: dir.to_path_buf(),
        batch_cache_bytes_max: 1 << 20,
        write_buffer_pool_bytes_max: 4 << 20,
    })
}

/// Small segments: a few transactions cross rolls (and snapshots).
async fn open(logs: &Rc<LogManager>) -> Partition {
    let config = LogConfig {
        segment_bytes: 16 * 1024,
        retention_ms: -1,
        ..LogConfig::default()
    };
    let log = logs.open_log("p", 0, config).await.unwrap();
    Partition::open(log).await.unwrap()
}

/// A client append that goes through verification as the produce handler does it (the
/// coordinator says yes); returns the base offset.
async fn produce_verified(partition: &Partition, bytes: Bytes) -> i64 {
    let first = partition.append(std::slice::from_ref(&bytes), AppendOrigin::CLIENT, 0);
    match first.await {
        Ok(info) => info.base_offset,
        Err(PartitionAppendError::NeedsTxnVerification { token, .. }) => {
            let origin = AppendOrigin::Client {
                verification: Some(token),
            };
            partition
                .append(&[bytes], origin, 0)
                .await
                .unwrap()
                .base_offset
        }
        Err(err) => panic!("append refused: {err}"),
    }
}

async fn marker(partition: &Partition, producer_id: i64, epoch: i16, commit: bool) -> i64 {
    let info = partition
        .append_txn_marker(producer_id, epoch, 0, commit, 2_000)
        .await
        .unwrap();
    info.base_offset
}

async fn aborted_read(partition: &Partition, from: i64) -> Vec<i64> {
    let (_, aborted) = partition.read_committed(from, u32::MAX).await.unwrap();
    aborted.iter().map(|txn| txn.producer_id).collect()
}

#[test]
fn a_transaction_holds_the_lso_until_its_marker_is_below_the_high_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let logs = engine(&path);
        let partition = open(&logs).await;
        produce_verified(&partition, batch(1, 0, 0, false)).await;
        partition.flush().await.unwrap();
        assert_eq!(partition.last_stable_offset(), partition.high_watermark());

        // The first transactional batch needs a verification; the refusal carries a token.
        let txn = batch(2, 0, 0, true);
        let refused = partition.append(std::slice::from_ref(&txn), AppendOrigin::CLIENT, 0);
        let token = match refused.await {
            Err(PartitionAppendError::NeedsTxnVerification {
                producer_id: 2,
                epoch: 0,
                token,
            }) => token,
            other => panic!("expected a verification request, got {other:?}"),
        };
        let origin = AppendOrigin::Client {
            verification: Some(token),
        };
        let first = partition
            .append(&[txn], origin, 0)
            .await
            .unwrap()
            .base_offset;
        partition
            .append(&[batch(2, 0, 2, true)], AppendOrigin::CLIENT, 0)
            .await
            .unwrap();
        produce_verified(&partition, batch(1, 0, 2, false)).await;
        partition.flush().await.unwrap();
        assert!(partition.high_watermark() > first);
        assert_eq!(
            partition.last_stable_offset(),
            first,
            "the open transaction"
        );
        assert_eq!(
            partition.producer_views()[1].current_txn_start_offset,
            first
        );

        let abort = marker(&partition, 2, 0, false).await;
        assert_eq!(
            partition.last_stable_offset(),
            first,
            "the marker is not below the high watermark yet"
        );
        partition.flush().await.unwrap();
        assert_eq!(partition.last_stable_offset(), abort + 1);
        assert_eq!(partition.ongoing_txn_count(), 0);
        let entry = AbortedTxn {
            producer_id: 2,
            first_offset: first,
            last_offset: abort,
            last_stable_offset: abort + 1,
        };
        assert_eq!(partition.log().aborted_txns(), vec![entry]);
        assert_eq!(aborted_read(&partition, 0).await, vec![2]);
        assert_eq!(aborted_read(&partition, abort).await, vec![2]);
        assert_eq!(aborted_read(&partition, abort + 1).await, Vec::<i64>::new());

        // A read_committed read stops at the LSO of a new open transaction.
        let second = produce_verified(&partition, batch(2, 0, 4, true)).await;
        produce_verified(&partition, batch(1, 0, 4, false)).await;
        partition.flush().await.unwrap();
        let (read, _) = partition.read_committed(abort + 1, u32::MAX).await.unwrap();
        assert_eq!(read.next_offset, second);
        marker(&partition, 2, 0, true).await;
        partition.flush().await.unwrap();
        assert_eq!(partition.last_stable_offset(), partition.high_watermark());
        assert_eq!(
            partition.log().aborted_txns().len(),
            1,
            "a commit is not indexed"
        );
    });
}

#[test]
fn markers_and_client_batches_get_kafkas_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let logs = engine(&path);
        let partition = open(&logs).await;
        produce_verified(&partition, batch(5, 3, 0, true)).await;
        partition.append_txn_marker(5, 3, 7, true, 0).await.unwrap();
        let stale_epoch = partition.append_txn_marker(5, 2, 7, false, 0).await;
        assert!(matches!(
            stale_epoch,
            Err(PartitionAppendError::Producer(
                ProducerError::InvalidProducerEpoch { .. }
            ))
        ));
        let fenced = partition.append_txn_marker(5, 3, 6, false, 0).await;
        assert!(matches!(
            fenced,
            Err(PartitionAppendError::Producer(
                ProducerError::CoordinatorFenced { .. }
            ))
        ));
        // A bumped epoch (the coordinator fenced the producer) is taken.
        partition
            .append_txn_marker(5, 4, 8, false, 0)
            .await
            .unwrap();
        assert_eq!(partition.producer_views()[0].epoch, 4);
        assert_eq!(partition.producer_views()[0].coordinator_epoch, 8);
        // Clients may not write control batches.
        let control = batch_with(5, 4, 0, ATTRIBUTE_TRANSACTIONAL | ATTRIBUTE_CONTROL);
        let refused = partition.append(&[control], AppendOrigin::CLIENT, 0).await;
        assert!(matches!(
            refused,
            Err(PartitionAppendError::Producer(
                ProducerError::ControlBatch { .. }
            ))
        ));
        // A plain batch of a producer in a transaction.
        produce_verified(&partition, batch(6, 0, 0, true)).await;
        let plain = [batch(6, 0, 2, false)];
        let interleaved = partition.append(&plain, AppendOrigin::CLIENT, 0).await;
        assert!(matches!(
            interleaved,
            Err(PartitionAppendError::Producer(
                ProducerError::InvalidTxnState { .. }
            ))
        ));
        // The group coordinator's own transactional writes need no verification.
        let offsets = batch(9, 0, -1, true);
        partition
            .append(&[offsets], AppendOrigin::Coordinator, 0)
            .await
            .unwrap();
        // A verification that raced with the end of the transaction opens nothing.
        let txn = batch(10, 0, 0, true);
        let token = match partition
            .append(std::slice::from_ref(&txn), AppendOrigin::CLIENT, 0)
            .await
        {
            Err(PartitionAppendError::NeedsTxnVerification { token, .. }) => token,
            other => panic!("expected a verification request, got {other:?}"),
        };
        partition
            .append_txn_marker(10, 0, 0, false, 0)
            .await
            .unwrap();
        let late = AppendOrigin::Client {
            verification: Some(token),
        };
        assert!(matches!(
            partition.append(&[txn], late, 0).await,
            Err(PartitionAppendError::NeedsTxnVerification { .. })
        ));
    });
}

/// Transactions across rolls, some aborted, some committed, one left open.
async fn write_history(partition: &Partition) {
    let mut seq = [0i32; 4];
    for round in 0..12 {
        let producer = 1 + (round % 3) as i64;
        let at = producer as usize;
        produce_verified(partition, batch(producer, 0, seq[at], true)).await;
        seq[at] += RECORDS;
        produce_verified(partition, batch(producer, 0, seq[at], true)).await;
        seq[at] += RECORDS;
        if round < 11 {
            marker(partition, producer, 0, round % 2 == 0).await;
        }
    }
}

struct Seen {
    lso: i64,
    aborted: Vec<AbortedTxn>,
    read_aborted: Vec<i64>,
    ongoing: usize,
}

async fn seen(partition: &Partition) -> Seen {
    partition.flush().await.unwrap();
    Seen {
        lso: partition.last_stable_offset(),
        aborted: partition.log().aborted_txns(),
        read_aborted: aborted_read(partition, 0).await,
        ongoing: partition.ongoing_txn_count(),
    }
}

fn assert_same(after: &Seen, before: &Seen, what: &str) {
    assert_eq!(after.lso, before.lso, "{what}: last stable offset");
    assert_eq!(after.aborted, before.aborted, "{what}: aborted index");
    assert_eq!(
        after.read_aborted, before.read_aborted,
        "{what}: read_committed list"
    );
    assert_eq!(after.ongoing, before.ongoing, "{what}: open transactions");
}

#[test]
fn an_unclean_stop_and_lost_snapshots_rebuild_the_same_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let logs = engine(&path);
        let partition = open(&logs).await;
        write_history(&partition).await;
        let before = seen(&partition).await;
        assert!(
            partition.log().segment_count() > 3,
            "the history crosses rolls"
        );
        assert_eq!(before.ongoing, 1);
        assert!(before.aborted.len() >= 5);
        assert!(before.lso < partition.high_watermark());
        drop(partition);
        drop(logs); // kill -9: no snapshot at close, no close

        let logs = engine(&path);
        let partition = open(&logs).await;
        assert_same(&seen(&partition).await, &before, "after an unclean stop");
        drop(partition);
        drop(logs);

        // Without any snapshot the whole log is replayed.
        for entry in std::fs::read_dir(path.join("p-0")).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name().to_string_lossy().ends_with(".snapshot") {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        let logs = engine(&path);
        let partition = open(&logs).await;
        assert_same(&seen(&partition).await, &before, "without snapshots");

        // A clean close (snapshot at the end) and reopen.
        partition.snapshot_producers().await;
        drop(partition);
        logs.close_all().await.unwrap();
        let logs = engine(&path);
        let partition = open(&logs).await;
        assert_same(&seen(&partition).await, &before, "after a clean close");
        // The open transaction goes on and ends after the reopen.
        marker(&partition, 3, 0, false).await;
        partition.flush().await.unwrap();
        assert_eq!(partition.last_stable_offset(), partition.high_watermark());
        logs.close_all().await.unwrap();
    });
}

#[test]
fn truncating_a_marker_away_reopens_its_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let logs = engine(&path);
        let partition = open(&logs).await;
        let first = produce_verified(&partition, batch(4, 0, 0, true)).await;
        let abort = marker(&partition, 4, 0, false).await;
        partition.flush().await.unwrap();
        assert_eq!(partition.log().aborted_txns().len(), 1);
        partition.log().truncate_to(abort).await.unwrap();
        assert!(
            partition.log().aborted_txns().is_empty(),
            "the index lost the entry"
        );
        drop(partition);
        // What `reload_producers` does after a follower's truncation: load from the log.
        let log = logs.get("p", 0).unwrap();
        let partition = Partition::open(log).await.unwrap();
        assert_eq!(partition.ongoing_txn_count(), 1);
        assert_eq!(partition.last_stable_offset(), first);
        logs.close_all().await.unwrap();
    });
}

#[test]
fn a_follower_replicates_transactions_markers_and_the_aborted_index() {
    use crate::partition::replication_tests::{assign, fetch_round, replica};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let one = replica(&path, 1).await;
        let two = replica(&path, 2).await;
        assign(&one, 1, 1, 1, &[1, 2]).await;
        assign(&two, 2, 1, 1, &[1, 2]).await;
        let first = produce_verified(&one, batch(8, 0, 0, true)).await;
        let abort = marker(&one, 8, 0, false).await;
        assert!(
            two.append_txn_marker(8, 0, 0, false, 0).await.is_err(),
            "followers refuse"
        );
        one.flush().await.unwrap();
        // The leader's high watermark waits for the follower: the marker is unreplicated.
        assert_eq!(one.high_watermark(), 0);
        assert_eq!(one.last_stable_offset(), first);
        for _ in 0..3 {
            fetch_round(&one, &two, 2).await;
        }
        assert_eq!(one.high_watermark(), abort + 1);
        assert_eq!(one.last_stable_offset(), abort + 1);
        assert_eq!(two.log().aborted_txns(), one.log().aborted_txns());
        assert_eq!(two.ongoing_txn_count(), 0);
        // An open transaction on the leader is open on the follower too.
        produce_verified(&one, batch(8, 0, 2, true)).await;
        one.flush().await.unwrap();
        for _ in 0..3 {
            fetch_round(&one, &two, 2).await;
        }
        assert_eq!(two.ongoing_txn_count(), 1);
        assert_eq!(two.producer_views(), one.producer_views());
    });
}

#[test]
fn a_read_committed_long_poll_waits_for_the_lso_not_the_high_watermark() {
    use std::time::{Duration, Instant};

    use crate::partition::registry::Partitions;
    use crate::partition::wait::wait_for_data;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let partitions = Rc::new(Partitions::new(engine(&path)));
        let partition = partitions.open("p", 0, LogConfig::default()).await.unwrap();
        let first = produce_verified(&partition, batch(3, 0, 0, true)).await;
        partition.flush().await.unwrap();
        assert!(partition.high_watermark() > first);
        let watched = [("p".to_string(), 0, first)];
        let never = || false;
        // read_uncommitted: the open transaction's data is readable at once.
        let started = Instant::now();
        wait_for_data(&partitions, &watched, false, 2_000, never).await;
        assert!(started.elapsed() < Duration::from_millis(1_000));
        // read_committed: nothing below the LSO past `first` until the marker is replicated.
        let started = Instant::now();
        wait_for_data(&partitions, &watched, true, 300, never).await;
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "waited to the deadline"
        );
        // The marker wakes a waiting read_committed poll (its flush moves the LSO).
        let waiter = {
            let partitions = partitions.clone();
            glommio::spawn_local(async move {
                let started = Instant::now();
                wait_for_data(&partitions, &watched, true, 10_000, || false).await;
                started.elapsed()
            })
        };
        // Let the waiter run up to its wait (a scheduling step, not a timed pause).
        glommio::executor().yield_now().await;
        marker(&partition, 3, 0, true).await;
        partitions.data_notify().notify();
        let waited = waiter.await;
        assert!(
            waited < Duration::from_millis(5_000),
            "woken, not timed out: {waited:?}"
        );
        assert!(partition.last_stable_offset() > first);
    });
}

#[test]
fn list_offsets_read_committed_ends_at_the_lso() {
    use crate::partition::list_offsets::list_offsets;
    use crate::partition::messages::OffsetQuery;
    use crate::partition::registry::Partitions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let partitions = Rc::new(Partitions::new(engine(&path)));
        let partition = partitions.open("p", 0, LogConfig::default()).await.unwrap();
        produce_verified(&partition, batch(1, 0, 0, false)).await;
        let first = produce_verified(&partition, batch(2, 0, 0, true)).await;
        produce_verified(&partition, batch_at(1, 0, 2, 0, 5_000)).await;
        partition.flush().await.unwrap();
        let query = |timestamp: i64, read_committed: bool| OffsetQuery {
            topic: "p".into(),
            partition: 0,
            timestamp,
            current_leader_epoch: -1,
            from_consumer: true,
            read_committed,
        };
        let queries = vec![
            query(-1, false),
            query(-1, true),
            // Every batch has timestamps 1_000..: the first at or after 1_000 is offset 0.
            query(1_000, true),
            // The last batch (timestamps 5_000..) is past the LSO: none for read_committed,
            // found for read_uncommitted.
            query(5_000, true),
            query(5_000, false),
        ];
        let answers = list_offsets(&partitions, queries).await;
        let offsets: Vec<i64> = answers.iter().map(|a| a.offset).collect();
        let high_watermark = partition.high_watermark();
        assert_eq!(offsets[0], high_watermark);
        assert_eq!(offsets[1], first, "latest for read_committed is the LSO");
        assert_eq!(offsets[2], 0);
        assert_eq!(offsets[3], -1, "nothing readable at or past the LSO");
        assert_eq!(offsets[4], first + i64::from(RECORDS));
        marker(&partition, 2, 0, true).await;
        partition.flush().await.unwrap();
        let answers = list_offsets(&partitions, vec![query(-1, true)]).await;
        assert_eq!(answers[0].offset, partition.high_watermark());
    });
}
