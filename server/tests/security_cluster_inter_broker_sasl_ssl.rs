//! Issue 17, inter-broker and controller traffic secured: three brokers whose inter-broker
//! listener is SASL_SSL (PLAIN, `User:broker`) and whose controller listener is SSL with
//! mutual TLS, the authorizer on (`super.users = User:admin;User:broker`, nothing else open),
//! and `ssl.client.auth = required`: each broker presents its certificate to the others.
//!
//! confluent-kafka over SASL_SSL produces with acks=all to an RF=3 topic with
//! min.insync.replicas=2; the leader of a partition is killed with SIGKILL; every acknowledged
//! record is read back from another broker. The killed broker rejoins every ISR (it caught up
//! by fetching over SASL_SSL), a transaction over partitions led by different brokers commits
//! (markers and verification over SASL_SSL), and the replicas are byte-identical.
//!
//! Then the controller port is probed without a client certificate (plain TCP, and TLS
//! without a certificate): each connection is closed with one log line, and the cluster keeps
//! serving acks=all writes.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::clients;
use common::process::run_with_timeout;
use common::replicas::{assert_replicas_identical, ELECTION_TIMEOUT, REJOIN_TIMEOUT};
use common::secure_cluster::{run_python, SecureCluster};
use common::wait::wait_until;

const BROKERS: usize = 3;
const TOPIC: &str = "ib-acked";
const PARTITIONS: i32 = 3;
const RECORDS: usize = 300;
const REPLICA_LAG_MS: u64 = 3_000;
/// How long a refused controller connection may take to be closed (the TLS handshake limit
/// is 10 s; a refusal is immediate).
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(15);
const LOG_TIMEOUT: Duration = Duration::from_secs(15);

#[test]
fn brokers_replicate_and_commit_transactions_over_sasl_ssl_and_controllers_need_certificates() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    // Client certificates required on SASL_SSL too: brokers present theirs to each other.
    let extra = "\"transaction.state.log.num.partitions\" = 3\n";
    let (mut sc, views) = SecureCluster::start_replicating(
        &python,
        BROKERS,
        REPLICA_LAG_MS,
        extra,
        TOPIC,
        PARTITIONS,
    );

    let args = sc.producer_args(TOPIC, RECORDS, "before-kill");
    let produced = run_python(&python, "produce_acked", &args);
    let delivered = produced["delivered"].as_array().unwrap().clone();
    assert_eq!(
        delivered.len(),
        RECORDS,
        "acks=all over SASL_SSL: {produced}"
    );

    // Kill the leader of partition 0; another broker takes over from the ISR.
    let victim_node = views[0].leader;
    let victim = sc.cluster.index_of(victim_node);
    let survivor = (victim + 1) % BROKERS;
    sc.cluster.brokers[victim].kill9();
    let new_leader =
        sc.cluster
            .wait_for_new_leader(survivor, TOPIC, 0, victim_node, ELECTION_TIMEOUT);
    eprintln!("node {victim_node} killed; node {new_leader} leads {TOPIC}-0");

    let mut read = sc.admin_connection(survivor);
    read["topic"] = serde_json::json!(TOPIC);
    read["partitions"] = serde_json::json!(PARTITIONS);
    read["count"] = serde_json::json!(RECORDS);
    let stored = run_python(&python, "read_all", &read);
    let records = stored["records"].as_array().unwrap();
    for record in &delivered {
        assert!(
            records.contains(record),
            "acknowledged {record} not read back from node {}: {stored}",
            sc.cluster.node_ids[survivor]
        );
    }
    eprintln!("all {RECORDS} acknowledged records read back after the kill");

    // The killed broker comes back and must catch up by fetching over SASL_SSL.
    sc.cluster.brokers[victim].respawn();
    sc.cluster.brokers[victim].wait_started();
    sc.cluster
        .wait_for_full_isr(survivor, TOPIC, PARTITIONS as usize, REJOIN_TIMEOUT);
    eprintln!("node {victim_node} is back in every ISR");

    // A transaction over every partition: the coordinator's markers and verification go to
    // the partition leaders over SASL_SSL, as User:broker.
    let leaders =
        sc.cluster
            .wait_for_full_isr(survivor, TOPIC, PARTITIONS as usize, REJOIN_TIMEOUT);
    let mut distinct: Vec<i32> = leaders.iter().map(|v| v.leader).collect();
    distinct.sort_unstable();
    distinct.dedup();
    eprintln!("partition leaders for the transaction: {distinct:?}");
    let mut txn = args.clone();
    txn["transactional_id"] = serde_json::json!("ib-txn");
    txn["partitions"] = serde_json::json!(PARTITIONS);
    let committed = run_python(&python, "transaction", &txn);
    assert_eq!(committed["committed"], true, "{committed}");
    let mut read_txn = read.clone();
    read_txn["count"] = serde_json::json!(RECORDS + PARTITIONS as usize);
    let stored = run_python(&python, "read_all", &read_txn);
    let values: Vec<&str> = stored["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r[2].as_str())
        .collect();
    for partition in 0..PARTITIONS {
        assert!(
            values.contains(&format!("txn-{partition}").as_str()),
            "committed txn-{partition} not readable: {stored}"
        );
    }

    assert_replicas_identical(&sc.cluster, survivor, TOPIC, PARTITIONS as usize);

    probe_controller_without_certificate(&sc, survivor);
    let mut after = args.clone();
    after["count"] = serde_json::json!(20);
    after["prefix"] = serde_json::json!("after-probe");
    let produced = run_python(&python, "produce_acked", &after);
    assert_eq!(
        produced["delivered"].as_array().unwrap().len(),
        20,
        "the cluster serves acks=all after the probes: {produced}"
    );
}

