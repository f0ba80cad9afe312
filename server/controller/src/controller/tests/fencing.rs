//! Fencing on session expiry, and the leader elections it causes.

use super::*;
use crate::records::{MetadataRecord, NO_LEADER};

#[test]
fn a_broker_is_fenced_just_after_its_session_timeout() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.advance(SESSION_TIMEOUT_MS);
    cluster.heartbeat(2);
    assert!(
        cluster.tick().records.is_empty(),
        "alive at exactly the timeout"
    );
    cluster.advance(1);
    let batch = cluster.tick();
    let fence = MetadataRecord::FenceBroker {
        broker_id: 1,
        broker_epoch: cluster.epoch(1),
    };
    assert_eq!(batch.records, vec![fence]);
    assert!(cluster.is_fenced(1));
    assert!(!cluster.is_fenced(2));
    assert!(cluster.tick().records.is_empty(), "fenced once");
}

#[test]
fn a_fenced_leader_is_replaced_by_the_next_active_isr_member_in_replica_order() {
    let mut cluster = Cluster::with_brokers(4);
    cluster.create_assigned("t", &[&[1, 3, 2, 4], &[2, 1, 3, 4]]);
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    for broker_id in [2, 3, 4] {
        cluster.heartbeat(broker_id);
    }
    cluster.tick();
    assert_eq!(
        cluster.leader("t", 0),
        3,
        "replica order, not ISR order or id order"
    );
    assert_eq!(cluster.isr("t", 0), vec![3, 2, 4]);
    assert_eq!(
        cluster.leader("t", 1),
        2,
        "a partition it does not lead keeps its leader"
    );
    assert_eq!(cluster.isr("t", 1), vec![2, 3, 4]);
    let partition = cluster.image.partition("t", 0).unwrap();
    assert_eq!((partition.leader_epoch, partition.partition_epoch), (1, 1));
    let partition = cluster.image.partition("t", 1).unwrap();
    assert_eq!((partition.leader_epoch, partition.partition_epoch), (0, 1));
}

#[test]
fn brokers_fenced_together_never_inherit_each_others_leadership() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    cluster.heartbeat(3);
    let batch = cluster.tick();
    assert_eq!(cluster.leader("t", 0), 3);
    assert_eq!(cluster.isr("t", 0), vec![3]);
    let changes = batch
        .records
        .iter()
        .filter(|r| matches!(r, MetadataRecord::PartitionChange { .. }));
    assert_eq!(
        changes.count(),
        2,
        "one per fenced ISR member, no leader elected twice"
    );
    assert_eq!(cluster.image.partition("t", 0).unwrap().leader_epoch, 1);
}

#[test]
fn a_single_replica_partition_goes_offline_and_keeps_its_isr() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.create_assigned("t", &[&[1], &[2]]);
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    cluster.heartbeat(2);
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
    assert_eq!(cluster.isr("t", 0), vec![1]);
    assert_eq!(cluster.leader("t", 1), 2);
    let offline: Vec<i32> = cluster
        .image
        .offline_partitions()
        .map(|p| p.partition)
        .collect();
    assert_eq!(offline, vec![0]);
    assert_eq!(
        cluster
            .image
            .offline_replicas(cluster.image.partition("t", 0).unwrap()),
        vec![1]
    );
}

#[test]
fn the_last_isr_members_of_a_fully_fenced_partition_stay() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
    assert_eq!(
        cluster.isr("t", 0),
        vec![2],
        "one member is kept, the other removed"
    );
}

#[test]
fn a_fenced_broker_must_catch_up_with_what_happened_while_it_was_away() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    cluster.heartbeat(2);
    cluster.tick();
    assert!(cluster.is_fenced(1));
    cluster.create_topic(create("while-away", 1, 1)).unwrap();
    let offset_when_back = cluster.image.offset;
    let reply = cluster
        .try_heartbeat(1, offset_when_back - 1, false)
        .unwrap();
    assert!(!reply.is_caught_up);
    assert!(reply.is_fenced);
    let reply = cluster.try_heartbeat(1, offset_when_back, false).unwrap();
    assert!(reply.is_caught_up);
    assert!(!reply.is_fenced);
}

#[test]
fn tick_elects_leaders_for_offline_partitions_with_an_active_isr_member() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.create_assigned("t", &[&[1, 2]]);
    let topic_id = cluster.image.topic("t").unwrap().topic_id;
    let offline = MetadataRecord::PartitionChange {
        topic_id,
        partition: 0,
        leader: Some(NO_LEADER),
        isr: None,
        replicas: None,
        leader_recovery_state: None,
        adding_replicas: None,
        removing_replicas: None,
        bump_leader_epoch: false,
    };
    cluster.commit(RecordBatch {
        records: vec![offline],
    });
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), 1);
}
