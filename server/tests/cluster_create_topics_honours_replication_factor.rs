//! On three brokers, confluent-kafka's AdminClient creates a topic with replication factor 3 and
//! `min.insync.replicas=2`: Metadata lists three replicas, all in sync, for every partition;
//! DescribeConfigs shows the override as a topic config and `unclean.leader.election.enable` as
//! the broker default. A factor of 4 is refused with INVALID_REPLICATION_FACTOR in Kafka's words.
//! (Only what the metadata says is checked here: data replication is not part of this.)

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::Cluster;
use common::process::run_with_timeout;
use serde_json::Value;

const BROKERS: usize = 3;
const PARTITIONS: usize = 3;
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// What the script may spend inside its own waits (under `SCRIPT_TIMEOUT`).
const SCRIPT_WAIT_S: &str = "60";

/// Runs `admin_replicated_topic.py` and returns its JSON report.
fn admin_script(
    cluster: &Cluster,
    python: &Path,
    topic: &str,
    factor: i16,
    configs: &[&str],
) -> Value {
    let mut command = Command::new(python);
    command
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("admin_replicated_topic.py")
        .args(["--bootstrap", &cluster.brokers[0].bootstrap()])
        .args(["--topic", topic])
        .args(["--partitions", &PARTITIONS.to_string()])
        .args(["--replication-factor", &factor.to_string()])
        .args(["--broker-id", &cluster.node_ids[0].to_string()])
        .args(["--timeout-s", SCRIPT_WAIT_S]);
    for config in configs {
        command.args(["--config", config]);
    }
    let finished = run_with_timeout(&mut command, SCRIPT_TIMEOUT, "admin_replicated_topic.py");
    if !finished.status.success() {
        for broker in &cluster.brokers {
            eprintln!("{}", broker.log_text());
        }
        panic!(
            "admin_replicated_topic.py failed\n{}",
            finished.transcript()
        );
    }
    let line = finished.stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("a JSON report ({e})\n{}", finished.transcript()))
}

fn ids(value: &Value) -> BTreeSet<i64> {
    value
        .as_array()
        .expect("a list of broker ids")
        .iter()
        .map(|id| id.as_i64().expect("a broker id"))
        .collect()
}

#[test]
fn create_topic_with_replication_factor_three_lists_three_in_sync_replicas() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let cluster = Cluster::start(BROKERS, BrokerOptions::default());
    let report = admin_script(
        &cluster,
        &python,
        "replicated",
        3,
        &["min.insync.replicas=2"],
    );
    assert_eq!(report["created"], Value::Bool(true), "{report}");

    let every_broker: BTreeSet<i64> = cluster.node_ids.iter().map(|id| i64::from(*id)).collect();
    let partitions = report["partitions"].as_array().expect("partitions");
    assert_eq!(partitions.len(), PARTITIONS, "{report}");
    let mut leaders = BTreeSet::new();
    for partition in partitions {
        assert_eq!(
            partition["replicas"].as_array().map(Vec::len),
            Some(3),
            "{partition}"
        );
        assert_eq!(ids(&partition["replicas"]), every_broker, "{partition}");
        assert_eq!(ids(&partition["isrs"]), every_broker, "{partition}");
        let leader = partition["leader"].as_i64().expect("a leader");
        // The leader is the first replica (Kafka's preferred leader).
        assert_eq!(
            partition["replicas"][0].as_i64(),
            Some(leader),
            "{partition}"
        );
        leaders.insert(leader);
    }
    assert_eq!(
        leaders.len(),
        PARTITIONS,
        "leaders spread over the brokers: {report}"
    );

    let topic_configs = &report["topic_configs"];
    assert_eq!(
        topic_configs["min.insync.replicas"]["value"], "2",
        "{report}"
    );
    assert_eq!(
        topic_configs["min.insync.replicas"]["source"], "DYNAMIC_TOPIC_CONFIG",
        "{report}"
    );
    assert_eq!(
        topic_configs["unclean.leader.election.enable"]["value"], "false",
        "{report}"
    );
    assert_ne!(
        topic_configs["unclean.leader.election.enable"]["source"], "DYNAMIC_TOPIC_CONFIG",
        "not overridden: {report}"
    );
    let broker_configs = &report["broker_configs"];
    assert_eq!(
        broker_configs["min.insync.replicas"]["value"], "1",
        "{report}"
    );
    assert_eq!(
        broker_configs["unclean.leader.election.enable"]["value"], "false",
        "{report}"
    );

    more_replicas_than_brokers_is_an_invalid_replication_factor(&cluster, &python);
    the_admin_cli_passes_its_replication_factor(&cluster);
}

/// `sluice topic create --replication-factor 2` gets two replicas, both in sync.
fn the_admin_cli_passes_its_replication_factor(cluster: &Cluster) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .args(["topic", "create", "cli-replicated", "--partitions", "2"])
        .args(["--replication-factor", "2"])
        .args(["--bootstrap", &cluster.brokers[1].bootstrap()]);
    let finished = run_with_timeout(&mut command, SCRIPT_TIMEOUT, "sluice topic create");
    assert!(finished.status.success(), "{}", finished.transcript());
    assert!(
        finished.stdout.contains("replication factor 2"),
        "{}",
        finished.transcript()
    );
    let leaders = cluster.wait_for_leaders(1, "cli-replicated", 2);
    let meta = cluster.metadata(1, &["cli-replicated"]);
    for (partition, leader) in meta.topics[0].partitions.iter().zip(leaders) {
        assert_eq!(partition.replica_nodes.len(), 2, "{partition:?}");
        assert_eq!(
            partition.isr_nodes, partition.replica_nodes,
            "{partition:?}"
        );
        assert_eq!(partition.replica_nodes[0].0, leader, "{partition:?}");
    }
}

fn more_replicas_than_brokers_is_an_invalid_replication_factor(cluster: &Cluster, python: &Path) {
    let report = admin_script(cluster, python, "overreplicated", 4, &[]);
    assert_eq!(report["created"], Value::Bool(false), "{report}");
    assert_eq!(report["error"], "INVALID_REPLICATION_FACTOR", "{report}");
    assert_eq!(
        report["message"],
        "Unable to replicate the partition 4 time(s): The target replication factor of 4 \
         cannot be reached because only 3 broker(s) are registered.",
        "{report}"
    );
    let meta = cluster.metadata(0, &["overreplicated"]);
    assert_ne!(
        meta.topics[0].error_code, 0,
        "no topic was created: {meta:?}"
    );
}
