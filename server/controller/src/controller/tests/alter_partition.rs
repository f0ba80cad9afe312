//! AlterPartition: a leader changes its ISR (Kafka's ReplicationControlManagerTest
//! `testAlterPartition*` cases): every refusal with its error, the race of two requests made
//! from one partition epoch, brokers that may not join the ISR, and what success writes.

use super::*;
use crate::records::{MetadataRecord, NO_LEADER};

/// Brokers 1..=3, topic "t" with one partition on [1, 2, 3] whose ISR the leader (1) has
/// shrunk to [1].
fn shrunk() -> Cluster {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    cluster.alter_isr("t", 0, &[1]);
    cluster
}

fn refusal(cluster: &mut Cluster, request: AlterPartition) -> ErrorKind {
    cluster.try_alter(request).unwrap_err().kind
}

#[test]
fn a_shrink_and_an_expansion_bump_the_partition_epoch_only() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    let reply = cluster.alter_isr("t", 0, &[1, 3]);
    assert_eq!(
        reply,
        AlterPartitionReply {
            leader_epoch: 0,
            partition_epoch: 1,
            isr: vec![1, 3]
        }
    );
    let reply = cluster.alter_isr("t", 0, &[1, 3, 2]);
    assert_eq!((reply.leader_epoch, reply.partition_epoch), (0, 2));
    let partition = cluster.partition("t", 0);
    assert_eq!(partition.isr, vec![1, 3, 2], "the leader's order is kept");
    assert_eq!(partition.leader, 1);
    assert_eq!(partition.partition_epoch, 2);
}

#[test]
fn the_same_isr_at_the_same_epoch_answers_success_without_a_record() {
    let mut cluster = shrunk();
    let offset = cluster.image.offset;
    let request = cluster.alter_request("t", 0, &[1]);
    let (batch, reply) = cluster.try_alter(request).unwrap();
    assert!(batch.records.is_empty());
    assert_eq!(cluster.image.offset, offset);
    assert_eq!((reply.leader_epoch, reply.partition_epoch), (0, 1));
    assert_eq!(reply.isr, vec![1]);
}

#[test]
fn a_stale_or_unknown_broker_epoch_is_refused() {
    let mut cluster = shrunk();
    let mut request = cluster.alter_request("t", 0, &[1, 2]);
    request.broker_epoch -= 1;
    assert_eq!(
        refusal(&mut cluster, request.clone()),
        ErrorKind::StaleBrokerEpoch
    );
    request.broker_id = 9;
    assert_eq!(refusal(&mut cluster, request), ErrorKind::StaleBrokerEpoch);
}

#[test]
fn an_unknown_topic_or_partition_is_refused() {
    let mut cluster = shrunk();
    let mut request = cluster.alter_request("t", 0, &[1, 2]);
    request.partition = 1;
    let unknown_partition = request.clone();
    assert_eq!(
        refusal(&mut cluster, unknown_partition),
        ErrorKind::UnknownTopicOrPartition
    );
    request.partition = -1;
    assert_eq!(
        refusal(&mut cluster, request.clone()),
        ErrorKind::UnknownTopicOrPartition
    );
    request.partition = 0;
    request.topic_id = crate::records::TopicId(0x5eed);
    assert_eq!(
        refusal(&mut cluster, request),
        ErrorKind::UnknownTopicOrPartition
    );
}

#[test]
fn a_broker_that_does_not_lead_is_refused() {
    let mut cluster = shrunk();
    let mut request = cluster.alter_request("t", 0, &[1, 2]);
    request.broker_id = 2;
    request.broker_epoch = cluster.epoch(2);
    assert_eq!(
        refusal(&mut cluster, request),
        ErrorKind::NotLeaderOrFollower
    );
}

#[test]
fn an_older_leader_epoch_is_fenced_and_a_newer_one_means_another_controller() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    let stale = cluster.alter_request("t", 0, &[1, 2]);
    cluster.fence_by_silence(1);
    assert_eq!(cluster.leader("t", 0), 2);
    let mut from_old_leader = stale.clone();
    from_old_leader.broker_id = 2;
    from_old_leader.broker_epoch = cluster.epoch(2);
    assert_eq!(
        refusal(&mut cluster, from_old_leader),
        ErrorKind::FencedLeaderEpoch,
        "the request was made at the epoch before the election"
    );
    let mut ahead = cluster.alter_request("t", 0, &[2, 3]);
    ahead.leader_epoch += 1;
    assert_eq!(
        refusal(&mut cluster, ahead.clone()),
        ErrorKind::NotController
    );
    ahead.leader_epoch -= 1;
    ahead.partition_epoch += 1;
    assert_eq!(refusal(&mut cluster, ahead), ErrorKind::NotController);
}

