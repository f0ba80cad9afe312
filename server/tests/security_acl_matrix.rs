//! Issue 17: the ACL matrix. A broker with a SASL_PLAINTEXT listener (PLAIN users admin, alice
//! and mallory) and Kafka's StandardAuthorizer semantics; the admin (a super user) creates
//! ACLs through confluent-kafka's AdminClient on the running broker, so these tests also prove
//! that ACLs made through the admin API apply without a restart. Then, API by API as the
//! clients use them, alice with the ACLs succeeds and mallory without them gets the
//! authorization error librdkafka reports (TOPIC_/GROUP_/CLUSTER_/
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED). Also: a DENY beats an ALLOW, a PREFIXED pattern
//! grants its prefix only, `User:*` applies to everyone, and `allow.everyone.if.no.acl.found`
//! opens what no ACL names.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use common::broker::{free_loopback_port, Broker, BrokerOptions};
use common::clients;
use common::process::run_with_timeout;

/// One driver run: every step inside it is bounded by the driver's own timeouts (20–30 s).
const DRIVER_TIMEOUT: Duration = Duration::from_secs(300);

const TOPIC: &str = "TOPIC_AUTHORIZATION_FAILED";
const GROUP: &str = "GROUP_AUTHORIZATION_FAILED";
const CLUSTER: &str = "CLUSTER_AUTHORIZATION_FAILED";
const TRANSACTIONAL_ID: &str = "TRANSACTIONAL_ID_AUTHORIZATION_FAILED";

const USERS: [(&str, &str); 3] = [
    ("admin", "admin-secret"),
    ("alice", "alice-secret"),
    ("mallory", "mallory-secret"),
];

/// What a step must come to: success, or a refusal by the error named (the step's outcome, or
/// an error the client reported on the way).
#[derive(Clone, Copy, Debug)]
enum Expect {
    Ok,
    Refused(&'static str),
}

struct AclBroker {
    broker: Broker,
    port: u16,
    _dir: tempfile::TempDir,
}

/// A broker with the harness's PLAINTEXT listener plus SASL_PLAINTEXT (PLAIN), the standard
/// authorizer and `User:admin` as super user.
fn acl_broker(extra_config: &str) -> AclBroker {
    let dir = tempfile::tempdir().unwrap();
    let users: PathBuf = dir.path().join("plain-users");
    let lines: String = USERS
        .iter()
        .map(|(name, password)| format!("{name}:{password}\n"))
        .collect();
    std::fs::write(&users, lines).unwrap();
    let port = free_loopback_port();
    let config = format!(
        r#"
listeners = "SASL_PLAINTEXT://127.0.0.1:{port}"
"sasl.enabled.mechanisms" = "PLAIN"
"sasl.plain.users.file" = "{users}"
"authorizer.class.name" = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
"super.users" = "User:admin"
{extra_config}
"#,
        users = users.display(),
    );
    let broker = Broker::start(BrokerOptions::default().config(&config));
    AclBroker {
        broker,
        port,
        _dir: dir,
    }
}

fn password(user: &str) -> &'static str {
    USERS.iter().find(|(name, _)| *name == user).unwrap().1
}

/// Runs `acl_matrix.py` as `user`: creates `acls` (if any), then the steps, in order.
fn drive(python: &Path, ab: &AclBroker, user: &str, acls: &[Value], steps: &[Value]) -> Value {
    let args = json!({
        "bootstrap": format!("127.0.0.1:{}", ab.port),
        "user": user,
        "password": password(user),
        "acls": acls,
        "steps": steps,
    });
    let script = clients::python_scripts_dir().join("acl_matrix.py");
    let mut command = Command::new(python);
    command.arg(script).arg(args.to_string());
    let finished = run_with_timeout(&mut command, DRIVER_TIMEOUT, "acl_matrix.py");
    if !finished.status.success() {
        ab.broker.fail(&finished.transcript());
    }
    let line = finished
        .stdout
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let answer: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| ab.broker.fail(&format!("{e}: {}", finished.transcript())));
    let acls_made = answer["acls"].as_array().unwrap();
    assert!(acls_made.iter().all(|a| a == "ok"), "{answer:#}");
    answer
}

/// Creates ACL bindings as the admin, through AdminClient.create_acls.
fn create_acls(python: &Path, ab: &AclBroker, acls: &[Value]) {
    drive(python, ab, "admin", acls, &[]);
}

