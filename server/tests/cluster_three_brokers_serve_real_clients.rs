//! Three brokers on loopback ports form one cluster. Every broker lists all three and names the
//! same active controller; a 9-partition topic is led by all three; and confluent-kafka,
//! kafka-python, kafkajs and kcat, each given one broker's address only, produce and read back
//! everything (the clients find each partition's leader through Metadata).

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::Cluster;
use common::kafka::produce_request;
use common::process::run_with_timeout;
use common::records::{encode_batch, now_ms, numbered_record};
use kafka_protocol::messages::ProduceRequest;

const BROKERS: usize = 3;
const SPREAD_PARTITIONS: i32 = 9;
/// Codecs of the client round trips here (every codec is covered on one node).
const CODECS: [&str; 2] = ["none", "lz4"];
const MESSAGES: usize = 2_000;
const PARTITIONS: usize = 6;
const CLIENT_TIMEOUT: Duration = Duration::from_secs(300);
const NOT_LEADER_OR_FOLLOWER: i16 = 6;

#[test]
fn three_brokers_list_each_other_and_spread_leaders() {
    let cluster = Cluster::start(BROKERS, BrokerOptions::default());
    let mut controllers = BTreeSet::new();
    for index in 0..BROKERS {
        let meta = cluster.metadata(index, &[]);
        let ids: BTreeSet<i32> = meta.brokers.iter().map(|b| b.node_id.0).collect();
        assert_eq!(ids, cluster.node_ids.iter().copied().collect());
        controllers.insert(meta.controller_id.0);
    }
    assert_eq!(
        controllers.len(),
        1,
        "brokers disagree on the controller: {controllers:?}"
    );
    let controller = controllers.first().copied().unwrap_or(-1);
    assert!(
        cluster.node_ids.contains(&controller),
        "controller {controller}"
    );

    let mut conn = cluster.brokers[1].connect();
    common::kafka::create_topic(&mut conn, "spread", SPREAD_PARTITIONS);
    for index in 0..BROKERS {
        let leaders = cluster.wait_for_leaders(index, "spread", SPREAD_PARTITIONS as usize);
        not_the_leader_names_the_leader(&cluster, index, &leaders);
        let distinct: BTreeSet<i32> = leaders.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            BROKERS,
            "leaders {leaders:?} do not span every broker"
        );
        for broker in &distinct {
            let led = leaders.iter().filter(|l| *l == broker).count();
            assert_eq!(
                led,
                SPREAD_PARTITIONS as usize / BROKERS,
                "unbalanced leaders {leaders:?}"
            );
        }
    }
}

/// A produce to a partition broker `index` does not lead gets NOT_LEADER_OR_FOLLOWER with the
/// KIP-951 hint: the current leader and its endpoint.
fn not_the_leader_names_the_leader(cluster: &Cluster, index: usize, leaders: &[i32]) {
    let me = cluster.node_ids[index];
    let (partition, leader) = leaders
        .iter()
        .enumerate()
        .find(|(_, leader)| **leader != me)
        .map(|(p, l)| (p as i32, *l))
        .expect("a partition another broker leads");
    let mut conn = cluster.brokers[index].connect();
    let version = conn.version_for::<ProduceRequest>(10, 11);
    let batch = encode_batch(&[numbered_record("hint", 0, now_ms())]);
    let response = conn.request(version, &produce_request("spread", partition, batch, 1));
    let answer = &response.responses[0].partition_responses[0];
    assert_eq!(answer.error_code, NOT_LEADER_OR_FOLLOWER);
    assert_eq!(answer.current_leader.leader_id.0, leader);
    let leader_index = cluster
        .node_ids
        .iter()
        .position(|id| *id == leader)
        .expect("a node");
    let endpoint = response
        .node_endpoints
        .iter()
        .find(|e| e.node_id.0 == leader)
        .expect("the leader's endpoint");
    assert_eq!(
        endpoint.port,
        i32::from(cluster.brokers[leader_index].addr().port())
    );
}

