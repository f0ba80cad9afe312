//! `Partition::replica_metrics`: what a scrape reads of a real partition's role.

use crate::partition::AppendOrigin;
use sluice_engine::batch::build_batch;
use sluice_replica::Assignment;

use super::*;
use crate::metrics::{FollowerLag, LeaderReplication, PartitionReplication};

const RECORDS: i32 = 5;
const NODE: i32 = 1;

fn run<F, Fut>(make: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    crate::partition::test_support::run("replica-metrics-test", make)
}

async fn open(dir: &std::path::Path) -> Partition {
    crate::partition::test_support::open_partition(dir).await
}

fn change(leader: i32, leader_epoch: i32, isr: Vec<i32>, now_ms: u64) -> RoleChange {
    RoleChange {
        node_id: NODE,
        assignment: Assignment {
            replicas: vec![1, 2, 3],
            isr,
            leader,
            leader_epoch,
            partition_epoch: leader_epoch,
        },
        min_insync: 2,
        lag_max_ms: 30_000,
        now_ms,
    }
}

#[test]
fn a_leader_reports_its_isr_and_the_lag_of_followers_that_fetched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let partition = open(&path).await;
        let sole = partition.replica_metrics(0);
        assert_eq!(sole.leader().map(|l| (l.replicas, l.isr)), Some((1, 1)));
        partition
            .apply_role(change(NODE, 1, vec![1, 2], 1_000))
            .await
            .expect("lead");
        let batch = build_batch(0, 1_000, RECORDS, b"value");
        partition
            .append(&[batch], AppendOrigin::CLIENT, 0)
            .await
            .expect("append");
        partition.flush().await.expect("flush");
        // Replica 2 caught up with the log end at 1.5 s; replica 3 never fetched.
        let end = i64::from(RECORDS);
        partition
            .with_leader_state(|state| state.on_follower_fetch(2, end, end, 1_500))
            .expect("leading")
            .expect("2 is a replica");
        let metrics = partition.replica_metrics(4_000);
        let expected = LeaderReplication {
            replicas: 3,
            isr: 2,
            min_insync: 2,
            high_watermark: end,
            followers: vec![FollowerLag {
                replica: 2,
                lag_offsets: 0,
                lag_ms: 2_500,
            }],
        };
        assert_eq!(metrics, PartitionReplication::Leader(expected.clone()));
        assert!(expected.under_replicated());
        assert!(expected.at_min_isr());
        assert!(!expected.under_min_isr());
        partition
            .apply_role(change(2, 2, vec![1, 2], 5_000))
            .await
            .expect("follow");
        let followed = partition.replica_metrics(6_000);
        assert_eq!(
            followed,
            PartitionReplication::Follower {
                leader: 2,
                high_watermark: end,
            }
        );
    });
}
