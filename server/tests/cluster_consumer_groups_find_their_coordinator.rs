//! Consumer groups on a three-broker cluster: each group's coordinator is the broker leading
//! its `__consumer_offsets` partition (created at the first FindCoordinator, spread over the
//! three), so clients bootstrapped from one broker must find and follow the coordinator
//! elsewhere. confluent-kafka and kafka-python run the two-groups scenario of
//! `clients/python/group_scenarios.py`: two groups on one topic, each reading every message
//! exactly once and committing.

mod common;
mod group_support;

use std::collections::BTreeSet;
use std::process::Command;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::Cluster;
use common::process::run_with_timeout;
use group_support::{GROUP_BROKER_TOML, SCENARIO_TIMEOUT};

const BROKERS: usize = 3;

fn run(cluster: &Cluster, python: &std::path::Path, client: &str, prefix: &str) {
    let work = tempfile::tempdir().expect("temp dir for member logs");
    let mut command = Command::new(python);
    command
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("group_scenarios.py")
        .args(["--bootstrap", &cluster.brokers[1].bootstrap()])
        .args([
            "--client",
            client,
            "--scenario",
            "two-groups",
            "--prefix",
            prefix,
        ])
        .arg("--work-dir")
        .arg(work.path());
    let what = format!("two-groups with {client} on a cluster");
    let finished = run_with_timeout(&mut command, SCENARIO_TIMEOUT, &what);
    let wanted = format!("VERIFIED scenario=two-groups client={client}");
    let verified = finished.status.success() && finished.stdout.lines().any(|l| l == wanted);
    if !verified {
        for broker in &cluster.brokers {
            eprintln!("{}", broker.log_text());
        }
        panic!("{what} failed\n{}", finished.transcript());
    }
    eprintln!("{}", finished.stdout);
}

#[test]
fn groups_on_a_cluster_find_their_coordinators_and_read_exactly_once() {
    let Some(python) = group_support::python() else {
        return;
    };
    let cluster = Cluster::start(BROKERS, BrokerOptions::default().config(GROUP_BROKER_TOML));
    run(&cluster, &python, "confluent", "cg-c");
    run(&cluster, &python, "kafka-python", "cg-k");
    // The offsets topic is spread: coordinators live on every broker.
    let meta = cluster.metadata(0, &["__consumer_offsets"]);
    let leaders: BTreeSet<i32> = meta.topics[0]
        .partitions
        .iter()
        .map(|p| p.leader_id.0)
        .collect();
    assert_eq!(
        leaders.len(),
        BROKERS,
        "offsets partitions led by {leaders:?}"
    );
}
