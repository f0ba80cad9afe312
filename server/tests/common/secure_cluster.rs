//! A cluster whose brokers talk to each other securely (issue 17): the inter-broker listener
//! is SASL_SSL (each broker logs in to the others with PLAIN as `User:broker`, a PLAIN user
//! of the users file), the controller listener is SSL with mutual TLS, and the standard
//! authorizer is on with `super.users = User:admin;User:broker` and no ACL meaning no access.
//! The harness's PLAINTEXT listener (`--listen`) stays for its own Metadata probes, as
//! `User:ANONYMOUS`: [`SecureCluster::open_harness`] grants it what those probes need.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::broker::{free_fixed_port, BrokerOptions};
use super::clients;
use super::cluster::{Cluster, PartitionView};
use super::kafka::create_replicated_topic;
use super::process::run_with_timeout;
use super::replicas::{replication_toml, MIN_INSYNC_CONFIG, REJOIN_TIMEOUT, REPLICATION_FACTOR};
use super::tls::TestPki;

pub const ADMIN_PASSWORD: &str = "admin-secret";
pub const BROKER_PASSWORD: &str = "broker-secret";
/// How long one client script may run.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);
/// Topic names the harness may create (ACL prefix for `User:ANONYMOUS`).
pub const TOPIC_PREFIX: &str = "ib-";

pub struct SecureCluster {
    pub cluster: Cluster,
    pub pki: TestPki,
    /// A client certificate and key clients present (for `ssl.client.auth = "required"`).
    pub client_certificate: (PathBuf, PathBuf),
    /// Each node's SASL_SSL port (by index).
    pub secure_ports: Vec<u16>,
}

/// The TOML of a node whose SASL_SSL listener is on `port`, logging in to the others with
/// `mechanism` (PLAIN or SCRAM-SHA-512) and `broker_password`; `extra` is appended.
pub fn node_config(
    pki: &TestPki,
    port: u16,
    mechanism: &str,
    broker_password: &str,
    extra: &str,
) -> String {
    let module = if mechanism == "PLAIN" {
        "org.apache.kafka.common.security.plain.PlainLoginModule"
    } else {
        "org.apache.kafka.common.security.scram.ScramLoginModule"
    };
    format!(
        r#"
listeners = "SASL_SSL://127.0.0.1:{port}"
"inter.broker.listener.name" = "SASL_SSL"
"controller.listener.names" = "CONTROLLER"
"listener.security.protocol.map" = "CONTROLLER:SSL,SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT"
"ssl.keystore.location" = "{keystore}"
"ssl.truststore.location" = "{ca}"
"sasl.enabled.mechanisms" = "PLAIN,SCRAM-SHA-512"
"sasl.plain.users.file" = "{users}"
"sasl.mechanism.inter.broker.protocol" = "{mechanism}"
"listener.name.sasl_ssl.{mechanism_key}.sasl.jaas.config" = '{module} required username="broker" password="{broker_password}";'
"authorizer.class.name" = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
"super.users" = "User:admin;User:broker"
"allow.everyone.if.no.acl.found" = false
"connection.failed.authentication.delay.ms" = 100
{extra}
"#,
        keystore = pki.keystore().display(),
        ca = pki.ca().display(),
        users = pki.path("plain-users").display(),
        mechanism_key = mechanism.to_ascii_lowercase(),
    )
}

impl SecureCluster {
    /// Starts `n` nodes logging in with PLAIN; `password_of(index)` is the password node
    /// `index` logs in with.
    pub fn start(n: usize, extra: &str, password_of: impl Fn(usize) -> String) -> SecureCluster {
        SecureCluster::start_with("PLAIN", n, extra, password_of)
    }

    /// As [`SecureCluster::start`], logging in with `mechanism` (a SCRAM user must then be
    /// created once the cluster runs: the users file only serves PLAIN).
    pub fn start_with(
        mechanism: &str,
        n: usize,
        extra: &str,
        password_of: impl Fn(usize) -> String,
    ) -> SecureCluster {
        let pki = TestPki::new();
        std::fs::write(
            pki.path("plain-users"),
            format!("admin:{ADMIN_PASSWORD}\nbroker:{BROKER_PASSWORD}\n"),
        )
        .expect("write the users file");
        let client_certificate = pki.client("clients", "/CN=clients", false);
        // The SASL_SSL ports too are new at each attempt: one of them may be the one taken.
        let mut secure_ports = Vec::new();
        let cluster = Cluster::start_retrying(|| {
            secure_ports = (0..n).map(|_| free_fixed_port()).collect();
            Cluster::try_start_each(n, &|index| {
                BrokerOptions::default().config(&node_config(
                    &pki,
                    secure_ports[index],
                    mechanism,
                    &password_of(index),
                    extra,
                ))
            })
        });
        SecureCluster {
            cluster,
            pki,
            client_certificate,
            secure_ports,
        }
    }

