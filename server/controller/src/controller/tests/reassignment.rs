//! Partition reassignment (KIP-455; Kafka's ReplicationControlManagerTest reassignment cases):
//! the replicas grow to target ∪ current, and shrink to the target only once every target
//! replica is in the ISR.

use super::*;
use crate::records::MetadataRecord;

#[test]
fn a_reassignment_completes_only_once_every_target_replica_is_in_sync() {
    let mut cluster = Cluster::with_brokers(4);
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    cluster.reassign("t", 0, Some(&[2, 3, 4])).unwrap();
    let started = cluster.partition("t", 0);
    assert_eq!(
        started.replicas,
        vec![2, 3, 4, 1],
        "target, then the removed ones"
    );
    assert_eq!(started.adding_replicas, vec![4]);
    assert_eq!(started.removing_replicas, vec![1]);
    assert_eq!(started.leader, 1);
    assert_eq!(started.leader_epoch, 0);
    assert_eq!(cluster.image.reassigning_partitions().count(), 1);

    cluster.heartbeat(1);
    cluster.tick();
    assert_eq!(
        cluster.partition("t", 0),
        started,
        "4 is not in sync: nothing to do"
    );
    cluster.alter_isr("t", 0, &[1, 2]);
    assert!(
        cluster.partition("t", 0).is_reassigning(),
        "an ISR shrink does not complete it"
    );

    let reply = cluster.alter_isr("t", 0, &[1, 2, 4]);
    assert!(
        cluster.partition("t", 0).is_reassigning(),
        "3 left the ISR meanwhile"
    );
    assert_eq!(reply.isr, vec![1, 2, 4]);

    let before = cluster.partition("t", 0);
    let reply = cluster.alter_isr("t", 0, &[1, 2, 4, 3]);
    let done = cluster.partition("t", 0);
    assert!(!done.is_reassigning());
    assert_eq!(done.replicas, vec![2, 3, 4]);
    assert_eq!(
        done.isr,
        vec![2, 4, 3],
        "the ISR without the removed replica"
    );
    assert_eq!(
        done.leader, 2,
        "the removed leader hands over to the first target replica"
    );
    assert_eq!(done.leader_epoch, before.leader_epoch + 1);
    assert_eq!(done.partition_epoch, before.partition_epoch + 1);
    assert_eq!(
        (reply.leader_epoch, reply.partition_epoch),
        (done.leader_epoch, done.partition_epoch),
        "the old leader learns of the new leader epoch"
    );
    assert_eq!(cluster.image.reassigning_partitions().count(), 0);
}

#[test]
fn a_leader_that_stays_gets_a_new_leader_epoch_when_replicas_leave() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.reassign("t", 0, Some(&[1, 3])).unwrap();
    let before = cluster.partition("t", 0);
    cluster.alter_isr("t", 0, &[1, 2, 3]);
    let done = cluster.partition("t", 0);
    assert_eq!(done.replicas, vec![1, 3]);
    assert_eq!(done.isr, vec![1, 3]);
    assert_eq!(done.leader, 1);
    assert_eq!(
        done.leader_epoch,
        before.leader_epoch + 1,
        "fences the removed follower"
    );
}

#[test]
fn reordering_or_shrinking_to_in_sync_replicas_completes_at_once() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3], &[1, 2, 3]]);
    cluster.reassign("t", 0, Some(&[3, 2, 1])).unwrap();
    let reordered = cluster.partition("t", 0);
    assert_eq!(reordered.replicas, vec![3, 2, 1]);
    assert!(!reordered.is_reassigning());
    assert_eq!(
        reordered.leader, 1,
        "reordering moves no leadership by itself"
    );
    assert_eq!(reordered.leader_epoch, 0);

    cluster.reassign("t", 1, Some(&[2, 3])).unwrap();
    let shrunk = cluster.partition("t", 1);
    assert_eq!(shrunk.replicas, vec![2, 3]);
    assert_eq!(shrunk.isr, vec![2, 3]);
    assert_eq!(shrunk.leader, 2);
    assert!(!shrunk.is_reassigning());
}

#[test]
fn the_tick_completes_a_reassignment_whose_targets_got_in_sync_otherwise() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.reassign("t", 0, Some(&[1, 3])).unwrap();
    // An ISR change written by an earlier controller, which did not complete it.
    let topic_id = cluster.image.topic("t").unwrap().topic_id;
    cluster.commit(RecordBatch {
        records: vec![MetadataRecord::PartitionChange {
            topic_id,
            partition: 0,
            leader: None,
            isr: Some(vec![1, 2, 3]),
            replicas: None,
            leader_recovery_state: None,
            adding_replicas: None,
            removing_replicas: None,
            bump_leader_epoch: false,
        }],
    });
    assert!(cluster.partition("t", 0).is_reassigning());
    cluster.heartbeat(1);
    cluster.tick();
    let done = cluster.partition("t", 0);
    assert!(!done.is_reassigning());
    assert_eq!(done.replicas, vec![1, 3]);
}

