//! Issue 17, brokers logging in to each other with SCRAM-SHA-512: the broker's SCRAM user
//! lives in the cluster metadata, so it can only be made once the cluster runs. The quorum
//! forms over the controller listener (mutual TLS, no user needed); an admin then creates
//! `broker` through AdminClient over SASL_SSL; the followers' next login succeeds, and an
//! acks=all write to an RF=3 topic with min.insync.replicas=2 is acknowledged and held
//! byte-identical by all three replicas (the followers fetched it over SASL_SSL with SCRAM).
#![allow(clippy::unwrap_used)]

mod common;

use common::clients;
use common::replicas::{
    assert_replicas_identical, replication_toml, REJOIN_TIMEOUT, REPLICATION_FACTOR,
};
use common::secure_cluster::{run_python, SecureCluster, BROKER_PASSWORD};

const BROKERS: usize = 3;
const TOPIC: &str = "ib-scram";
const PARTITIONS: i32 = 3;
const RECORDS: usize = 100;
const REPLICA_LAG_MS: u64 = 10_000;

#[test]
fn brokers_replicate_over_sasl_ssl_with_scram_once_their_user_exists() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let sc = SecureCluster::start_with(
        "SCRAM-SHA-512",
        BROKERS,
        &replication_toml(REPLICA_LAG_MS),
        |_| BROKER_PASSWORD.to_string(),
    );
    let mut args = sc.admin_connection(0);
    args["users"] = serde_json::json!([["broker", BROKER_PASSWORD, "SCRAM-SHA-512"]]);
    let out = run_python(&python, "admin", &args);
    assert_eq!(out["users"]["broker"], "ok", "{out}");
    sc.open_harness(&python);
    sc.create_min_insync_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR);
    sc.cluster
        .wait_for_full_isr(0, TOPIC, PARTITIONS as usize, REJOIN_TIMEOUT);
    let mut produce = sc.admin_connection(1);
    produce["topic"] = serde_json::json!(TOPIC);
    produce["count"] = serde_json::json!(RECORDS);
    produce["prefix"] = serde_json::json!("scram");
    let produced = run_python(&python, "produce_acked", &produce);
    assert_eq!(
        produced["delivered"].as_array().unwrap().len(),
        RECORDS,
        "acks=all with followers logging in by SCRAM: {produced}"
    );
    assert_replicas_identical(&sc.cluster, 0, TOPIC, PARTITIONS as usize);
}