/// Runs `steps` as `user` and checks each outcome; every mismatch is reported at once.
fn expect_steps(python: &Path, ab: &AclBroker, user: &str, steps: &[(&str, Value, Expect)]) {
    let requests: Vec<Value> = steps
        .iter()
        .map(|(step, params, _)| json!([step, params]))
        .collect();
    let answer = drive(python, ab, user, &[], &requests);
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), steps.len(), "{answer:#}");
    let mut wrong = Vec::new();
    for ((step, params, expect), result) in steps.iter().zip(results) {
        let outcome = result["outcome"].as_str().unwrap();
        let refused_by = |name: &str| {
            outcome == name
                || result["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e.as_str().unwrap().starts_with(name))
        };
        let matches = match expect {
            Expect::Ok => outcome == "ok",
            Expect::Refused(name) => refused_by(name),
        };
        if !matches {
            wrong.push(format!(
                "{user} {step} {params}: expected {expect:?}, got {result}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}\n{answer:#}", wrong.join("\n"));
}

fn acl(resource: &str, name: &str, pattern: &str, who: &str, op: &str, perm: &str) -> Value {
    json!([resource, name, pattern, who, op, perm])
}

fn step_result<'a>(answer: &'a Value, step: &str) -> &'a Value {
    let results = answer["results"].as_array().unwrap();
    results.iter().find(|r| r["step"] == step).unwrap()
}

#[test]
fn alice_with_the_acls_succeeds_and_mallory_without_them_is_refused_api_by_api() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let ab = acl_broker("");
    let alice = "User:alice";
    let mut acls = Vec::new();
    for op in [
        "CREATE",
        "WRITE",
        "READ",
        "DELETE",
        "ALTER",
        "DESCRIBE_CONFIGS",
        "ALTER_CONFIGS",
    ] {
        acls.push(acl("TOPIC", "alice-", "PREFIXED", alice, op, "ALLOW"));
    }
    for op in ["READ", "DELETE"] {
        acls.push(acl("GROUP", "alice-", "PREFIXED", alice, op, "ALLOW"));
    }
    acls.push(acl(
        "TRANSACTIONAL_ID",
        "alice-txn",
        "LITERAL",
        alice,
        "WRITE",
        "ALLOW",
    ));
    for op in ["DESCRIBE", "DESCRIBE_CONFIGS"] {
        acls.push(acl(
            "CLUSTER",
            "kafka-cluster",
            "LITERAL",
            alice,
            op,
            "ALLOW",
        ));
    }
    // No ACL for the inter-broker principal: on one node the transaction coordinator writes
    // its markers in process, so transactions complete without User:ANONYMOUS having
    // CLUSTER_ACTION.
    create_acls(&python, &ab, &acls);

    let topic = json!({"topic": "alice-orders"});
    let group = json!({"topic": "alice-orders", "group": "alice-group", "count": 20});
    let txn = json!({"topic": "alice-orders", "group": "alice-group",
        "transactional_id": "alice-txn"});
    let none = json!({});
    use Expect::*;
    // alice: every API her clients use, each allowed by one of her ACLs (the idempotent
    // producer by WRITE on a topic: KIP-679, no IDEMPOTENT_WRITE).
    let alice_steps = [
        ("create_topic", topic.clone(), Ok),
        ("metadata", topic.clone(), Ok),
        ("produce", topic.clone(), Ok),
        ("idempotent_produce", topic.clone(), Ok),
        ("list_offsets", topic.clone(), Ok),
        ("consume_group", group.clone(), Ok),
        ("fetch_assigned", topic.clone(), Ok),
        ("commit", group.clone(), Ok),
        ("describe_group", group.clone(), Ok),
        ("list_groups", none.clone(), Ok),
        ("transaction", txn.clone(), Ok),
        // The same transactional id again: InitProducerId answers CONCURRENT_TRANSACTIONS
        // until the first transaction's markers are written, so this succeeds only if they
        // were (no CLUSTER_ACTION for the inter-broker principal on one node).
        ("transaction", txn.clone(), Ok),
        ("describe_configs", topic.clone(), Ok),
        ("alter_configs", topic.clone(), Ok),
        (
            "create_partitions",
            json!({"topic": "alice-orders", "count": 2}),
            Ok,
        ),
        ("describe_broker_configs", none.clone(), Ok),
        ("describe_cluster", none.clone(), Ok),
    ];
    expect_steps(&python, &ab, "alice", &alice_steps);

    // mallory with no ACL at all, on alice's resources: refused where her clients first ask
    // (Metadata, FindCoordinator, the admin APIs, InitProducerId).
    let mallory_steps = [
        ("metadata", topic.clone(), Refused(TOPIC)),
        (
            "create_topic",
            json!({"topic": "mallory-orders"}),
            Refused(TOPIC),
        ),
        ("idempotent_produce", topic.clone(), Refused(CLUSTER)),
        ("describe_group", group.clone(), Refused(GROUP)),
        ("list_groups", none.clone(), Ok),
        ("delete_group", group.clone(), Refused(GROUP)),
        ("transaction", txn.clone(), Refused(TRANSACTIONAL_ID)),
        ("describe_configs", topic.clone(), Refused(TOPIC)),
        ("alter_configs", topic.clone(), Refused(TOPIC)),
        (
            "create_partitions",
            json!({"topic": "alice-orders", "count": 3}),
            Refused(TOPIC),
        ),
        ("describe_broker_configs", none.clone(), Refused(CLUSTER)),
        ("describe_cluster", none.clone(), Ok),
        ("delete_topic", topic.clone(), Refused(TOPIC)),
    ];
    expect_steps(&python, &ab, "mallory", &mallory_steps);

    // What the listings showed each of them (mallory: nothing of alice's), and what
    // DescribeCluster said they may do.
    let steps: Vec<Value> = ["metadata", "list_groups", "describe_cluster"]
        .iter()
        .map(|step| json!([step, {"topic": "alice-orders"}]))
        .collect();
    let seen_by_alice = drive(&python, &ab, "alice", &[], &steps);
    let seen_by_mallory = drive(&python, &ab, "mallory", &[], &steps);
    assert_eq!(
        step_result(&seen_by_alice, "metadata")["in_all_topics"],
        true
    );
    assert_eq!(
        step_result(&seen_by_mallory, "metadata")["in_all_topics"],
        false
    );
    let groups = |answer: &Value| step_result(answer, "list_groups")["groups"].clone();
    assert!(groups(&seen_by_alice)
        .as_array()
        .unwrap()
        .contains(&json!("alice-group")));
    assert_eq!(groups(&seen_by_mallory), json!([]));
    let operations = |answer: &Value| step_result(answer, "describe_cluster")["operations"].clone();
    assert_eq!(
        operations(&seen_by_alice),
        json!(["DESCRIBE", "DESCRIBE_CONFIGS"])
    );
    // Kafka answers 0 to a principal without DESCRIBE on the cluster (no refusal), which
    // confluent-kafka shows as None.
    let mallory_may = operations(&seen_by_mallory);
    assert!(
        mallory_may.as_array().is_none_or(Vec::is_empty),
        "{mallory_may}"
    );

    // Let mallory find alice's topic, group and transactional id (DESCRIBE), so that her
    // clients reach each API's own check: WRITE, READ, DELETE, and the rest are still not hers.
    let mallory = "User:mallory";
    create_acls(
        &python,
        &ab,
        &[
            acl(
                "TOPIC",
                "alice-orders",
                "LITERAL",
                mallory,
                "DESCRIBE",
                "ALLOW",
            ),
            acl(
                "GROUP",
                "alice-group",
                "LITERAL",
                mallory,
                "DESCRIBE",
                "ALLOW",
            ),
            acl(
                "TRANSACTIONAL_ID",
                "alice-txn",
                "LITERAL",
                mallory,
                "DESCRIBE",
                "ALLOW",
            ),
        ],
    );
    let describer_steps = [
        ("metadata", topic.clone(), Ok),
        // ListOffsets needs no more than DESCRIBE.
        ("list_offsets", topic.clone(), Ok),
        ("produce", topic.clone(), Refused(TOPIC)),
        ("fetch_assigned", topic.clone(), Refused(TOPIC)),
        ("commit", group.clone(), Refused(GROUP)),
        ("consume_group", group.clone(), Refused(GROUP)),
        ("describe_group", group.clone(), Ok),
        ("delete_group", group.clone(), Refused(GROUP)),
        ("transaction", txn.clone(), Refused(TRANSACTIONAL_ID)),
        ("describe_configs", topic.clone(), Refused(TOPIC)),
        (
            "create_partitions",
            json!({"topic": "alice-orders", "count": 3}),
            Refused(TOPIC),
        ),
        ("delete_topic", topic.clone(), Refused(TOPIC)),
    ];
    expect_steps(&python, &ab, "mallory", &describer_steps);

    // alice cleans up what mallory could not delete.
    let cleanup = [
        ("delete_group", group.clone(), Ok),
        ("delete_topic", topic.clone(), Ok),
    ];
    expect_steps(&python, &ab, "alice", &cleanup);
    // The coordinator's markers went through, none over a connection to itself.
    let log = ab.broker.log_text();
    assert!(
        !log.contains("CLUSTER_AUTHORIZATION_FAILED"),
        "markers refused"
    );
    assert!(
        !log.contains("WriteTxnMarkers"),
        "markers went over the network"
    );
}

