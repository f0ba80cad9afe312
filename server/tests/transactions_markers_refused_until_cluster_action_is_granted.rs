//! Issue 14: transaction markers refused for authorization. Two brokers with an authorizer
//! (`allow.everyone.if.no.acl.found`, `User:admin` a super user over SASL PLAIN) and a DENY of
//! CLUSTER_ACTION on the cluster for `User:ANONYMOUS`, the principal of the PLAINTEXT
//! inter-broker listener. A confluent-kafka transaction writes a record to a partition its
//! coordinator's broker leads (marker written in process) and commits a group's offset in
//! `__consumer_offsets` partition the other broker leads (marker over WriteTxnMarkers, which
//! that broker refuses with CLUSTER_AUTHORIZATION_FAILED). The commit is answered; the
//! transaction stays in PrepareCommit (`sluice txn describe`); the coordinator logs one error
//! line naming the missing ACL, not one per retry. Once the admin removes the DENY, the
//! retried markers go through and the transaction becomes CompleteCommit.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::broker::{free_fixed_port, Broker, BrokerOptions};
use common::clients;
use common::cluster::Cluster;
use common::kafka;
use common::process::run_with_timeout;
use common::transactions::run;
use common::wait::wait_until;
use sluice_server::group::placement::offsets_partition;

const TOPIC: &str = "marked";
/// Spread over both brokers, so the coordinator's broker leads some.
const TOPIC_PARTITIONS: i32 = 4;
const OFFSETS_TOPIC: &str = "__consumer_offsets";
const TXN_TOPIC: &str = "__transaction_state";
/// `offsets.topic.num.partitions` and `transaction.state.log.num.partitions` here.
const INTERNAL_PARTITIONS: i32 = 4;
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(60);
/// The refusal is logged on the first refused round.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(30);
/// Removing the ACL reaches both brokers, then the next retry (backoff at most 5 s) writes
/// the markers.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(60);
/// The coordinator's error line (txn/markers.rs).
const REFUSAL_LINE: &str = "refused this broker's transaction markers";

/// Runs `sluice ARGS --bootstrap B [--command-config C]`; (success, stdout, transcript).
fn sluice(bootstrap: &str, config: Option<&Path>, args: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command.args(args).args(["--bootstrap", bootstrap]);
    if let Some(config) = config {
        command.arg("--command-config").arg(config);
    }
    let finished = run_with_timeout(&mut command, CLI_TIMEOUT, &format!("sluice {args:?}"));
    (
        finished.status.success(),
        finished.stdout.clone(),
        finished.transcript(),
    )
}

/// `NAME   value` from `txn describe`.
fn field(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
        .map(|v| v.trim().to_string())
}

/// Two brokers, each with the harness's PLAINTEXT listener (the inter-broker one) and a
/// SASL_PLAINTEXT listener for the admin; internal topics with one replica (a follower's
/// fetch would need CLUSTER_ACTION too). Returns the cluster and each broker's SASL address.
fn start_cluster(users: &Path) -> (Cluster, Vec<String>) {
    let node_ids = vec![1, 2];
    let client_ports: Vec<u16> = node_ids.iter().map(|_| free_fixed_port()).collect();
    let controller_ports: Vec<u16> = node_ids.iter().map(|_| free_fixed_port()).collect();
    let sasl_ports: Vec<u16> = node_ids.iter().map(|_| free_fixed_port()).collect();
    let voters = node_ids
        .iter()
        .zip(&controller_ports)
        .map(|(id, port)| format!("{id}@127.0.0.1:{port}"))
        .collect::<Vec<_>>()
        .join(",");
    let brokers: Vec<Broker> = node_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let config = format!(
                r#"
listeners = "SASL_PLAINTEXT://127.0.0.1:{sasl}"
"sasl.enabled.mechanisms" = "PLAIN"
"sasl.plain.users.file" = "{users}"
"authorizer.class.name" = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
"super.users" = "User:admin"
"allow.everyone.if.no.acl.found" = true
"offsets.topic.replication.factor" = 1
"offsets.topic.num.partitions" = {INTERNAL_PARTITIONS}
"transaction.state.log.replication.factor" = 1
"transaction.state.log.num.partitions" = {INTERNAL_PARTITIONS}
"default.replication.factor" = 1
"#,
                sasl = sasl_ports[i],
                users = users.display(),
            );
            let mut node = BrokerOptions::default().config(&config);
            node.port = Some(client_ports[i]);
            node.extra_args = vec![
                "--node-id".into(),
                id.to_string(),
                "--controller-listen".into(),
                format!("127.0.0.1:{}", controller_ports[i]),
                "--controller-voters".into(),
                voters.clone(),
            ];
            Broker::spawn(node)
        })
        .collect();
    let mut cluster = Cluster {
        brokers,
        node_ids,
        controller_ports,
    };
    for broker in &mut cluster.brokers {
        if let Err(reason) = broker.try_wait_started() {
            broker.fail(&reason);
        }
    }
    for index in 0..cluster.brokers.len() {
        cluster.wait_for_brokers(index, 2, CLUSTER_TIMEOUT);
    }
    let sasl = sasl_ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    (cluster, sasl)
}

