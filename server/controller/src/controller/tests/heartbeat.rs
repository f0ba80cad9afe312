//! Heartbeats: stale epochs, catching up, unfencing, and leadership coming back.

use super::*;
use crate::records::{MetadataRecord, NO_LEADER};

#[test]
fn a_broker_is_unfenced_only_once_caught_up() {
    let mut cluster = Cluster::new();
    cluster.register(1);
    let target = cluster.image.offset;
    let reply = cluster.try_heartbeat(1, target - 1, false).unwrap();
    assert_eq!(
        reply,
        HeartbeatReply {
            is_caught_up: false,
            is_fenced: true,
            should_shutdown: false,
        }
    );
    // The target is fixed at the first heartbeat, not moved by later entries.
    cluster.register(2);
    let reply = cluster.try_heartbeat(1, target, false).unwrap();
    assert!(reply.is_caught_up);
    assert!(!reply.is_fenced);
    assert!(!cluster.is_fenced(1));
}

#[test]
fn heartbeats_with_unknown_brokers_or_old_epochs_are_stale() {
    let mut cluster = Cluster::with_brokers(1);
    let unknown = Heartbeat {
        broker_id: 7,
        broker_epoch: 1,
        metadata_offset: 0,
        want_shutdown: false,
    };
    let error = cluster
        .controller
        .heartbeat(&cluster.image, unknown, 0)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::StaleBrokerEpoch);

    let old_epoch = cluster.epoch(1);
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    cluster.register(1);
    let old = Heartbeat {
        broker_id: 1,
        broker_epoch: old_epoch,
        metadata_offset: cluster.image.offset,
        want_shutdown: false,
    };
    let error = cluster
        .controller
        .heartbeat(&cluster.image, old, cluster.now_ms)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::StaleBrokerEpoch);
    assert!(cluster.is_fenced(1), "a stale heartbeat changes nothing");
}

#[test]
fn heartbeats_keep_a_session_alive() {
    let mut cluster = Cluster::with_brokers(1);
    for _ in 0..10 {
        cluster.advance(2_000);
        cluster.heartbeat(1);
        assert!(cluster.tick().records.is_empty());
    }
    assert!(!cluster.is_fenced(1));
}

#[test]
fn a_returning_preferred_replica_leads_again() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3], &[2, 3, 1]]);
    // Brokers 2 and 3 are fenced: they leave both ISRs, and broker 1 leads both partitions.
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    cluster.heartbeat(1);
    cluster.tick();
    assert_eq!(cluster.isr("t", 1), vec![1]);
    assert_eq!(cluster.leader("t", 1), 1);
    // Then 1 goes too: both partitions go offline with ISR [1].
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
    assert_eq!(cluster.leader("t", 1), NO_LEADER);
    assert_eq!(cluster.isr("t", 1), vec![1]);
    // Broker 2 returns first: it is not in the ISR, so nothing comes back.
    cluster.heartbeat(2);
    assert!(!cluster.is_fenced(2));
    assert_eq!(cluster.leader("t", 1), NO_LEADER);
    // Broker 1 returns: the offline partitions elect it.
    cluster.heartbeat(1);
    assert_eq!(cluster.leader("t", 0), 1);
    assert_eq!(cluster.leader("t", 1), 1);
}

#[test]
fn unfencing_moves_leadership_back_to_the_preferred_replica() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.create_assigned("t", &[&[1, 2]]);
    // Broker 2 is the last ISR member when 1 is fenced; then 1 comes back while 2 is alive.
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    cluster.heartbeat(2);
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), 2);
    assert_eq!(cluster.isr("t", 0), vec![2]);
    // The ISR regains broker 1 (the replication layer's AlterPartition, simulated here).
    let topic_id = cluster.image.topic("t").unwrap().topic_id;
    let expand = MetadataRecord::PartitionChange {
        topic_id,
        partition: 0,
        leader: None,
        isr: Some(vec![2, 1]),
        replicas: None,
        leader_recovery_state: None,
        adding_replicas: None,
        removing_replicas: None,
        bump_leader_epoch: false,
    };
    cluster.commit(RecordBatch {
        records: vec![expand],
    });
    let reply = cluster.heartbeat(1);
    assert!(!reply.is_fenced);
    assert_eq!(cluster.leader("t", 0), 1);
    let partition = cluster.image.partition("t", 0).unwrap();
    assert_eq!(partition.leader_epoch, 2);
}

#[test]
fn a_new_controller_gives_every_broker_a_full_session() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.advance(SESSION_TIMEOUT_MS - 1);
    // Failover: the new controller knows nothing of the last heartbeats.
    let mut successor = Controller::new(cluster.controller.config().clone(), 2);
    successor.activate(&cluster.image, cluster.now_ms);
    cluster.controller = successor;
    cluster.advance(SESSION_TIMEOUT_MS);
    assert!(cluster.tick().records.is_empty());
    cluster.advance(1);
    cluster.tick();
    assert!(cluster.is_fenced(1));
    assert!(cluster.is_fenced(2));
}
