//! Three brokers whose followers long-poll for as long as the broker allows
//! (`replica.fetch.wait.max.ms` = 30 s): once a first replicated topic is in sync, every
//! replication stream sits in such a poll. confluent-kafka then creates a second topic
//! (replication factor 3, `min.insync.replicas` 2) and writes one message with acks=all to each
//! of its partitions, each allowed 10 s (`message.timeout.ms`).
//!
//! Pass: every message is delivered, and some stream dropped its long poll to fetch the new
//! partitions (`sluice_replication_fetches_abandoned_total`). A follower that waited out its poll
//! before naming the new partitions would leave their high watermarks where they are for up to
//! 30 s, and every message would time out.

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::Cluster;
use common::kafka::create_replicated_topic;
use common::metrics::{metrics_address, scrape, total};
use common::process::run_with_timeout;
use common::replicas::{
    replication_toml, MIN_INSYNC_CONFIG, MIN_INSYNC_REPLICAS, REJOIN_TIMEOUT, REPLICATION_FACTOR,
};
use serde_json::Value;

const BROKERS: usize = 3;
const PARTITIONS: i32 = 3;
const WARM_TOPIC: &str = "long-polled";
const NEW_TOPIC: &str = "created-under-long-polls";
const REPLICA_LAG_MS: u64 = 10_000;
/// The longest long poll a broker accepts (`limits::FETCH_WAIT_MS_MAX`).
const REPLICA_FETCH_WAIT_MAX_MS: u64 = 30_000;
/// Far below the long poll: only a follower that names the new partitions at once makes it.
const MESSAGE_TIMEOUT_MS: &str = "10000";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// What the script may spend inside its own waits (under `SCRIPT_TIMEOUT`).
const SCRIPT_WAIT_S: &str = "60";

#[test]
fn a_new_topic_is_fetched_without_waiting_out_the_long_poll() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let toml = format!(
        "{}\"replica.fetch.wait.max.ms\" = {REPLICA_FETCH_WAIT_MAX_MS}\n",
        replication_toml(REPLICA_LAG_MS)
    );
    let cluster = Cluster::start(BROKERS, BrokerOptions::default().config(&toml));
    let mut conn = cluster.brokers[0].connect();
    create_replicated_topic(
        &mut conn,
        WARM_TOPIC,
        PARTITIONS,
        REPLICATION_FACTOR,
        &MIN_INSYNC_CONFIG,
    );
    cluster.wait_for_full_isr(0, WARM_TOPIC, PARTITIONS as usize, REJOIN_TIMEOUT);

    let mut command = Command::new(&python);
    command
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("first_acks_all_writes.py")
        .args(["--bootstrap", &cluster.bootstrap()])
        .args(["--topic", NEW_TOPIC])
        .args(["--partitions", &PARTITIONS.to_string()])
        .args(["--replication-factor", &REPLICATION_FACTOR.to_string()])
        .args([
            "--config",
            &format!("min.insync.replicas={MIN_INSYNC_REPLICAS}"),
        ])
        .args(["--message-timeout-ms", MESSAGE_TIMEOUT_MS])
        .args(["--timeout-s", SCRIPT_WAIT_S]);
    let finished = run_with_timeout(&mut command, SCRIPT_TIMEOUT, "first_acks_all_writes.py");
    assert!(
        finished.status.success(),
        "first_acks_all_writes.py failed\n{}",
        finished.transcript()
    );
    let line = finished.stdout.lines().last().unwrap_or_default();
    let report: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("a JSON report ({e})\n{}", finished.transcript()));
    eprintln!("confluent-kafka: {report}");
    assert_eq!(
        report["errors"],
        Value::Array(Vec::new()),
        "acks=all writes to the new topic failed: {report}"
    );
    assert_eq!(report["delivered"], Value::from(PARTITIONS), "{report}");

    let abandoned: f64 = cluster
        .brokers
        .iter()
        .map(|broker| {
            let text = scrape(metrics_address(broker)).1;
            total(&text, "sluice_replication_fetches_abandoned_total").unwrap_or(0.0)
        })
        .sum();
    assert!(
        abandoned >= 1.0,
        "no replication stream dropped its long poll for the new partitions"
    );
}
