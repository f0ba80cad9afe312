//! A consumer group's coordinator is the leader of its `__consumer_offsets` partition, which
//! is replicated 3 times like any topic. A confluent-kafka group commits offsets (with
//! metadata) on a topic with replication factor 3 (`clients/python/group_scenarios.py`,
//! restart-commit); the test kills the coordinator with SIGKILL and leaves it down. A follower
//! of that offsets partition becomes its leader, loads the group and answers FindCoordinator;
//! the group, bootstrapped from the survivors, resumes exactly at its committed offsets
//! (restart-resume: auto.offset.reset=latest, so a lost commit would show as reading nothing,
//! and reading from an earlier offset as reprocessing), metadata kept, and new groups read
//! everything (earliest) or only what comes after them (latest). The killed broker then
//! returns and every offsets partition is fully in sync again.

mod common;

use std::process::Command;
use std::time::Duration;

use kafka_protocol::messages::FindCoordinatorRequest;
use kafka_protocol::protocol::StrBytes;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::Cluster;
use common::process::run_with_timeout;
use common::replicas::{replication_toml, ELECTION_TIMEOUT, REJOIN_TIMEOUT, REPLICATION_FACTOR};
use common::wait::wait_until;
use common::wire::KafkaConnection;

const BROKERS: usize = 3;
const PREFIX: &str = "repl-group";
/// The group restart-commit and restart-resume use.
const GROUP: &str = "repl-group-restart-group";
const OFFSETS_TOPIC: &str = "__consumer_offsets";
const OFFSETS_PARTITIONS: usize = 6;
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);
const REPLICA_LAG_MS: u64 = 3_000;

/// The node FindCoordinator names for `GROUP`, asked of `conn`; None on an error answer.
fn coordinator(conn: &mut KafkaConnection) -> Option<i32> {
    let request = FindCoordinatorRequest::default().with_key(StrBytes::from_static_str(GROUP));
    let answer = conn.request(3, &request);
    (answer.error_code == 0).then_some(answer.node_id.0)
}

fn run_scenario(cluster: &Cluster, python: &std::path::Path, scenario: &str, bootstrap: &str) {
    let work = tempfile::tempdir().expect("temp dir for member logs");
    let mut command = Command::new(python);
    command
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("group_scenarios.py")
        .args(["--bootstrap", bootstrap])
        .args([
            "--client",
            "confluent",
            "--scenario",
            scenario,
            "--prefix",
            PREFIX,
        ])
        .args(["--replication-factor", &REPLICATION_FACTOR.to_string()])
        .arg("--work-dir")
        .arg(work.path());
    let finished = run_with_timeout(&mut command, SCENARIO_TIMEOUT, scenario);
    let wanted = format!("VERIFIED scenario={scenario} client=confluent");
    let verified = finished.status.success() && finished.stdout.lines().any(|l| l == wanted);
    if !verified {
        for broker in &cluster.brokers {
            eprintln!("{}", broker.log_text());
        }
        panic!("{scenario} failed\n{}", finished.transcript());
    }
    eprintln!("{}", finished.stdout);
}

#[test]
fn a_group_resumes_at_its_committed_offsets_after_its_coordinator_is_killed() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let toml = format!(
        "{}\"offsets.topic.num.partitions\" = {OFFSETS_PARTITIONS}\n\
         \"group.initial.rebalance.delay.ms\" = 300\n",
        replication_toml(REPLICA_LAG_MS)
    );
    let mut cluster = Cluster::start(BROKERS, BrokerOptions::default().config(&toml));
    run_scenario(&cluster, &python, "restart-commit", &cluster.bootstrap());
    let views = cluster.wait_for_full_isr(0, OFFSETS_TOPIC, OFFSETS_PARTITIONS, REJOIN_TIMEOUT);
    assert!(
        views
            .iter()
            .all(|v| v.replicas.len() == REPLICATION_FACTOR as usize),
        "{OFFSETS_TOPIC} is not replicated {REPLICATION_FACTOR} times: {views:?}"
    );
    let old = coordinator(&mut cluster.brokers[0].connect()).expect("the group's coordinator");
    let victim = cluster.index_of(old);
    let survivors: Vec<usize> = (0..BROKERS).filter(|i| *i != victim).collect();
    cluster.brokers[victim].kill9();
    let new = wait_until(
        "another broker to coordinate the group",
        ELECTION_TIMEOUT,
        || {
            let mut conn = cluster.brokers[survivors[0]].connect();
            coordinator(&mut conn).filter(|node| *node != old)
        },
    );
    eprintln!("coordinator {old} killed; node {new} coordinates {GROUP} now");

    let bootstrap = survivors
        .iter()
        .map(|i| cluster.brokers[*i].bootstrap())
        .collect::<Vec<_>>()
        .join(",");
    run_scenario(&cluster, &python, "restart-resume", &bootstrap);

    cluster.brokers[victim].respawn();
    cluster.brokers[victim].wait_started();
    cluster.wait_for_full_isr(
        survivors[0],
        OFFSETS_TOPIC,
        OFFSETS_PARTITIONS,
        REJOIN_TIMEOUT,
    );
}