/// A plain TCP connection speaking the controller protocol, then a TLS one without a client
/// certificate: both closed, one log line each.
fn probe_controller_without_certificate(sc: &SecureCluster, index: usize) {
    let broker = &sc.cluster.brokers[index];
    let port = sc.cluster.controller_ports[index];
    let refusals = |log: &str| {
        log.lines()
            .filter(|l| l.contains("closing controller connection"))
            .count()
    };
    let before = refusals(&broker.log_text());

    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(REFUSAL_TIMEOUT)).unwrap();
    // A Hello frame's shape: length, kind, correlation id, JSON.
    let hello = br#"{"cluster_id":"x","node_id":9}"#;
    let mut frame = Vec::new();
    frame.extend_from_slice(&((1 + 8 + hello.len()) as u32).to_be_bytes());
    frame.push(0);
    frame.extend_from_slice(&0u64.to_be_bytes());
    frame.extend_from_slice(hello);
    stream.write_all(&frame).unwrap();
    let mut answer = Vec::new();
    // Closed: EOF or a reset, never an answer to the frame.
    let _ = stream.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(&frame[..4]),
        "a plaintext controller connection was answered"
    );
    let log = wait_until("the plaintext refusal's log line", LOG_TIMEOUT, || {
        let log = broker.log_text();
        (refusals(&log) == before + 1).then_some(log)
    });
    assert!(log.contains("TLS handshake failed"), "{log}");

    // TLS that verifies the broker but shows no certificate of its own.
    let mut command = Command::new("openssl");
    command
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(sc.pki.ca())
        .stdin(Stdio::null());
    let finished = run_with_timeout(&mut command, REFUSAL_TIMEOUT, "openssl s_client");
    eprintln!(
        "openssl s_client without a certificate: {}",
        finished.status
    );
    let log = wait_until("the certificate refusal's log line", LOG_TIMEOUT, || {
        let log = broker.log_text();
        (refusals(&log) == before + 2).then_some(log)
    });
    let last = log
        .lines()
        .filter(|l| l.contains("closing controller connection"))
        .last()
        .unwrap()
        .to_string();
    assert!(last.contains("certificate"), "{last}");
    eprintln!("refused: {last}");
}
