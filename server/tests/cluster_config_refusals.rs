//! `sluice start` refuses an inconsistent cluster configuration: one line on stderr naming the
//! problem, a non-zero exit, and (for a refused configuration) no data dir created. And a
//! Kafka `server.properties` with the usual keys starts a one-node broker that answers.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::broker::{free_fixed_port, STARTUP_TIMEOUT};
use common::kafka;
use common::process::{run_with_timeout, ChildGuard};
use common::wait::wait_until;
use common::wire::KafkaConnection;

/// A refusal happens before the broker does anything slow.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(30);

/// A scratch dir for one case: config files and data dirs live in it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::Builder::new()
                .prefix("sluice-refusal-")
                .tempdir()
                .expect("create scratch dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write scratch file");
        path
    }

    /// A data dir that already belongs to `node_id` of `cluster_id`.
    fn data_dir_of(&self, node_id: i32, cluster_id: &str) -> PathBuf {
        let dir = self.path("data");
        std::fs::create_dir_all(&dir).expect("create data dir");
        std::fs::write(
            dir.join("meta.properties"),
            format!("version=1\nnode.id={node_id}\ncluster.id={cluster_id}\n"),
        )
        .expect("write meta.properties");
        dir
    }
}

/// `sluice start` with `args` (plus a free client port, a metrics port the OS picks and one
/// core); asserts it refuses with one stderr line containing `expected`.
fn assert_refused(args: &[&str], expected: &str) {
    assert_refused_on("127.0.0.1", args, expected);
}

/// [`assert_refused`] with the client listener on `host`.
fn assert_refused_on(host: &str, args: &[&str], expected: &str) {
    let port = free_fixed_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .arg("start")
        .args(["--listen", &format!("{host}:{port}")])
        .args(["--metrics-listen", "127.0.0.1:0", "--cores", "1"])
        .args(args);
    let finished = run_with_timeout(&mut command, REFUSAL_TIMEOUT, "sluice start");
    assert!(
        !finished.status.success(),
        "started although it should refuse ({expected}):\n{}",
        finished.transcript()
    );
    let lines: Vec<&str> = finished
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one stderr line:\n{}",
        finished.transcript()
    );
    assert!(
        lines[0].contains(expected),
        "stderr should name {expected:?}:\n{}",
        finished.transcript()
    );
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

#[test]
fn a_data_dir_of_another_cluster_is_refused() {
    let scratch = Scratch::new();
    let data = scratch.data_dir_of(0, "cluster-a");
    let config = scratch.write("sluice.toml", "\"cluster.id\" = \"cluster-b\"\n");
    let expected = format!(
        "data dir {} belongs to cluster cluster-a, but this node is configured for cluster cluster-b",
        data.display()
    );
    assert_refused(
        &["--data-dir", arg(&data), "--config", arg(&config)],
        &expected,
    );
    let meta = std::fs::read_to_string(data.join("meta.properties")).expect("meta.properties");
    assert!(meta.contains("cluster.id=cluster-a"), "left alone: {meta}");
}

#[test]
fn a_data_dir_of_another_node_is_refused() {
    let scratch = Scratch::new();
    let data = scratch.data_dir_of(2, "cluster-a");
    let expected = format!(
        "data dir {} belongs to node 2, but this node is node 1",
        data.display()
    );
    assert_refused(&["--data-dir", arg(&data), "--node-id", "1"], &expected);
}

#[test]
fn a_node_id_twice_among_the_voters_is_refused() {
    let scratch = Scratch::new();
    let data = scratch.path("data");
    assert_refused(
        &[
            "--data-dir",
            arg(&data),
            "--node-id",
            "1",
            "--controller-listen",
            "127.0.0.1:19093",
            "--controller-voters",
            "1@127.0.0.1:19093,2@127.0.0.1:19193,2@127.0.0.1:19293",
        ],
        "node 2 appears twice",
    );
    assert!(
        !data.exists(),
        "a refused configuration creates no data dir"
    );
}

#[test]
fn a_cluster_member_listening_on_every_interface_needs_an_advertised_listener() {
    let scratch = Scratch::new();
    let data = scratch.path("data");
    let controller = free_fixed_port();
    let voters = format!("1@127.0.0.1:{controller},2@127.0.0.1:{}", free_fixed_port());
    assert_refused_on(
        "0.0.0.0",
        &[
            "--data-dir",
            arg(&data),
            "--node-id",
            "1",
            "--controller-listen",
            &format!("127.0.0.1:{controller}"),
            "--controller-voters",
            &voters,
        ],
        "set advertised.listeners",
    );
}

