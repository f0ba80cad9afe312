//! The leader and follower sides of a partition on real logs, wired directly (no network): a
//! follower copies the leader byte for byte and acknowledges only what it synced; the high
//! watermark waits for the ISR; a deposed leader's unreplicated tail is truncated by epoch
//! when it follows the new leader (KIP-101); a follower behind the leader's log start starts
//! over there.

#![allow(clippy::unwrap_used)]

use crate::partition::AppendOrigin;
use std::rc::Rc;

use bytes::Bytes;
use sluice_engine::batch::{build_batch, split_batches};
use sluice_engine::{LogConfig, LogManager, ShardEngineConfig};
use sluice_replica::Assignment;

use super::follower::FetchPosition;
use super::leader_fetch::{ReplicaFetch, ReplicaFetchCheck};
use super::replica::{AcksAll, RoleChange};
use super::*;

fn run<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    crate::partition::test_support::run("replication-test", make)
}

/// Broker `node`'s replica of the partition, in its own data dir.
pub(super) async fn replica(dir: &std::path::Path, node: i32) -> Rc<Partition> {
    let logs = LogManager::new(ShardEngineConfig {
        data_dir: dir.join(format!("node{node}")),
        batch_cache_bytes_max: 1 << 20,
        write_buffer_pool_bytes_max: 4 << 20,
    });
    let log = logs.open_log("p", 0, LogConfig::default()).await.unwrap();
    Rc::new(Partition::open(log).await.unwrap())
}

pub(super) async fn assign(partition: &Partition, node: i32, leader: i32, epoch: i32, isr: &[i32]) {
    let change = RoleChange {
        node_id: node,
        assignment: Assignment {
            replicas: vec![1, 2],
            isr: isr.to_vec(),
            leader,
            leader_epoch: epoch,
            partition_epoch: epoch,
        },
        min_insync: 1,
        lag_max_ms: 30_000,
        now_ms: 0,
    };
    partition.apply_role(change).await.unwrap();
}

async fn produce(leader: &Partition, values: &[&[u8]]) -> i64 {
    let batches: Vec<Bytes> = values.iter().map(|v| build_batch(0, 1_000, 1, v)).collect();
    leader
        .append(&batches, AppendOrigin::CLIENT, 0)
        .await
        .unwrap()
        .last_offset
}

/// One fetch round as the replication stream runs it; true when the follower took data.
pub(super) async fn fetch_round(leader: &Partition, follower: &Partition, node: i32) -> bool {
    let FetchPosition {
        fetch_offset,
        last_fetched_epoch,
        leader_epoch,
        ..
    } = follower.fetch_position().unwrap();
    let fetch = ReplicaFetch {
        replica_id: node,
        fetch_offset,
        last_fetched_epoch,
        current_leader_epoch: leader_epoch,
    };
    match leader.check_replica_fetch(fetch, true, 1).unwrap() {
        ReplicaFetchCheck::Diverging(diverging) => {
            follower.truncate_diverged(diverging).await.unwrap();
            true
        }
        ReplicaFetchCheck::Serve { .. } => {
            let read = leader.read_to_log_end(fetch_offset, 1 << 20).await.unwrap();
            // Chunks are pieces of the response (a batch may span two), as on the wire.
            let mut records = Vec::new();
            for chunk in read.chunks {
                records.extend_from_slice(&chunk.to_bytes().await.unwrap());
            }
            let took = !records.is_empty();
            if took {
                let batches = split_batches(&Bytes::from(records)).unwrap();
                follower.append_from_leader(&batches).await.unwrap();
            }
            follower.flush().await.unwrap();
            follower
                .follow_leader_marks(leader.high_watermark(), leader.log_start_offset())
                .await;
            took
        }
    }
}

async fn bytes_of(partition: &Partition) -> Vec<u8> {
    let end = partition.log_end_offset();
    let read = partition
        .read_to_log_end(partition.log_start_offset(), u32::MAX)
        .await;
    let mut all = Vec::new();
    for chunk in read.map(|r| r.chunks).unwrap_or_default() {
        all.extend_from_slice(&chunk.to_bytes().await.unwrap());
    }
    assert!(end >= partition.log_start_offset());
    all
}

#[test]
fn the_high_watermark_waits_for_the_follower_and_replicas_are_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let one = replica(&path, 1).await;
        let two = replica(&path, 2).await;
        assign(&one, 1, 1, 1, &[1, 2]).await;
        assign(&two, 2, 1, 1, &[1, 2]).await;
        let last = produce(&one, &[b"a", b"b", b"c"]).await;
        one.flush().await.unwrap();
        assert_eq!(one.high_watermark(), 0, "the follower has nothing yet");
        assert_eq!(one.acks_all(last), AcksAll::Waiting);
        assert!(
            two.append(&[build_batch(0, 0, 1, b"x")], AppendOrigin::CLIENT, 0)
                .await
                .is_err(),
            "followers refuse clients"
        );
        assert!(fetch_round(&one, &two, 2).await);
        assert_eq!(
            one.high_watermark(),
            0,
            "fetched is not acknowledged until the next fetch"
        );
        fetch_round(&one, &two, 2).await;
        assert_eq!(one.high_watermark(), last + 1);
        assert_eq!(one.acks_all(last), AcksAll::Replicated);
        assert_eq!(bytes_of(&one).await, bytes_of(&two).await);
    });
}

