//! Producer state across a segment roll, a clean close and an unclean stop, on real files:
//! the snapshot written at roll and at close, and the rebuild from batch headers past it.

use crate::partition::AppendOrigin;
use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use sluice_engine::batch::{
    build_batch, compute_crc, BASE_SEQUENCE_AT, CRC_AT, PRODUCER_EPOCH_AT, PRODUCER_ID_AT,
};
use sluice_engine::{LogConfig, LogManager, ShardEngineConfig};

use super::producer_append::PartitionAppendError;
use super::producer_state::ProducerError;
use super::Partition;

const PID: i64 = 4242;
const RECORDS_PER_BATCH: i32 = 4;

fn run<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    crate::partition::test_support::run("producer-recovery-test", make)
}

fn engine(dir: &Path) -> Rc<LogManager> {
    LogManager::new(ShardEngineConfig {
        data_dir: dir.to_path_buf(),
        batch_cache_bytes_max: 1 << 20,
        write_buffer_pool_bytes_max: 4 << 20,
    })
}

/// Small segments, so a few batches cross a roll.
fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 16 * 1024,
        retention_ms: -1,
        ..LogConfig::default()
    }
}

/// A batch of `PID` at `epoch` starting at sequence `seq`.
fn producer_batch(epoch: i16, seq: i32) -> Bytes {
    let value = [seq as u8; 1000];
    let mut bytes = build_batch(0, 1_000 + i64::from(seq), RECORDS_PER_BATCH, &value).to_vec();
    bytes[PRODUCER_ID_AT..PRODUCER_ID_AT + 8].copy_from_slice(&PID.to_be_bytes());
    bytes[PRODUCER_EPOCH_AT..PRODUCER_EPOCH_AT + 2].copy_from_slice(&epoch.to_be_bytes());
    bytes[BASE_SEQUENCE_AT..BASE_SEQUENCE_AT + 4].copy_from_slice(&seq.to_be_bytes());
    let crc = compute_crc(&bytes);
    bytes[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(bytes)
}

async fn open(logs: &Rc<LogManager>) -> Partition {
    let log = logs.open_log("p", 0, config()).await.expect("open log");
    Partition::open(log).await.expect("load producer state")
}

/// Appends batches 0..count of `PID` (epoch 0); returns their base offsets.
async fn append_batches(partition: &Partition, count: i32) -> Vec<i64> {
    let mut offsets = Vec::new();
    for n in 0..count {
        let batch = producer_batch(0, n * RECORDS_PER_BATCH);
        let info = partition
            .append(&[batch], AppendOrigin::CLIENT, 0)
            .await
            .expect("append");
        offsets.push(info.base_offset);
    }
    offsets
}

fn snapshot_offsets(dir: &Path) -> Vec<i64> {
    let mut offsets: Vec<i64> = std::fs::read_dir(dir.join("p-0"))
        .expect("partition dir")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".snapshot")?.parse().ok()
        })
        .collect();
    offsets.sort_unstable();
    offsets
}

/// Retries of the last five batches answer their first offsets; the next batch continues.
async fn assert_state_survived(partition: &Partition, offsets: &[i64]) {
    let count = offsets.len() as i32;
    let end = partition.log_end_offset();
    for n in count - 5..count {
        let retry = producer_batch(0, n * RECORDS_PER_BATCH);
        let info = partition
            .append(&[retry], AppendOrigin::CLIENT, 0)
            .await
            .expect("retry");
        assert_eq!(info.base_offset, offsets[n as usize], "batch {n}");
    }
    assert_eq!(partition.log_end_offset(), end, "retries append nothing");
    let gap = producer_batch(0, (count + 1) * RECORDS_PER_BATCH);
    match partition.append(&[gap], AppendOrigin::CLIENT, 0).await {
        Err(PartitionAppendError::Producer(ProducerError::OutOfOrderSequence { .. })) => {}
        other => panic!("a gap after reopening must be out of order, got {other:?}"),
    }
    let next = producer_batch(0, count * RECORDS_PER_BATCH);
    let info = partition
        .append(&[next], AppendOrigin::CLIENT, 0)
        .await
        .expect("the next batch");
    assert_eq!(info.base_offset, end);
}

#[test]
fn a_clean_close_snapshots_at_the_log_end_and_reopening_keeps_dedup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let logs = engine(&path);
        let partition = open(&logs).await;
        let offsets = append_batches(&partition, 40).await;
        assert!(
            partition.log().segment_count() > 2,
            "the test crosses rolls"
        );
        let roll_snapshots = snapshot_offsets(&path);
        assert!(!roll_snapshots.is_empty(), "rolls write snapshots");
        let end = partition.log_end_offset();
        logs.flush_all().await.expect("flush");
        partition.snapshot_producers().await;
        logs.close_all().await.expect("close");
        assert_eq!(snapshot_offsets(&path).last(), Some(&end));

        let logs = engine(&path);
        let partition = open(&logs).await;
        assert_eq!(partition.producer_count(), 1);
        assert_state_survived(&partition, &offsets).await;
        logs.close_all().await.expect("close");
    });
}

#[test]
fn without_a_close_the_state_is_rebuilt_from_the_roll_snapshot_and_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let logs = engine(&path);
        let partition = open(&logs).await;
        let offsets = append_batches(&partition, 40).await;
        logs.flush_all().await.expect("flush");
        let last_snapshot = *snapshot_offsets(&path).last().expect("roll snapshots");
        assert!(
            last_snapshot < partition.log_end_offset(),
            "batches past the snapshot"
        );
        // A crash: the files stay as they are, nothing is closed, the next open recovers.
        std::mem::forget(partition);
        std::mem::forget(logs);

        let logs = engine(&path);
        let partition = open(&logs).await;
        assert_state_survived(&partition, &offsets).await;
        logs.close_all().await.expect("close");
    });
}

#[test]
fn without_any_snapshot_the_whole_log_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let logs = engine(&path);
        let partition = open(&logs).await;
        let offsets = append_batches(&partition, 12).await;
        logs.flush_all().await.expect("flush");
        logs.close_all().await.expect("close");
        for offset in snapshot_offsets(&path) {
            let file = path.join("p-0").join(format!("{offset:020}.snapshot"));
            std::fs::remove_file(file).expect("remove snapshot");
        }
        let damaged = path.join("p-0").join(format!("{:020}.snapshot", 0));
        std::fs::write(&damaged, b"not a snapshot").expect("write damaged snapshot");

        let logs = engine(&path);
        let partition = open(&logs).await;
        assert_state_survived(&partition, &offsets).await;
        assert!(!damaged.exists(), "an unreadable snapshot is removed");
        logs.close_all().await.expect("close");
    });
}