#[test]
fn of_two_requests_made_at_one_partition_epoch_the_second_is_an_invalid_update_version() {
    let mut cluster = shrunk();
    let first = cluster.alter_request("t", 0, &[1, 2]);
    let second = cluster.alter_request("t", 0, &[1, 3]);
    cluster.try_alter(first).unwrap();
    assert_eq!(
        refusal(&mut cluster, second),
        ErrorKind::InvalidUpdateVersion
    );
    assert_eq!(cluster.isr("t", 0), vec![1, 2], "the first one holds");
}

#[test]
fn an_isr_outside_the_replicas_repeating_a_broker_or_without_the_leader_is_invalid() {
    let mut cluster = Cluster::with_brokers(4);
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    for new_isr in [&[1, 4][..], &[1, 2, 2], &[2, 3], &[]] {
        let request = cluster.alter_request("t", 0, new_isr);
        assert_eq!(
            refusal(&mut cluster, request),
            ErrorKind::InvalidRequest,
            "{new_isr:?}"
        );
    }
}

#[test]
fn a_fenced_broker_is_not_added() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    cluster.fence_by_silence(3);
    assert_eq!(cluster.isr("t", 0), vec![1, 2]);
    let request = cluster.alter_request("t", 0, &[1, 2, 3]);
    assert_eq!(refusal(&mut cluster, request), ErrorKind::IneligibleReplica);
    cluster.start_broker(3);
    cluster.alter_isr("t", 0, &[1, 2, 3]);
    assert_eq!(cluster.isr("t", 0), vec![1, 2, 3], "unfenced, it may join");
}

#[test]
fn a_broker_in_controlled_shutdown_is_not_added() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.create_assigned("u", &[&[1, 2]]);
    // Broker 2 leads "v", so its shutdown takes a while: it stays registered, shutting down.
    cluster.create_assigned("v", &[&[2, 1]]);
    let reply = cluster.shutdown_heartbeat(2);
    assert!(!reply.should_shutdown);
    assert!(cluster.image.broker(2).unwrap().shutting_down);
    assert_eq!(cluster.isr("u", 0), vec![1]);
    let request = cluster.alter_request("u", 0, &[1, 2]);
    assert_eq!(refusal(&mut cluster, request), ErrorKind::IneligibleReplica);
}

#[test]
fn a_fenced_replica_a_reassignment_adds_cannot_join_the_isr() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2]]);
    cluster.register(4);
    assert!(cluster.is_fenced(4));
    cluster.reassign("t", 0, Some(&[1, 2, 4])).unwrap();
    let request = cluster.alter_request("t", 0, &[1, 2, 4]);
    assert_eq!(refusal(&mut cluster, request), ErrorKind::IneligibleReplica);
    assert_eq!(cluster.partition("t", 0).adding_replicas, vec![4]);
}

#[test]
fn a_member_already_in_the_isr_is_not_checked_again() {
    // KIP-841 is about brokers joining the ISR; a shrink that keeps members is always fine.
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    let reply = cluster.alter_isr("t", 0, &[1, 3]);
    assert_eq!(reply.isr, vec![1, 3]);
}

#[test]
fn success_writes_one_partition_change_with_only_the_isr() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3]]);
    let request = cluster.alter_request("t", 0, &[1, 2]);
    let (batch, _) = cluster.try_alter(request).unwrap();
    let topic_id = cluster.image.topic("t").unwrap().topic_id;
    assert_eq!(
        batch.records,
        vec![MetadataRecord::PartitionChange {
            topic_id,
            partition: 0,
            leader: None,
            isr: Some(vec![1, 2]),
            replicas: None,
            leader_recovery_state: None,
            adding_replicas: None,
            removing_replicas: None,
            bump_leader_epoch: false,
        }]
    );
    assert_ne!(cluster.leader("t", 0), NO_LEADER);
}