#[test]
fn a_deposed_leaders_unreplicated_tail_is_truncated_by_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let one = replica(&path, 1).await;
        let two = replica(&path, 2).await;
        assign(&one, 1, 1, 1, &[1, 2]).await;
        assign(&two, 2, 1, 1, &[1, 2]).await;
        produce(&one, &[b"a", b"b"]).await;
        one.flush().await.unwrap();
        fetch_round(&one, &two, 2).await;
        fetch_round(&one, &two, 2).await;
        // Leader 1 takes two more (acks=1) that never reach 2, then 2 is elected at epoch 2.
        produce(&one, &[b"lost-1", b"lost-2"]).await;
        one.flush().await.unwrap();
        assign(&two, 2, 2, 2, &[2]).await;
        let kept = produce(&two, &[b"c"]).await;
        two.flush().await.unwrap();
        assert_eq!(kept, 2, "the new leader writes where its log ended");
        // 1 follows 2: same offsets, different data; the epochs tell it where they parted.
        assign(&one, 1, 2, 2, &[2]).await;
        assert_eq!(one.log_end_offset(), 4);
        for _ in 0..3 {
            fetch_round(&two, &one, 1).await;
        }
        assert_eq!(one.log_end_offset(), 3);
        assert_eq!(bytes_of(&one).await, bytes_of(&two).await);
    });
}

#[test]
fn stale_and_future_epochs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let one = replica(&path, 1).await;
        assign(&one, 1, 1, 3, &[1, 2]).await;
        let fetch = |current_leader_epoch| ReplicaFetch {
            replica_id: 2,
            fetch_offset: 0,
            last_fetched_epoch: -1,
            current_leader_epoch,
        };
        assert_eq!(
            one.check_replica_fetch(fetch(2), true, 0),
            Err(crate::error_code::ResponseError::FencedLeaderEpoch.code())
        );
        assert_eq!(
            one.check_replica_fetch(fetch(4), true, 0),
            Err(crate::error_code::ResponseError::UnknownLeaderEpoch.code())
        );
        let stranger = ReplicaFetch {
            replica_id: 9,
            ..fetch(3)
        };
        assert_eq!(
            one.check_replica_fetch(stranger, true, 0),
            Err(crate::error_code::ResponseError::ReplicaNotAvailable.code())
        );
    });
}

#[test]
fn a_follower_behind_the_leaders_log_start_starts_over_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let one = replica(&path, 1).await;
        let two = replica(&path, 2).await;
        assign(&one, 1, 1, 1, &[1]).await;
        produce(&one, &[b"a", b"b", b"c", b"d"]).await;
        one.flush().await.unwrap();
        one.log().delete_records_before(3).await.unwrap();
        assign(&two, 2, 1, 1, &[1]).await;
        let position = two.fetch_position().unwrap();
        let fetch = ReplicaFetch {
            replica_id: 2,
            fetch_offset: position.fetch_offset,
            last_fetched_epoch: position.last_fetched_epoch,
            current_leader_epoch: 1,
        };
        assert_eq!(
            one.check_replica_fetch(fetch, true, 0),
            Err(crate::error_code::ResponseError::OffsetOutOfRange.code())
        );
        two.restart_at(one.log_start_offset()).await.unwrap();
        assert_eq!(two.log_start_offset(), 3);
        fetch_round(&one, &two, 2).await;
        assert_eq!(two.log_end_offset(), 4);
        assert_eq!(bytes_of(&one).await, bytes_of(&two).await);
    });
}

#[test]
fn a_fetch_of_more_batches_than_one_append_takes_is_copied_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    run(move || async move {
        let one = replica(&path, 1).await;
        let two = replica(&path, 2).await;
        assign(&one, 1, 1, 1, &[1, 2]).await;
        assign(&two, 2, 1, 1, &[1, 2]).await;
        let values: Vec<&[u8]> = vec![b"v"; 1000];
        produce(&one, &values).await;
        produce(&one, &values).await;
        one.flush().await.unwrap();
        assert!(fetch_round(&one, &two, 2).await);
        assert_eq!(two.log_end_offset(), 2000);
        assert_eq!(bytes_of(&one).await, bytes_of(&two).await);
    });
}
