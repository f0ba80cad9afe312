//! Issue 17, inter-broker authentication refused: in a cluster whose brokers log in to each
//! other over SASL_SSL, node 3 has the wrong password. It still joins the controller quorum
//! (mutual TLS there needs no password), but it cannot fetch from the other leaders: it
//! leaves (and stays out of) the ISR of every partition it follows, and says why in one clear
//! log line per leader it follows, not one per retry.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::clients;
use common::replicas::{replication_toml, REPLICATION_FACTOR};
use common::secure_cluster::{SecureCluster, BROKER_PASSWORD};
use common::wait::wait_until;

const BROKERS: usize = 3;
const WRONG: usize = 2;
const TOPIC: &str = "ib-wrong-password";
const PARTITIONS: i32 = 3;
const REPLICA_LAG_MS: u64 = 2_000;
const ISR_TIMEOUT: Duration = Duration::from_secs(30);
const LOG_TIMEOUT: Duration = Duration::from_secs(30);
/// Refused retries a leader must have logged before the follower's lines are counted.
const RETRIES_SEEN: usize = 4;
const RETRIES_TIMEOUT: Duration = Duration::from_secs(30);
/// The refusal line, as the follower logs it.
const REFUSAL: &str = "replication connection refused: authentication to";

#[test]
fn a_broker_with_the_wrong_password_never_joins_the_isr_and_says_why_once() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let sc = SecureCluster::start(BROKERS, &replication_toml(REPLICA_LAG_MS), |index| {
        if index == WRONG {
            "not-the-password".to_string()
        } else {
            BROKER_PASSWORD.to_string()
        }
    });
    sc.open_harness(&python);
    let wrong_node = sc.cluster.node_ids[WRONG];
    sc.create_min_insync_topic(TOPIC, PARTITIONS, REPLICATION_FACTOR);
    let out_of_isr = |views: &[common::cluster::PartitionView]| {
        views.len() == PARTITIONS as usize
            && views.iter().all(|v| v.leader >= 0)
            && views
                .iter()
                .filter(|v| v.leader != wrong_node)
                .all(|v| !v.isr.contains(&wrong_node))
    };
    let views = sc.cluster.wait_for_partitions(
        0,
        TOPIC,
        &format!("node {wrong_node} out of the ISR of every partition it follows"),
        ISR_TIMEOUT,
        out_of_isr,
    );
    let followed = views.iter().filter(|v| v.leader != wrong_node).count();
    assert!(
        followed > 0,
        "node {wrong_node} follows some partition: {views:?}"
    );

    let log = sc.cluster.brokers[WRONG].wait_for_log(REFUSAL, LOG_TIMEOUT);
    let line = log.lines().find(|l| l.contains(REFUSAL)).unwrap();
    assert!(line.contains("as broker with PLAIN"), "{line}");
    eprintln!("node {wrong_node}: {line}");

    // Several refused retries later (the leaders log each one): still out of the ISR, and
    // still one line per leader it follows (one replication stream per leader on its one
    // shard), not one per retry.
    let leaders: BTreeSet<i32> = views
        .iter()
        .filter(|v| v.leader != wrong_node)
        .map(|v| v.leader)
        .collect();
    let leader = sc.cluster.index_of(*leaders.iter().next().unwrap());
    wait_until(
        "the leader to refuse the wrong password several times",
        RETRIES_TIMEOUT,
        || {
            let log = sc.cluster.brokers[leader].log_text();
            (log.matches("authentication failed").count() >= RETRIES_SEEN).then_some(())
        },
    );
    let later = sc.cluster.try_partitions(0, TOPIC).unwrap();
    assert!(out_of_isr(&later), "{later:?}");
    let lines = sc.cluster.brokers[WRONG]
        .log_text()
        .matches(REFUSAL)
        .count();
    assert!(
        lines <= leaders.len(),
        "{lines} refusal lines for {} leaders",
        leaders.len()
    );
}