    /// `secure_clients.py` settings as `User:admin`, bootstrapping from every broker, for
    /// `produce_acked` of `count` values `{prefix}-{i}` to `topic`.
    pub fn producer_args(&self, topic: &str, count: usize, prefix: &str) -> serde_json::Value {
        let mut args = self.admin_connection(0);
        args["bootstrap"] = serde_json::json!((0..self.secure_ports.len())
            .map(|i| self.secure_bootstrap(i))
            .collect::<Vec<_>>()
            .join(","));
        args["topic"] = serde_json::json!(topic);
        args["count"] = serde_json::json!(count);
        args["prefix"] = serde_json::json!(prefix);
        args
    }

    /// Starts `n` brokers with the replication tests' settings (`replica_lag_ms`), client
    /// certificates required on SASL_SSL too (brokers present theirs to each other) and
    /// `extra`; opens the harness and creates `topic` (RF 3, min.insync.replicas 2). Returns
    /// the cluster once every replica is in sync, and the partitions as broker 0 serves them.
    pub fn start_replicating(
        python: &Path,
        n: usize,
        replica_lag_ms: u64,
        extra: &str,
        topic: &str,
        partitions: i32,
    ) -> (SecureCluster, Vec<PartitionView>) {
        let extra = format!(
            "{}\"ssl.client.auth\" = \"required\"\n{extra}",
            replication_toml(replica_lag_ms)
        );
        let sc = SecureCluster::start(n, &extra, |_| BROKER_PASSWORD.to_string());
        sc.open_harness(python);
        sc.create_min_insync_topic(topic, partitions, REPLICATION_FACTOR);
        let views = sc
            .cluster
            .wait_for_full_isr(0, topic, partitions as usize, REJOIN_TIMEOUT);
        (sc, views)
    }

    /// `host:port` of node `index`'s SASL_SSL listener.
    pub fn secure_bootstrap(&self, index: usize) -> String {
        format!("127.0.0.1:{}", self.secure_ports[index])
    }

    /// The client connection settings for `secure_clients.py`, as `User:admin`.
    pub fn admin_connection(&self, index: usize) -> serde_json::Value {
        serde_json::json!({
            "bootstrap": self.secure_bootstrap(index),
            "security_protocol": "SASL_SSL",
            "mechanism": "PLAIN",
            "user": "admin",
            "password": ADMIN_PASSWORD,
            "ca": self.pki.ca().to_string_lossy(),
            "cert": self.client_certificate.0.to_string_lossy(),
            "key": self.client_certificate.1.to_string_lossy(),
        })
    }

    /// Lets the harness's PLAINTEXT probes (`User:ANONYMOUS`) describe every topic and create
    /// the test's topics, through AdminClient as the super user.
    /// Creates `topic` with `min.insync.replicas` 2 through broker 0's harness (PLAINTEXT)
    /// listener.
    pub fn create_min_insync_topic(&self, topic: &str, partitions: i32, replication_factor: i16) {
        let mut conn = self.cluster.brokers[0].connect();
        create_replicated_topic(
            &mut conn,
            topic,
            partitions,
            replication_factor,
            &MIN_INSYNC_CONFIG,
        );
    }

    pub fn open_harness(&self, python: &Path) {
        let mut args = self.admin_connection(0);
        args["acls"] = serde_json::json!([
            [
                "TOPIC",
                "*",
                "LITERAL",
                "User:ANONYMOUS",
                "DESCRIBE",
                "ALLOW"
            ],
            [
                "TOPIC",
                TOPIC_PREFIX,
                "PREFIXED",
                "User:ANONYMOUS",
                "CREATE",
                "ALLOW"
            ],
        ]);
        let out = run_python(python, "admin", &args);
        assert_eq!(out["acls"], serde_json::json!(["ok", "ok"]), "{out}");
    }
}

/// Runs a `secure_clients.py` mode; its last stdout line, as JSON.
pub fn run_python(python: &Path, mode: &str, args: &serde_json::Value) -> serde_json::Value {
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