#[test]
fn a_voter_whose_listener_is_not_in_the_voters_is_refused() {
    let scratch = Scratch::new();
    let data = scratch.path("data");
    assert_refused(
        &[
            "--data-dir",
            arg(&data),
            "--node-id",
            "4",
            "--controller-listen",
            "127.0.0.1:19393",
            "--controller-voters",
            "1@127.0.0.1:19093,2@127.0.0.1:19193,3@127.0.0.1:19293",
        ],
        "node 4 has a controller listener (127.0.0.1:19393) but is not in controller.quorum.voters",
    );
    assert!(
        !data.exists(),
        "a refused configuration creates no data dir"
    );
}

#[test]
fn a_voter_entry_with_another_address_than_the_listener_is_refused() {
    let scratch = Scratch::new();
    let data = scratch.path("data");
    assert_refused(
        &[
            "--data-dir",
            arg(&data),
            "--node-id",
            "1",
            "--controller-listen",
            "127.0.0.1:19094",
            "--controller-voters",
            "1@127.0.0.1:19093,2@127.0.0.1:19193,3@127.0.0.1:19293",
        ],
        "its entry in controller.quorum.voters is 1@127.0.0.1:19093",
    );
    assert!(
        !data.exists(),
        "a refused configuration creates no data dir"
    );
}

#[test]
fn a_listed_voter_without_a_controller_listener_is_refused() {
    let scratch = Scratch::new();
    let data = scratch.path("data");
    assert_refused(
        &[
            "--data-dir",
            arg(&data),
            "--node-id",
            "2",
            "--controller-voters",
            "1@127.0.0.1:19093,2@127.0.0.1:19193,3@127.0.0.1:19293",
        ],
        "node 2 is a voter in controller.quorum.voters (2@127.0.0.1:19193) but has no controller listener",
    );
    assert!(
        !data.exists(),
        "a refused configuration creates no data dir"
    );
}

#[test]
fn a_dedicated_controller_is_refused() {
    let scratch = Scratch::new();
    let data = scratch.path("data");
    let config = scratch.write(
        "server.properties",
        "process.roles=controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:19093\n",
    );
    assert_refused(
        &["--data-dir", arg(&data), "--config", arg(&config)],
        "dedicated controllers are not supported yet",
    );
    assert!(
        !data.exists(),
        "a refused configuration creates no data dir"
    );
}

#[test]
fn a_tls_listener_without_a_keystore_and_an_unmapped_listener_are_refused_by_name() {
    let scratch = Scratch::new();
    let data = scratch.path("data");
    // No telling extension: the content says properties.
    let config = scratch.write("broker.conf", "listeners=SSL://127.0.0.1:19443\n");
    assert_refused(
        &["--data-dir", arg(&data), "--config", arg(&config)],
        "ssl.keystore.location",
    );
    let config = scratch.write("broker2.conf", "listeners=EXTERNAL://127.0.0.1:19443\n");
    assert_refused(
        &["--data-dir", arg(&data), "--config", arg(&config)],
        "listener EXTERNAL://127.0.0.1:19443: its name is not in listener.security.protocol.map",
    );
}

/// server.properties of voter 1 of three whose inter-broker listener is SASL_SSL, with
/// `extra` lines.
fn secured_voter(extra: &str) -> String {
    format!(
        "node.id=1\n\
         listeners=SASL_SSL://127.0.0.1:19494,CONTROLLER://127.0.0.1:19493\n\
         controller.listener.names=CONTROLLER\n\
         controller.quorum.voters=1@127.0.0.1:19493,2@127.0.0.1:19593,3@127.0.0.1:19693\n\
         inter.broker.listener.name=SASL_SSL\n\
         ssl.keystore.location=/etc/sluice/server.pem\n\
         ssl.truststore.location=/etc/sluice/ca.pem\n\
         sasl.enabled.mechanisms=PLAIN\n{extra}"
    )
}

#[test]
fn sasl_on_the_controller_listener_gssapi_and_a_sasl_inter_broker_listener_without_login_are_refused(
) {
    let scratch = Scratch::new();
    let data = scratch.path("data");
    let cases = [
        (
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL\n\
             sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
             username=\"b\" password=\"p\";\n",
            "controllers authenticate each other with mutual TLS (SSL) only; SASL is not served",
        ),
        (
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL\n\
             sasl.mechanism.inter.broker.protocol=GSSAPI\n",
            "invalid setting sasl.mechanism.inter.broker.protocol: GSSAPI",
        ),
        (
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL\n",
            "set listener.name.sasl_ssl.plain.sasl.jaas.config (or sasl.jaas.config)",
        ),
    ];
    for (i, (extra, expected)) in cases.iter().enumerate() {
        let config = scratch.write(&format!("secured-{i}.properties"), &secured_voter(extra));
        assert_refused(
            &["--data-dir", arg(&data), "--config", arg(&config)],
            expected,
        );
        assert!(
            !data.exists(),
            "a refused configuration creates no data dir"
        );
    }
}