#[test]
fn markers_refused_for_authorization_are_reported_once_and_written_once_granted() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let users: PathBuf = dir.path().join("plain-users");
    std::fs::write(&users, "admin:admin-secret\n").expect("users file");
    let admin_config: PathBuf = dir.path().join("admin.properties");
    std::fs::write(
        &admin_config,
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n\
         sasl.username=admin\nsasl.password=admin-secret\n",
    )
    .expect("admin config");
    let (cluster, sasl) = start_cluster(&users);
    let bootstrap = cluster.bootstrap();
    kafka::create_topic(&mut cluster.brokers[0].connect(), TOPIC, TOPIC_PARTITIONS);
    let topic_leaders = cluster.wait_for_leaders(0, TOPIC, TOPIC_PARTITIONS as usize);

    // A first transaction (nothing refused yet) makes both internal topics exist.
    let fail = |why: &str| cluster.brokers[0].fail(why);
    let warm = run(
        &python,
        &bootstrap,
        TOPIC,
        "offsets_txn",
        &["0", "warm-group", "warm-txn"],
        fail,
    );
    assert_eq!(warm["committed"], true, "{warm}");
    let txn_leaders = cluster.wait_for_leaders(0, TXN_TOPIC, INTERNAL_PARTITIONS as usize);
    let offsets_leaders = cluster.wait_for_leaders(0, OFFSETS_TOPIC, INTERNAL_PARTITIONS as usize);

    // A transactional id, a partition its coordinator's broker leads, and a group whose
    // offsets partition the other broker leads.
    let txn_id = "refused-txn";
    let coordinator = txn_leaders[offsets_partition(txn_id, INTERNAL_PARTITIONS) as usize];
    let partition = topic_leaders
        .iter()
        .position(|leader| *leader == coordinator)
        .unwrap_or_else(|| {
            panic!("no partition of {TOPIC} led by {coordinator}: {topic_leaders:?}")
        });
    let group = (0..1_000)
        .map(|n| format!("refused-group-{n}"))
        .find(|g| {
            offsets_leaders[offsets_partition(g, INTERNAL_PARTITIONS) as usize] != coordinator
        })
        .expect("a group on the other broker");
    let coordinator_index = cluster.index_of(coordinator);
    let other_index = 1 - coordinator_index;

    // Deny the inter-broker principal CLUSTER_ACTION; wait until the other broker has it.
    // `acl add` or `acl remove` of the DENY, through broker 1.
    let deny_cluster_action = |verb: &str| {
        let args = [
            "acl",
            verb,
            "--deny",
            "--principal",
            "User:ANONYMOUS",
            "--operation",
            "CLUSTER_ACTION",
            "--cluster",
        ];
        let (ok, _, transcript) = sluice(&sasl[0], Some(&admin_config), &args);
        assert!(ok, "{transcript}");
    };
    deny_cluster_action("add");
    wait_until("the DENY to reach the other broker", CLI_TIMEOUT, || {
        let list = ["acl", "list", "--cluster"];
        let (ok, listed, _) = sluice(&sasl[other_index], Some(&admin_config), &list);
        (ok && listed.contains("CLUSTER_ACTION")).then_some(())
    });

    let partition_arg = partition.to_string();
    let fail = |why: &str| cluster.brokers[coordinator_index].fail(why);
    let answer = run(
        &python,
        &bootstrap,
        TOPIC,
        "offsets_txn",
        &[&partition_arg, &group, txn_id],
        fail,
    );
    assert_eq!(answer["committed"], true, "{answer}");
    let coordinator_broker = &cluster.brokers[coordinator_index];
    let log = coordinator_broker.wait_for_log(REFUSAL_LINE, REFUSAL_TIMEOUT);
    assert!(log.contains("CLUSTER_ACTION"), "the line names the ACL");
    let coordinator_bootstrap = coordinator_broker.bootstrap();
    let state = || {
        let (ok, described, transcript) =
            sluice(&coordinator_bootstrap, None, &["txn", "describe", txn_id]);
        assert!(ok, "{transcript}");
        field(&described, "STATE").unwrap_or_else(|| panic!("no STATE in:\n{described}"))
    };
    assert_eq!(state(), "PrepareCommit");

    deny_cluster_action("remove");
    wait_until(
        "the transaction to complete once CLUSTER_ACTION is no longer denied",
        COMPLETE_TIMEOUT,
        || (state() == "CompleteCommit").then_some(()),
    );
    let refusals = coordinator_broker.log_text().matches(REFUSAL_LINE).count();
    assert_eq!(refusals, 1, "one error line, not one per retry");
}