#[test]
fn deny_beats_allow_prefixed_grants_its_prefix_only_and_user_wildcard_applies_to_all() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let ab = acl_broker("");
    let setup: Vec<(&str, Value, Expect)> = ["alice-a", "alice-denied", "bob-x", "shared-t"]
        .iter()
        .map(|topic| ("create_topic", json!({"topic": topic}), Expect::Ok))
        .chain([("produce", json!({"topic": "shared-t"}), Expect::Ok)])
        .collect();
    expect_steps(&python, &ab, "admin", &setup);
    let alice = "User:alice";
    create_acls(
        &python,
        &ab,
        &[
            acl("TOPIC", "alice-", "PREFIXED", alice, "WRITE", "ALLOW"),
            acl("TOPIC", "alice-", "PREFIXED", alice, "READ", "ALLOW"),
            acl("TOPIC", "alice-denied", "LITERAL", alice, "WRITE", "DENY"),
            acl("GROUP", "alice-", "PREFIXED", alice, "READ", "ALLOW"),
            acl("TOPIC", "shared-t", "LITERAL", "User:*", "READ", "ALLOW"),
        ],
    );
    use Expect::*;
    let alice_steps = [
        ("produce", json!({"topic": "alice-a"}), Ok),
        // DENY WRITE on the literal beats the prefix's ALLOW WRITE; READ still passes.
        ("produce", json!({"topic": "alice-denied"}), Refused(TOPIC)),
        ("metadata", json!({"topic": "alice-denied"}), Ok),
        // alice-* is not bob-x.
        ("produce", json!({"topic": "bob-x"}), Refused(TOPIC)),
        ("metadata", json!({"topic": "bob-x"}), Refused(TOPIC)),
        // Her group, another's topic: refused per partition.
        (
            "commit",
            json!({"topic": "bob-x", "group": "alice-g"}),
            Refused(TOPIC),
        ),
        (
            "commit",
            json!({"topic": "alice-a", "group": "alice-g"}),
            Ok,
        ),
        // User:* covers alice too.
        ("fetch_assigned", json!({"topic": "shared-t"}), Ok),
    ];
    expect_steps(&python, &ab, "alice", &alice_steps);
    let mallory_steps = [
        ("fetch_assigned", json!({"topic": "shared-t"}), Ok),
        ("produce", json!({"topic": "shared-t"}), Refused(TOPIC)),
        ("metadata", json!({"topic": "alice-a"}), Refused(TOPIC)),
    ];
    expect_steps(&python, &ab, "mallory", &mallory_steps);
}

#[test]
fn allow_everyone_if_no_acl_found_opens_a_topic_no_acl_names() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let ab = acl_broker(r#""allow.everyone.if.no.acl.found" = true"#);
    let setup = [
        ("create_topic", json!({"topic": "open-t"}), Expect::Ok),
        ("create_topic", json!({"topic": "guarded-t"}), Expect::Ok),
    ];
    expect_steps(&python, &ab, "admin", &setup);
    create_acls(
        &python,
        &ab,
        &[acl(
            "TOPIC",
            "guarded-t",
            "LITERAL",
            "User:alice",
            "WRITE",
            "ALLOW",
        )],
    );
    use Expect::*;
    let mallory_steps = [
        ("produce", json!({"topic": "open-t"}), Ok),
        ("fetch_assigned", json!({"topic": "open-t"}), Ok),
        ("produce", json!({"topic": "guarded-t"}), Refused(TOPIC)),
    ];
    expect_steps(&python, &ab, "mallory", &mallory_steps);
    expect_steps(
        &python,
        &ab,
        "alice",
        &[("produce", json!({"topic": "guarded-t"}), Ok)],
    );
}
