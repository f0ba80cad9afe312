//! Issue 17: real clients over SASL_SSL with SCRAM. An admin (a PLAIN user from the users
//! file, a super user) creates SCRAM users and ACLs through confluent-kafka's AdminClient on a
//! running broker; then confluent-kafka, kafka-python, kcat and kafkajs produce and consume
//! as those users over TLS, with no restart in between. A wrong password is refused.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::broker::{free_loopback_port, Broker, BrokerOptions};
use common::clients;
use common::process::run_with_timeout;
use common::tls::TestPki;

const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);
const ADMIN_PASSWORD: &str = "admin-secret";

/// A broker with PLAINTEXT (the harness's) and SASL_SSL listeners, the standard authorizer,
/// `User:admin` as super user, PLAIN users from a file.
pub struct SecureBroker {
    pub broker: Broker,
    pub pki: TestPki,
    pub secure_port: u16,
}

pub fn secure_broker(extra_config: &str) -> SecureBroker {
    let pki = TestPki::new();
    let users = pki.path("plain-users");
    std::fs::write(&users, format!("admin:{ADMIN_PASSWORD}\n")).unwrap();
    let secure_port = free_loopback_port();
    let config = format!(
        r#"
listeners = "SASL_SSL://127.0.0.1:{secure_port}"
"ssl.keystore.location" = "{keystore}"
"sasl.enabled.mechanisms" = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
"sasl.plain.users.file" = "{users}"
"authorizer.class.name" = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
"super.users" = "User:admin"
"connection.failed.authentication.delay.ms" = 200
{extra_config}
"#,
        keystore = pki.keystore().display(),
        users = users.display(),
    );
    let broker = Broker::start(BrokerOptions::default().config(&config));
    SecureBroker {
        broker,
        pki,
        secure_port,
    }
}

fn connection(sb: &SecureBroker, mechanism: &str, user: &str, password: &str) -> serde_json::Value {
    serde_json::json!({
        "bootstrap": format!("127.0.0.1:{}", sb.secure_port),
        "security_protocol": "SASL_SSL",
        "mechanism": mechanism,
        "user": user,
        "password": password,
        "ca": sb.pki.ca().to_string_lossy(),
    })
}

fn run_python(python: &Path, mode: &str, args: &serde_json::Value) -> serde_json::Value {
    let script = clients::python_scripts_dir().join("secure_clients.py");
    let mut command = Command::new(python);
    command.arg(script).arg(mode).arg(args.to_string());
    let finished = run_with_timeout(&mut command, CLIENT_TIMEOUT, mode);
    assert!(finished.status.success(), "{}", finished.transcript());
    let line = finished
        .stdout
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {}", finished.transcript()))
}