#[test]
fn cancelling_restores_the_replicas_without_the_added_ones() {
    let mut cluster = Cluster::with_brokers(4);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.reassign("t", 0, Some(&[3, 4])).unwrap();
    assert_eq!(cluster.partition("t", 0).replicas, vec![3, 4, 1, 2]);
    cluster.alter_isr("t", 0, &[1, 2, 3]);
    let before = cluster.partition("t", 0);
    cluster.reassign("t", 0, None).unwrap();
    let reverted = cluster.partition("t", 0);
    assert_eq!(reverted.replicas, vec![1, 2]);
    assert_eq!(reverted.isr, vec![1, 2]);
    assert_eq!(reverted.leader, 1);
    assert!(!reverted.is_reassigning());
    assert_eq!(reverted.leader_epoch, before.leader_epoch + 1);
    assert_eq!(
        cluster.reassign("t", 0, None).unwrap_err().kind,
        ErrorKind::NoReassignmentInProgress
    );
}

#[test]
fn a_new_target_replaces_a_running_reassignment() {
    let mut cluster = Cluster::with_brokers(4);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.reassign("t", 0, Some(&[1, 3])).unwrap();
    cluster.reassign("t", 0, Some(&[1, 4])).unwrap();
    let partition = cluster.partition("t", 0);
    assert_eq!(partition.replicas, vec![1, 4, 3, 2]);
    assert_eq!(partition.adding_replicas, vec![4]);
    assert_eq!(partition.removing_replicas, vec![3, 2]);
    cluster.alter_isr("t", 0, &[1, 2, 4]);
    let done = cluster.partition("t", 0);
    assert_eq!(done.replicas, vec![1, 4]);
    assert_eq!(done.isr, vec![1, 4]);
}

#[test]
fn bad_targets_are_refused_per_partition() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2]]);
    let cases: [(&str, i32, Option<&[i32]>, ErrorKind); 5] = [
        ("t", 0, Some(&[]), ErrorKind::InvalidReplicaAssignment),
        ("t", 0, Some(&[1, 1]), ErrorKind::InvalidReplicaAssignment),
        ("t", 0, Some(&[1, 9]), ErrorKind::InvalidReplicaAssignment),
        ("t", 1, Some(&[1]), ErrorKind::UnknownTopicOrPartition),
        ("nope", 0, Some(&[1]), ErrorKind::UnknownTopicOrPartition),
    ];
    for (topic, partition, replicas, kind) in cases {
        let before = cluster.image.clone();
        let error = cluster.reassign(topic, partition, replicas).unwrap_err();
        assert_eq!(error.kind, kind, "{topic}-{partition} {replicas:?}");
        assert_eq!(cluster.image, before);
    }
}

#[test]
fn one_request_applies_its_good_entries_and_reports_each() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2], &[2, 1]]);
    let entry = |partition, replicas: Option<Vec<i32>>| PartitionReassignment {
        topic: "t".into(),
        partition,
        replicas,
        allow_replication_factor_change: true,
    };
    let entries = [
        entry(0, Some(vec![1, 3])),
        entry(1, None),
        entry(1, Some(vec![2, 3])),
    ];
    let (batch, results) = cluster
        .controller
        .alter_partition_reassignments(&cluster.image, &entries)
        .unwrap();
    cluster.commit(batch);
    assert!(results[0].is_ok());
    assert_eq!(
        results[1].as_ref().unwrap_err().kind,
        ErrorKind::NoReassignmentInProgress
    );
    assert!(results[2].is_ok());
    assert_eq!(cluster.image.reassigning_partitions().count(), 2);
}

#[test]
fn a_new_replication_factor_is_refused_when_the_request_forbids_it() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2]]);
    let entry = |replicas: Vec<i32>| PartitionReassignment {
        topic: "t".into(),
        partition: 0,
        replicas: Some(replicas),
        allow_replication_factor_change: false,
    };
    let entries = [entry(vec![1, 2, 3]), entry(vec![3, 1])];
    let (batch, results) = cluster
        .controller
        .alter_partition_reassignments(&cluster.image, &entries)
        .unwrap();
    cluster.commit(batch);
    assert_eq!(
        results[0].as_ref().unwrap_err().kind,
        ErrorKind::InvalidReplicationFactor
    );
    assert!(results[1].is_ok(), "the same factor on other brokers");
    assert_eq!(cluster.partition("t", 0).target_replicas(), vec![3, 1]);
}

#[test]
fn cancelling_when_only_added_replicas_are_in_sync_needs_an_unclean_election() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.reassign("t", 0, Some(&[1, 2, 3])).unwrap();
    cluster.alter_isr("t", 0, &[1, 3]);
    cluster.fence_by_silence(1);
    // 2 is out of sync, 1 is fenced: the ISR is [3], an added replica, which leads.
    assert_eq!(cluster.isr("t", 0), vec![3]);
    let error = cluster.reassign("t", 0, None).unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidReplicaAssignment);
}
