//! Controlled shutdown: leaderships move first, the broker is told to stop once it leads
//! nothing, and it is fenced as it stops.

use super::*;
use crate::records::{MetadataRecord, NO_LEADER};

#[test]
fn controlled_shutdown_with_one_replica_takes_its_partitions_offline() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.create_assigned("t", &[&[1], &[2]]);
    let reply = cluster.shutdown_heartbeat(1);
    assert!(!reply.should_shutdown);
    assert!(!reply.is_fenced);
    assert!(cluster.image.broker(1).unwrap().shutting_down);
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
    assert_eq!(cluster.isr("t", 0), vec![1]);
    assert_eq!(cluster.leader("t", 1), 2);

    let reply = cluster.shutdown_heartbeat(1);
    assert!(reply.should_shutdown);
    assert!(reply.is_fenced);
    assert!(cluster.is_fenced(1));
    // Shutting down, it must not be elected by a tick in between.
    cluster.tick();
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
}

#[test]
fn controlled_shutdown_with_three_replicas_moves_leaderships_to_the_isr() {
    let mut cluster = Cluster::with_brokers(3);
    cluster.create_assigned("t", &[&[1, 2, 3], &[2, 1, 3], &[3, 2, 1]]);
    let reply = cluster.shutdown_heartbeat(1);
    assert!(!reply.should_shutdown);
    assert_eq!(cluster.leader("t", 0), 2);
    for partition in 0..3 {
        assert!(
            !cluster.isr("t", partition).contains(&1),
            "partition {partition}"
        );
    }
    assert_eq!(cluster.image.partitions_led_by(1).count(), 0);

    let reply = cluster.shutdown_heartbeat(1);
    assert!(reply.should_shutdown);
    assert!(cluster.is_fenced(1));
    assert_eq!(cluster.leader("t", 1), 2);
    assert_eq!(cluster.leader("t", 2), 3);
}

#[test]
fn a_broker_leading_nothing_may_stop_at_once() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.create_assigned("t", &[&[2, 1]]);
    let reply = cluster.shutdown_heartbeat(1);
    assert!(reply.should_shutdown);
    assert!(reply.is_fenced);
    assert_eq!(cluster.isr("t", 0), vec![2]);
}

#[test]
fn a_fenced_broker_may_stop_at_once_without_records() {
    let mut cluster = Cluster::new();
    cluster.register(1);
    let heartbeat = Heartbeat {
        broker_id: 1,
        broker_epoch: cluster.epoch(1),
        metadata_offset: 0,
        want_shutdown: true,
    };
    let (reply, batch) = cluster
        .controller
        .heartbeat(&cluster.image, heartbeat, 0)
        .unwrap();
    assert!(reply.should_shutdown);
    assert!(batch.records.is_empty());
}

#[test]
fn a_broker_restarted_after_a_clean_shutdown_registers_at_once_and_leads_again() {
    let mut cluster = Cluster::with_brokers(2);
    cluster.create_assigned("single", &[&[1]]);
    cluster.create_assigned("pair", &[&[2, 1]]);
    cluster.shutdown_heartbeat(1);
    assert!(cluster.shutdown_heartbeat(1).should_shutdown);
    cluster.advance(100);
    cluster.register(1);
    let registration = cluster.image.broker(1).unwrap();
    assert!(!registration.shutting_down);
    let reply = cluster.heartbeat(1);
    assert!(!reply.is_fenced);
    assert_eq!(cluster.leader("single", 0), 1);
    assert_eq!(cluster.leader("pair", 0), 2);
    assert_eq!(
        cluster.isr("pair", 0),
        vec![2],
        "it left the ISR when it shut down"
    );
}

#[test]
fn a_shutting_down_broker_is_not_unfenced_or_elected() {
    let mut cluster = Cluster::with_brokers(1);
    cluster.create_assigned("t", &[&[1]]);
    cluster.shutdown_heartbeat(1);
    // It changes its mind: too late, the shutdown goes on.
    let reply = cluster.heartbeat(1);
    assert!(!reply.should_shutdown);
    assert_eq!(cluster.leader("t", 0), NO_LEADER);
    let stop = cluster.shutdown_heartbeat(1);
    assert!(stop.should_shutdown);
    let records = cluster.controller.heartbeat(
        &cluster.image,
        Heartbeat {
            broker_id: 1,
            broker_epoch: cluster.epoch(1),
            metadata_offset: cluster.image.offset,
            want_shutdown: false,
        },
        cluster.now_ms,
    );
    let (reply, batch) = records.unwrap();
    assert!(reply.is_fenced);
    assert!(!batch
        .records
        .iter()
        .any(|r| matches!(r, MetadataRecord::UnfenceBroker { .. })));
}