fn merge(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// alice: SCRAM-SHA-256, bob: SCRAM-SHA-512; each may use the topics and groups named after
/// them (PREFIXED).
fn create_users_and_acls(sb: &SecureBroker, python: &Path) {
    let mut acls = Vec::new();
    for user in ["alice", "bob"] {
        for operation in ["WRITE", "READ", "DESCRIBE", "CREATE"] {
            acls.push(serde_json::json!([
                "TOPIC",
                format!("{user}-"),
                "PREFIXED",
                format!("User:{user}"),
                operation,
                "ALLOW"
            ]));
        }
        acls.push(serde_json::json!([
            "GROUP",
            format!("{user}-"),
            "PREFIXED",
            format!("User:{user}"),
            "READ",
            "ALLOW"
        ]));
    }
    let setup = merge(
        connection(sb, "PLAIN", "admin", ADMIN_PASSWORD),
        serde_json::json!({
            "users": [["alice", "alice-secret", "SCRAM-SHA-256"], ["bob", "bob-secret", "SCRAM-SHA-512"]],
            "acls": acls,
        }),
    );
    let answer = run_python(python, "admin", &setup);
    assert_eq!(answer["users"]["alice"], "ok", "{answer}");
    assert_eq!(answer["users"]["bob"], "ok", "{answer}");
    assert!(
        answer["acls"].as_array().unwrap().iter().all(|a| a == "ok"),
        "{answer}"
    );
}

#[test]
fn scram_users_made_by_the_admin_client_produce_and_consume_over_sasl_ssl_with_four_clients() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let Some(kcat) = clients::kcat() else { return };
    let Some(node) = clients::kafkajs() else {
        return;
    };
    let sb = secure_broker("");
    create_users_and_acls(&sb, &python);

    // confluent-kafka as alice (SCRAM-SHA-256).
    let args = merge(
        connection(&sb, "SCRAM-SHA-256", "alice", "alice-secret"),
        serde_json::json!({"topic": "alice-orders", "group": "alice-readers", "count": 200}),
    );
    let answer = run_python(&python, "round_trip", &args);
    assert_eq!(answer["consumed"], 200, "{answer}");
    assert_eq!(answer["in_order"], true, "{answer}");

    // kafka-python as bob (SCRAM-SHA-512).
    let args = merge(
        connection(&sb, "SCRAM-SHA-512", "bob", "bob-secret"),
        serde_json::json!({"topic": "bob-orders", "group": "bob-readers", "count": 100}),
    );
    let answer = run_python(&python, "kafka_python", &args);
    assert_eq!(answer["consumed"], 100, "{answer}");
    assert_eq!(answer["in_order"], true, "{answer}");

    // kcat as alice: produce three lines, read them back.
    let security = [
        "-X",
        "security.protocol=SASL_SSL",
        "-X",
        "sasl.mechanisms=SCRAM-SHA-256",
        "-X",
        "sasl.username=alice",
        "-X",
        "sasl.password=alice-secret",
    ];
    let ca = format!("ssl.ca.location={}", sb.pki.ca().display());
    let bootstrap = format!("127.0.0.1:{}", sb.secure_port);
    let input = sb.pki.path("kcat-input");
    std::fs::write(&input, "one\ntwo\nthree\n").unwrap();
    let mut produce = Command::new(&kcat);
    produce
        .args(["-b", &bootstrap, "-t", "alice-kcat", "-P", "-X", &ca])
        .args(security)
        .arg("-l")
        .arg(&input);
    let finished = run_with_timeout(&mut produce, CLIENT_TIMEOUT, "kcat -P");
    assert!(finished.status.success(), "{}", finished.transcript());
    let mut consume = Command::new(&kcat);
    consume
        .args([
            "-b",
            &bootstrap,
            "-t",
            "alice-kcat",
            "-C",
            "-o",
            "beginning",
            "-e",
            "-q",
            "-X",
            &ca,
        ])
        .args(security);
    let finished = run_with_timeout(&mut consume, CLIENT_TIMEOUT, "kcat -C");
    assert!(finished.status.success(), "{}", finished.transcript());
    assert_eq!(
        finished.stdout.lines().collect::<Vec<_>>(),
        ["one", "two", "three"]
    );

    // kafkajs as bob.
    let args = serde_json::json!({
        "bootstrap": bootstrap, "ca": sb.pki.ca().to_string_lossy(),
        "mechanism": "scram-sha-512", "user": "bob", "password": "bob-secret",
        "topic": "bob-js", "group": "bob-js-readers", "count": 50,
    });
    let mut command = Command::new(&node.node);
    command
        .current_dir(&node.dir)
        .arg("secure_kafkajs.js")
        .arg(args.to_string());
    let finished = run_with_timeout(&mut command, CLIENT_TIMEOUT, "kafkajs");
    assert!(finished.status.success(), "{}", finished.transcript());
    let answer: serde_json::Value =
        serde_json::from_str(finished.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(answer["consumed"], 50, "{answer}");

    // alice may not read bob's topic: the authorizer says so to a real client.
    let args = merge(
        connection(&sb, "SCRAM-SHA-256", "alice", "alice-secret"),
        serde_json::json!({"topic": "bob-orders", "group": "alice-readers", "count": 1}),
    );
    let answer = run_python(&python, "round_trip", &args);
    let error = answer["error"].to_string();
    assert!(
        error.contains("TOPIC_AUTHORIZATION_FAILED") || error.contains("authoriz"),
        "{answer}"
    );
}

#[test]
fn a_wrong_password_is_refused_with_the_brokers_message_and_one_log_line() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let sb = secure_broker("");
    create_users_and_acls(&sb, &python);
    let args = connection(&sb, "SCRAM-SHA-256", "alice", "not-her-password");
    let answer = run_python(&python, "expect_auth_failure", &args);
    let errors = answer["errors"].to_string();
    assert!(errors.contains("Authentication failed"), "{answer}");
    let log = sb
        .broker
        .wait_for_log("authentication failed", Duration::from_secs(10));
    assert!(
        log.contains("SCRAM-SHA-256"),
        "the broker logs the failure: {log}"
    );
    // A PLAIN attempt with a wrong password fails the same way.
    let args = connection(&sb, "PLAIN", "admin", "guess");
    let answer = run_python(&python, "expect_auth_failure", &args);
    assert!(
        answer["errors"]
            .to_string()
            .contains("Authentication failed"),
        "{answer}"
    );
}
