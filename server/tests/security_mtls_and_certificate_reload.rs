//! Issue 17: client certificates (mTLS) name the principal through
//! `ssl.principal.mapping.rules`; a certificate from another CA, or none, is refused at the
//! handshake; SIGHUP reloads the broker's certificate for new connections.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::broker::{free_loopback_port, Broker, BrokerOptions};
use common::clients;
use common::process::run_with_timeout;
use common::tls::TestPki;
use common::wait::wait_until;

const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);
const RELOAD_TIMEOUT: Duration = Duration::from_secs(30);

fn mtls_broker(pki: &TestPki) -> (Broker, u16) {
    let port = free_loopback_port();
    let config = format!(
        r#"
listeners = "SSL://127.0.0.1:{port}"
"ssl.keystore.location" = "{keystore}"
"ssl.truststore.location" = "{ca}"
"ssl.client.auth" = "required"
"ssl.principal.mapping.rules" = "RULE:^CN=([a-zA-Z]+),OU=Eng,.*$/$1/L,DEFAULT"
"authorizer.class.name" = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
"super.users" = "User:admin"
"#,
        keystore = pki.keystore().display(),
        ca = pki.ca().display(),
    );
    (
        Broker::start(BrokerOptions::default().config(&config)),
        port,
    )
}

fn run_admin(python: &Path, args: serde_json::Value) -> serde_json::Value {
    let script = clients::python_scripts_dir().join("secure_clients.py");
    let mut command = Command::new(python);
    command.arg(script).arg("admin").arg(args.to_string());
    let finished = run_with_timeout(&mut command, CLIENT_TIMEOUT, "admin");
    assert!(finished.status.success(), "{}", finished.transcript());
    serde_json::from_str(finished.stdout.lines().last().unwrap()).unwrap()
}

fn ssl_args(pki: &TestPki, port: u16, cert: &Path, key: &Path) -> serde_json::Value {
    serde_json::json!({
        "bootstrap": format!("127.0.0.1:{port}"),
        "security_protocol": "SSL",
        "ca": pki.ca().to_string_lossy(),
        "cert": cert.to_string_lossy(),
        "key": key.to_string_lossy(),
        "acls": [["TOPIC", "orders", "LITERAL", "User:alice", "READ", "ALLOW"]],
    })
}

#[test]
fn client_certificates_name_the_principal_and_untrusted_ones_are_refused() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let pki = TestPki::new();
    let (broker, port) = mtls_broker(&pki);
    // CN=Admin,OU=Eng,... maps to "admin" (the rule lower-cases): a super user, so CreateAcls
    // (ALTER on the cluster) succeeds.
    let (cert, key) = pki.client("admin", "/C=US/O=Sluice/OU=Eng/CN=Admin", false);
    let answer = run_admin(&python, ssl_args(&pki, port, &cert, &key));
    assert_eq!(answer["acls"], serde_json::json!(["ok"]), "{answer}");
    // CN=Alice maps to "alice": authenticated, but not allowed to alter ACLs.
    let (cert, key) = pki.client("alice", "/C=US/O=Sluice/OU=Eng/CN=Alice", false);
    let answer = run_admin(&python, ssl_args(&pki, port, &cert, &key));
    let refusal = answer["acls"][0].as_str().unwrap().to_string();
    assert!(refusal.contains("CLUSTER_AUTHORIZATION_FAILED"), "{answer}");
    // A certificate from a CA the broker does not trust fails the handshake.
    let (cert, key) = pki.client("mallory", "/C=US/O=Sluice/OU=Eng/CN=Admin", true);
    let script = clients::python_scripts_dir().join("secure_clients.py");
    let mut args = ssl_args(&pki, port, &cert, &key);
    args["mechanism"] = serde_json::json!("");
    let mut command = Command::new(&python);
    command
        .arg(&script)
        .arg("expect_auth_failure")
        .arg(args.to_string());
    let finished = run_with_timeout(&mut command, CLIENT_TIMEOUT, "rogue certificate");
    assert!(finished.status.success(), "{}", finished.transcript());
    assert!(
        finished.stdout.contains("SSL") || finished.stdout.contains("ssl"),
        "{}",
        finished.transcript()
    );
    let log = broker.wait_for_log("TLS handshake failed", RELOAD_TIMEOUT);
    assert!(log.contains("listener=SSL"), "{log}");
    broker.connect().ping().unwrap();
}

/// The certificate the broker presents on `port`, as PEM, read with Python's ssl module.
fn presented_certificate(python: &Path, port: u16) -> Option<String> {
    let code = format!("import ssl; print(ssl.get_server_certificate(('127.0.0.1', {port})))");
    let mut command = Command::new(python);
    command.arg("-c").arg(code);
    let finished = run_with_timeout(&mut command, CLIENT_TIMEOUT, "get_server_certificate");
    finished.status.success().then_some(finished.stdout)
}

fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[test]
fn sighup_reloads_the_certificate_for_new_connections() {
    let Some(python) = clients::python_with("ssl") else {
        return;
    };
    let pki = TestPki::new();
    let port = free_loopback_port();
    let keystore = pki.path("live.pem");
    std::fs::copy(pki.keystore(), &keystore).unwrap();
    let config = format!(
        "listeners = \"SSL://127.0.0.1:{port}\"\n\"ssl.keystore.location\" = \"{}\"\n",
        keystore.display()
    );
    let broker = Broker::start(BrokerOptions::default().config(&config));
    let first = presented_certificate(&python, port).unwrap();
    let server_pem = std::fs::read_to_string(pki.path("server.crt")).unwrap();
    assert_eq!(pem_body(&first), pem_body(&server_pem));
    // A renewed certificate (another key, same names) replaces the file; SIGHUP.
    let (_, _) = pki.client("renewed", "/CN=localhost", false);
    std::fs::copy(pki.path("renewed.pem"), &keystore).unwrap();
    let renewed_pem = std::fs::read_to_string(pki.path("renewed.crt")).unwrap();
    let pid = broker.pid().unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_until(
        "the renewed certificate on new connections",
        RELOAD_TIMEOUT,
        || {
            let presented = presented_certificate(&python, port)?;
            (pem_body(&presented) == pem_body(&renewed_pem)).then_some(())
        },
    );
    broker.wait_for_log("reloaded TLS certificates", RELOAD_TIMEOUT);
    broker.connect().ping().unwrap();
}
