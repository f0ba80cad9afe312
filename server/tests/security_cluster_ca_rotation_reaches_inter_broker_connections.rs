//! A CA rotation on a running cluster reaches the connections brokers open to each other, not
//! only their listeners.
//!
//! Three brokers replicate over SASL_SSL with `ssl.client.auth = required` and run their
//! controllers over mutual TLS (the `SecureCluster` setup). The operator rotates the CA the
//! usual way: the truststore file now holds the old and the new CA, the keystore file a broker
//! certificate of the new CA, and every broker gets SIGHUP. Every connection opened from then on
//! meets certificates of the new CA, in both directions.
//!
//! The leader of partition 0 is killed and started again, so every connection to it is new;
//! once it is back in the ISR, the controller hands it its preferred leaderships back (rebalance
//! every second) and the other two must fetch from it. acks=all writes (min.insync.replicas 2)
//! must then be acknowledged and every replica must stay in the ISR. A broker that kept the
//! trust and the client certificate it read at start cannot reach the restarted one: its
//! handshakes fail and the writes are never acknowledged.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::clients;
use common::replicas::{assert_replicas_identical, ELECTION_TIMEOUT, REJOIN_TIMEOUT};
use common::secure_cluster::{run_python, SecureCluster};

const BROKERS: usize = 3;
const TOPIC: &str = "ib-rotated";
const PARTITIONS: i32 = 3;
const RECORDS: usize = 100;
const REPLICA_LAG_MS: u64 = 3_000;
const LOG_TIMEOUT: Duration = Duration::from_secs(15);

#[test]
fn a_ca_rotation_with_sighup_reaches_the_connections_brokers_open_to_each_other() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let extra = "\"leader.imbalance.check.interval.seconds\" = 1\n";
    let (mut sc, views) = SecureCluster::start_replicating(
        &python,
        BROKERS,
        REPLICA_LAG_MS,
        extra,
        TOPIC,
        PARTITIONS,
    );

    let before = sc.producer_args(TOPIC, RECORDS, "before-rotation");
    let produced = run_python(&python, "produce_acked", &before);
    assert_eq!(
        produced["delivered"].as_array().unwrap().len(),
        RECORDS,
        "acks=all before the rotation: {produced}"
    );

    sc.pki.rotate_ca();
    for broker in &sc.cluster.brokers {
        broker.reload_certificates();
    }

    // Every connection to the leader of partition 0 is opened again after the rotation.
    let victim_node = views[0].leader;
    let victim = sc.cluster.index_of(victim_node);
    let survivor = (victim + 1) % BROKERS;
    sc.cluster.brokers[victim].kill9();
    sc.cluster
        .wait_for_new_leader(survivor, TOPIC, 0, victim_node, ELECTION_TIMEOUT);
    sc.cluster.brokers[victim].respawn();
    sc.cluster.brokers[victim].wait_started();
    eprintln!("node {victim_node} restarted with a certificate of the new CA");

    // Back in every ISR, and leading its preferred partitions again: the others fetch from it.
    let led = sc.cluster.wait_for_partitions(
        survivor,
        TOPIC,
        "every partition led by its preferred replica with all replicas in sync",
        REJOIN_TIMEOUT,
        |views| {
            views.len() == PARTITIONS as usize
                && views
                    .iter()
                    .all(|v| v.fully_in_sync() && v.replicas.first() == Some(&v.leader))
        },
    );
    assert_eq!(led[0].leader, victim_node);

    let after = sc.producer_args(TOPIC, RECORDS, "after-rotation");
    let produced = run_python(&python, "produce_acked", &after);
    assert_eq!(
        produced["delivered"].as_array().unwrap().len(),
        RECORDS,
        "acks=all after the rotation, partition 0 led by the restarted node: {produced}"
    );
    sc.cluster
        .wait_for_full_isr(survivor, TOPIC, PARTITIONS as usize, REJOIN_TIMEOUT);
    for (index, broker) in sc.cluster.brokers.iter().enumerate() {
        if index != victim {
            broker.wait_for_log(
                "reloaded TLS certificates for inter-broker connections",
                LOG_TIMEOUT,
            );
        }
    }
    assert_replicas_identical(&sc.cluster, survivor, TOPIC, PARTITIONS as usize);
}