#[test]
fn several_log_dirs_are_refused() {
    let scratch = Scratch::new();
    let a = scratch.path("a");
    let b = scratch.path("b");
    let config = scratch.write(
        "server.properties",
        &format!("log.dirs={},{}\n", a.display(), b.display()),
    );
    let port = free_fixed_port();
    // --data-dir would win over log.dirs: this case runs without it.
    let finished = run_with_timeout(
        Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("start")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--metrics-listen", "127.0.0.1:0", "--config", arg(&config)]),
        REFUSAL_TIMEOUT,
        "sluice start",
    );
    assert!(!finished.status.success(), "{}", finished.transcript());
    assert_eq!(
        finished.stderr.trim().lines().count(),
        1,
        "{}",
        finished.transcript()
    );
    assert!(
        finished.stderr.contains("log.dirs: lists 2 directories"),
        "{}",
        finished.transcript()
    );
    assert!(!a.exists());
    assert!(!b.exists());
}

/// The kind of file Kafka's quickstart ships (`config/kraft/server.properties`), on test
/// ports: it starts a one-node broker (its own single voter) that serves clients.
#[test]
fn a_kafka_server_properties_starts_a_one_node_broker() {
    let scratch = Scratch::new();
    let data = scratch.path("kraft-combined-logs");
    let port = free_fixed_port();
    let controller_port = free_fixed_port();
    let config = scratch.write(
        "server.properties",
        &format!(
            "############################# Server Basics #############################\n\
             process.roles=broker,controller\n\
             node.id=7\n\
             controller.quorum.voters=7@127.0.0.1:{controller_port}\n\
             listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}\n\
             inter.broker.listener.name=PLAINTEXT\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
             controller.listener.names=CONTROLLER\n\
             listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
             num.network.threads=3\n\
             num.io.threads=8\n\
             socket.send.buffer.bytes=102400\n\
             socket.receive.buffer.bytes=102400\n\
             socket.request.max.bytes=104857600\n\
             log.dirs={}\n\
             num.partitions=1\n\
             num.recovery.threads.per.data.dir=1\n\
             offsets.topic.replication.factor=1\n\
             transaction.state.log.replication.factor=1\n\
             transaction.state.log.min.isr=1\n\
             log.retention.hours=168\n\
             log.segment.bytes=1073741824\n\
             log.retention.check.interval.ms=300000\n",
            data.display()
        ),
    );
    let log = File::create(scratch.path("broker.log")).expect("create broker log");
    let log_err = log.try_clone().expect("clone log file");
    let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("start")
        .args(["--config", arg(&config), "--metrics-listen", "127.0.0.1:0"])
        .args(["--cores", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .spawn()
        .expect("spawn sluice");
    // Killed and reaped when dropped, whatever happens below.
    let broker = ChildGuard::new(child);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let log_text = || std::fs::read_to_string(scratch.path("broker.log")).unwrap_or_default();
    let mut conn = wait_until("the broker to answer ApiVersions", STARTUP_TIMEOUT, || {
        let log = log_text();
        // A refusal is one `sluice: ...` line; no point waiting for the timeout then.
        assert!(
            !log.contains("sluice: "),
            "the broker refused to start:\n{log}"
        );
        let mut conn = KafkaConnection::connect(address).ok()?;
        conn.ping().ok().map(|()| conn)
    });
    let meta = std::fs::read_to_string(data.join("meta.properties")).expect("meta.properties");
    let cluster_id = meta
        .lines()
        .find_map(|line| line.strip_prefix("cluster.id="))
        .expect("cluster.id in meta.properties")
        .to_string();
    assert_eq!(cluster_id.len(), 22, "{meta}");
    assert!(meta.contains("node.id=7"), "{meta}");
    let metadata = kafka::metadata(&mut conn, &[]);
    assert_eq!(
        metadata.cluster_id.as_ref().map(|id| id.to_string()),
        Some(cluster_id)
    );
    assert_eq!(metadata.brokers.len(), 1);
    assert_eq!(metadata.brokers[0].node_id.0, 7);
    assert_eq!(metadata.brokers[0].port, i32::from(port));
    let log = log_text();
    let ignored: Vec<&str> = log.lines().filter(|l| l.contains("ignoring")).collect();
    assert_eq!(ignored.len(), 1, "one warning for the ignored keys:\n{log}");
    assert!(ignored[0].contains("num.network.threads"), "{log}");
    drop(conn);
    drop(broker);
}