fn round_trip_args(bootstrap: &str, prefix: &str) -> Vec<String> {
    vec![
        "--bootstrap".into(),
        bootstrap.into(),
        "--topic-prefix".into(),
        prefix.into(),
        "--codecs".into(),
        CODECS.join(","),
        "--messages".into(),
        MESSAGES.to_string(),
        "--partitions".into(),
        PARTITIONS.to_string(),
    ]
}

fn run_client(cluster: &Cluster, command: &mut Command, what: &str) {
    let finished = run_with_timeout(command, CLIENT_TIMEOUT, what);
    if !finished.status.success() {
        for broker in &cluster.brokers {
            eprintln!("{}", broker.log_text());
        }
    }
    clients::assert_round_trip_verified(&finished, &CODECS, MESSAGES);
}

#[test]
fn real_clients_round_trip_through_one_broker_of_three() {
    let cluster = Cluster::start(BROKERS, BrokerOptions::default());
    if let Some(python) = clients::python_with("confluent_kafka") {
        let mut command = Command::new(python);
        command
            .current_dir(clients::python_scripts_dir())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg("confluent_kafka_round_trip.py")
            .args(round_trip_args(
                &cluster.brokers[0].bootstrap(),
                "cluster-confluent",
            ));
        run_client(&cluster, &mut command, "confluent-kafka through broker 1");
    }
    if let Some(python) = clients::python_with("kafka") {
        let mut command = Command::new(python);
        command
            .current_dir(clients::python_scripts_dir())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg("kafka_python_round_trip.py")
            .args(round_trip_args(
                &cluster.brokers[1].bootstrap(),
                "cluster-kafka-python",
            ));
        run_client(&cluster, &mut command, "kafka-python through broker 2");
    }
    if let Some(kafkajs) = clients::kafkajs() {
        let mut command = Command::new(&kafkajs.node);
        command
            .current_dir(&kafkajs.dir)
            .env("KAFKAJS_NO_PARTITIONER_WARNING", "1")
            .arg("kafkajs_round_trip.js")
            .args(round_trip_args(
                &cluster.brokers[2].bootstrap(),
                "cluster-kafkajs",
            ));
        run_client(&cluster, &mut command, "kafkajs through broker 3");
    }
    if let Some(kcat) = clients::kcat() {
        kcat_round_trip(&cluster, &kcat);
    }
}

/// kcat produces keyed lines through broker 2's address into a 9-partition topic and reads
/// every partition back; every line comes back exactly once.
fn kcat_round_trip(cluster: &Cluster, kcat: &std::path::Path) {
    let topic = "cluster-kcat";
    let mut conn = cluster.brokers[0].connect();
    common::kafka::create_topic(&mut conn, topic, SPREAD_PARTITIONS);
    let bootstrap = cluster.brokers[1].bootstrap();
    let work = tempfile::tempdir().expect("temp dir");
    let input = work.path().join("input.txt");
    let lines: Vec<String> = (0..MESSAGES)
        .map(|i| format!("key-{i}\tvalue-{i}"))
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").expect("write kcat input");
    let produced = run_with_timeout(
        Command::new(kcat)
            .args(["-b", &bootstrap, "-P", "-t", topic, "-K", "\t", "-l"])
            .arg(&input),
        CLIENT_TIMEOUT,
        "kcat produce through one broker of three",
    );
    assert!(produced.status.success(), "{}", produced.transcript());
    let consumed = run_with_timeout(
        Command::new(kcat).args([
            "-b",
            &bootstrap,
            "-C",
            "-t",
            topic,
            "-o",
            "beginning",
            "-e",
            "-q",
            "-f",
            "%k\t%s\n",
        ]),
        CLIENT_TIMEOUT,
        "kcat consume through one broker of three",
    );
    assert!(consumed.status.success(), "{}", consumed.transcript());
    let mut got: Vec<&str> = consumed.stdout.lines().filter(|l| !l.is_empty()).collect();
    got.sort_unstable();
    let mut want: Vec<&str> = lines.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(got.len(), want.len(), "kcat read back a different count");
    assert_eq!(got, want);
}
