//! ListOffsets and OffsetForLeaderEpoch on the owner shard, on a real log: the current leader
//! epoch check (KIP-320), the leader epoch of each answer, and OFFSET_NOT_AVAILABLE while the
//! high watermark lags the start of the leader's epoch (KIP-207).

use crate::partition::AppendOrigin;
use std::rc::Rc;

use sluice_engine::batch::build_batch;

use super::*;
use crate::partition::offset_for_leader_epoch::{self, EpochQuery};

const RECORDS_PER_BATCH: i32 = 5;

fn run<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    crate::partition::test_support::run("list-offsets-test", make)
}

async fn open(dir: &std::path::Path) -> Partition {
    crate::partition::test_support::open_partition(dir).await
}

/// One batch of records stamped `timestamp_ms`, `timestamp_ms + 1`, ...; its base offset.
async fn append(partition: &Partition, timestamp_ms: i64) -> i64 {
    let batch = build_batch(0, timestamp_ms, RECORDS_PER_BATCH, b"value");
    let info = partition
        .append(&[batch], AppendOrigin::CLIENT, 0)
        .await
        .expect("append");
    info.base_offset
}

fn query(timestamp: i64, current_leader_epoch: i32) -> OffsetQuery {
    OffsetQuery {
        topic: "p".into(),
        partition: 0,
        timestamp,
        current_leader_epoch,
        from_consumer: true,
        read_committed: false,
    }
}

fn epoch_end(partition: &Partition, current: i32, epoch: i32) -> (i16, i32, i64) {
    let query = EpochQuery {
        topic: "p".into(),
        partition: 0,
        current_leader_epoch: current,
        leader_epoch: epoch,
    };
    let answer = offset_for_leader_epoch::answer(partition, &query);
    (answer.error_code, answer.leader_epoch, answer.end_offset)
}

const FENCED: i16 = ResponseError::FencedLeaderEpoch.code();
const UNKNOWN: i16 = ResponseError::UnknownLeaderEpoch.code();
const NOT_AVAILABLE: i16 = ResponseError::OffsetNotAvailable.code();

/// Makes this broker (node 1) the partition's only replica and its leader at `epoch`.
async fn lead(partition: &Partition, epoch: i32) {
    let change = crate::partition::replica::RoleChange {
        node_id: 1,
        assignment: sluice_replica::Assignment {
            replicas: vec![1],
            isr: vec![1],
            leader: 1,
            leader_epoch: epoch,
            partition_epoch: epoch,
        },
        min_insync: 1,
        lag_max_ms: 30_000,
        now_ms: 0,
    };
    partition.apply_role(change).await.expect("lead");
}

#[test]
fn answers_check_the_current_leader_epoch_and_name_the_records_epoch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let partition = Rc::new(open(&path).await);
        // An empty log at epoch 0 answers for its epoch at once.
        assert_eq!(epoch_end(&partition, 0, 0), (NONE, 0, 0));
        append(&partition, 1_000).await;
        partition.flush().await.expect("flush");
        let end = partition.log_end_offset();
        let latest = offset_answer(&partition, &query(LATEST_TIMESTAMP, 0)).await;
        assert_eq!((latest.error_code, latest.offset), (NONE, end));
        assert_eq!(latest.leader_epoch, 0);
        let ahead = offset_answer(&partition, &query(LATEST_TIMESTAMP, 1)).await;
        assert_eq!(ahead.error_code, UNKNOWN);

        lead(&partition, 2).await;
        let behind = offset_answer(&partition, &query(LATEST_TIMESTAMP, 1)).await;
        assert_eq!(behind.error_code, FENCED);
        assert_eq!(epoch_end(&partition, 1, 0).0, FENCED);
        assert_eq!(epoch_end(&partition, 3, 0).0, UNKNOWN);
        let latest = offset_answer(&partition, &query(LATEST_TIMESTAMP, 2)).await;
        assert_eq!((latest.error_code, latest.leader_epoch), (NONE, 2));
        // The first record was written at epoch 0.
        let earliest = offset_answer(&partition, &query(EARLIEST_TIMESTAMP, -1)).await;
        assert_eq!((earliest.offset, earliest.leader_epoch), (0, 0));
        // Epoch 2 has written nothing: it starts at the log end.
        assert_eq!(epoch_end(&partition, 2, 2), (NONE, 2, end));
        assert_eq!(epoch_end(&partition, -1, 0), (NONE, 0, end));
        assert_eq!(epoch_end(&partition, -1, 1), (NONE, 0, end));
        assert_eq!(epoch_end(&partition, -1, 3), (NONE, -1, -1));

        let second = append(&partition, 2_000).await;
        let max = offset_answer(&partition, &query(MAX_TIMESTAMP, 2)).await;
        assert_eq!(
            max.offset, -1,
            "nothing of epoch 2 is readable before the flush"
        );
        partition.flush().await.expect("flush");
        let max = offset_answer(&partition, &query(MAX_TIMESTAMP, 2)).await;
        // The engine names the batch holding the largest timestamp.
        assert_eq!(
            (max.timestamp, max.offset, max.leader_epoch),
            (2_004, second, 2)
        );
        let end = partition.log_end_offset();
        assert_eq!(epoch_end(&partition, 2, 0), (NONE, 0, second));
        assert_eq!(epoch_end(&partition, 2, 2), (NONE, 2, end));
    });
}

#[test]
fn a_leader_whose_high_watermark_lags_its_epoch_start_has_no_latest_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let partition = open(&path).await;
        append(&partition, 5_000).await;
        let high_watermark = partition.flush().await.expect("flush");
        // Appended by the old leader's epoch, not yet below the high watermark.
        append(&partition, 1_000).await;
        assert!(partition.high_watermark() < partition.log_end_offset());
        lead(&partition, 1).await;

        let latest = offset_answer(&partition, &query(LATEST_TIMESTAMP, 1)).await;
        assert_eq!(latest.error_code, NOT_AVAILABLE);
        let lookup = offset_answer(&partition, &query(MAX_TIMESTAMP, 1)).await;
        assert_eq!(lookup.error_code, NONE, "a readable record is an answer");
        let future = offset_answer(&partition, &query(1_000_000, 1)).await;
        assert_eq!(future.error_code, NOT_AVAILABLE, "no readable record: wait");
        let earliest = offset_answer(&partition, &query(EARLIEST_TIMESTAMP, 1)).await;
        assert_eq!((earliest.error_code, earliest.offset), (NONE, 0));
        // A follower's request is not held back (Kafka applies KIP-207 to clients only).
        let follower = OffsetQuery {
            from_consumer: false,
            ..query(LATEST_TIMESTAMP, 1)
        };
        let latest = offset_answer(&partition, &follower).await;
        assert_eq!((latest.error_code, latest.offset), (NONE, high_watermark));

        partition.flush().await.expect("flush");
        let latest = offset_answer(&partition, &query(LATEST_TIMESTAMP, 1)).await;
        assert_eq!(latest.error_code, NONE);
        assert_eq!(latest.offset, partition.log_end_offset());
        assert_eq!(latest.leader_epoch, 1);
    });
}
