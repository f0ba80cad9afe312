//! Registration: epochs, retries, duplicates, and what a restart does to the old incarnation.

use super::*;
use crate::records::{MetadataRecord, NO_LEADER};

#[test]
fn registrations_get_increasing_epochs_and_start_fenced() {
    let mut cluster = Cluster::new();
    let first = cluster.register(1);
    let second = cluster.register(2);
    let again = cluster.register(1);
    assert!(first < second);
    assert!(second < again);
    assert_eq!(again, cluster.image.broker_epoch_max);
    assert!(cluster.is_fenced(1));
    assert!(cluster.is_fenced(2));
}

#[test]
fn a_retry_of_the_same_incarnation_returns_the_same_epoch_and_writes_nothing() {
    let mut cluster = Cluster::new();
    let incarnation = cluster.next_incarnation();
    let epoch = cluster.try_register(1, incarnation).unwrap();
    let registration = Registration {
        broker_id: 1,
        incarnation_id: incarnation,
        endpoints: vec![endpoint(1)],
        rack: None,
    };
    let (again, batch) = cluster
        .controller
        .register(&cluster.image, registration.clone(), 5)
        .unwrap();
    assert_eq!(again, epoch);
    assert!(batch.records.is_empty());

    let mut moved = registration;
    moved.endpoints[0].port = 9999;
    let error = cluster
        .controller
        .register(&cluster.image, moved, 5)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidRequest);
}

#[test]
fn a_new_controller_lets_a_restarted_broker_register_before_hearing_the_old_one() {
    let mut cluster = Cluster::with_brokers(1);
    let epoch = cluster.epoch(1);
    // The controller restarts (or moves): it inherits the registration, never heard from it.
    let now_ms = cluster.now_ms;
    cluster.controller.activate(&cluster.image, now_ms);
    let restarted = cluster.next_incarnation();
    let new_epoch = cluster.try_register(1, restarted).unwrap();
    assert!(new_epoch > epoch);
}

#[test]
fn a_second_live_incarnation_is_refused_until_the_session_expires() {
    let mut cluster = Cluster::with_brokers(1);
    let epoch = cluster.epoch(1);
    cluster.advance(SESSION_TIMEOUT_MS);
    let imposter = cluster.next_incarnation();
    let error = cluster.try_register(1, imposter).unwrap_err();
    assert_eq!(error.kind, ErrorKind::DuplicateBrokerRegistration);
    assert_eq!(cluster.epoch(1), epoch);

    cluster.advance(1);
    let new_epoch = cluster.try_register(1, imposter).unwrap();
    assert!(new_epoch > epoch);
    assert!(cluster.is_fenced(1));
}

#[test]
fn a_fenced_registration_is_replaced_at_once() {
    let mut cluster = Cluster::new();
    let old = cluster.register(1);
    cluster.advance(10);
    let new = cluster.register(1);
    assert!(new > old);
}

#[test]
fn a_restart_takes_the_old_incarnation_out_of_its_partitions() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("single", &[&[1]]);
    cluster.create_assigned("triple", &[&[1, 2, 3]]);
    assert_eq!(cluster.leader("single", 0), 1);
    assert_eq!(cluster.leader("triple", 0), 1);

    // Broker 1 was killed and restarted: its old session is gone once it expires.
    cluster.advance(SESSION_TIMEOUT_MS + 1);
    for broker_id in [2, 3] {
        cluster.heartbeat(broker_id);
    }
    let incarnation = cluster.next_incarnation();
    let registration = Registration {
        broker_id: 1,
        incarnation_id: incarnation,
        endpoints: vec![endpoint(1)],
        rack: None,
    };
    let (_, batch) = cluster
        .controller
        .register(&cluster.image, registration, cluster.now_ms)
        .unwrap();
    assert!(matches!(
        batch.records.last(),
        Some(MetadataRecord::RegisterBroker { .. })
    ));
    cluster.commit(batch);

    assert_eq!(cluster.leader("single", 0), NO_LEADER);
    assert_eq!(
        cluster.isr("single", 0),
        vec![1],
        "the last ISR member stays"
    );
    assert_eq!(cluster.leader("triple", 0), 2);
    assert_eq!(cluster.isr("triple", 0), vec![2, 3]);

    // Caught up, it leads its single-replica partition again; the other stays with 2 until
    // the leader adds 1 back to the ISR.
    let reply = cluster.heartbeat(1);
    assert!(!reply.is_fenced);
    assert_eq!(cluster.leader("single", 0), 1);
    assert_eq!(cluster.leader("triple", 0), 2);
}
