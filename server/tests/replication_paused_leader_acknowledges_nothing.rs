//! A partition leader stopped with SIGSTOP past `broker.session.timeout.ms` (3 s here) is
//! fenced; the controller elects a leader from the rest of the ISR, and writes go on there.
//! Then the old leader is continued (SIGCONT). It must acknowledge nothing it cannot keep: the
//! writes that reached its sockets while it was paused, and those sent right after it
//! resumed, are answered with an error or not at all, or, if acknowledged, are in the log at
//! the acknowledged offset after healing (it cannot shrink the ISR on its own: that goes
//! through the controller, which has moved on).
//!
//! Under both acks=all producers (`sluice-loadgen`, confluent-kafka with default idempotence)
//! and a probe pinned to the paused broker (`common::probe`). Pass: `verify` clean, every
//! delivery in place, every acknowledged probe write in place, replicas byte-identical below
//! the high watermark once the old leader is back in the ISR.

mod common;

use std::thread;
use std::time::Duration;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::Cluster;
use common::confluent::{ConfluentStream, Idempotence};
use common::healed::{check_after_healing, Workload};
use common::kafka::create_replicated_topic;
use common::loadgen::{acks_all_produce_args, loadgen_or_skip, spawn_loadgen};
use common::probe::{self, Probe};
use common::replicas::{
    replication_toml, ELECTION_TIMEOUT, MIN_INSYNC_CONFIG, REJOIN_TIMEOUT, REPLICATION_FACTOR,
};

const BROKERS: usize = 3;
const LOADGEN_TOPIC: &str = "repl-pause-loadgen";
const CONFLUENT_TOPIC: &str = "repl-pause-confluent";
const PARTITIONS: i32 = 6;
const PRODUCE_S: f64 = 20.0;
const LOADGEN_RATE_MSGS_PER_S: u32 = 1_000;
const DELIVERIES_BEFORE_PAUSE: usize = 300;
const DELIVERIES_TIMEOUT: Duration = Duration::from_secs(30);
/// The fault's length after the new leader is in place: the new leader takes writes the paused
/// one never sees, so the two logs diverge.
const PAUSE_AFTER_DEPOSED: Duration = Duration::from_secs(2);
const PROBE_WRITES_PAUSED: usize = 20;
const PROBE_WRITES_RESUMED: usize = 20;
const LOADGEN_TIMEOUT: Duration = Duration::from_secs(120);
const REPLICA_LAG_MS: u64 = 3_000;

#[test]
fn a_paused_and_deposed_leader_acknowledges_no_write_that_later_vanishes() {
    let Some(loadgen) = loadgen_or_skip() else {
        return;
    };
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let Some(kcat) = clients::kcat() else {
        return;
    };
    let options = BrokerOptions::default().config(&replication_toml(REPLICA_LAG_MS));
    let cluster = Cluster::start(BROKERS, options);
    for topic in [LOADGEN_TOPIC, CONFLUENT_TOPIC] {
        let mut conn = cluster.brokers[0].connect();
        create_replicated_topic(
            &mut conn,
            topic,
            PARTITIONS,
            REPLICATION_FACTOR,
            &MIN_INSYNC_CONFIG,
        );
    }
    let views = cluster.wait_for_full_isr(0, CONFLUENT_TOPIC, PARTITIONS as usize, REJOIN_TIMEOUT);
    cluster.wait_for_full_isr(0, LOADGEN_TOPIC, PARTITIONS as usize, REJOIN_TIMEOUT);
    // A leader that is not the active controller, when there is one: the fault is the
    // leader's, not a controller election.
    let controller = cluster.metadata(0, &[]).controller_id.0;
    let target = views
        .iter()
        .find(|v| v.leader != controller)
        .unwrap_or(&views[0]);
    let (partition, victim_node) = (target.partition, target.leader);
    let victim = cluster.index_of(victim_node);
    let survivor = (victim + 1) % BROKERS;
    eprintln!("pausing node {victim_node}, leader of {CONFLUENT_TOPIC}-{partition}");

    let dir = tempfile::tempdir().expect("temp dir");
    let history = dir.path().join("loadgen.history");
    let args = acks_all_produce_args(
        &cluster.brokers[survivor].bootstrap(),
        LOADGEN_TOPIC,
        PARTITIONS,
        PRODUCE_S,
        LOADGEN_RATE_MSGS_PER_S,
        &history,
    );
    let loadgen_log = dir.path().join("loadgen.log");
    let producer = spawn_loadgen(&loadgen, &args, &loadgen_log);
    let stream = ConfluentStream::start(
        &python,
        &dir.path().join("confluent"),
        &cluster.bootstrap(),
        CONFLUENT_TOPIC,
        PARTITIONS,
        PRODUCE_S,
        Idempotence::Default,
    );
    stream.wait_acked(DELIVERIES_BEFORE_PAUSE, DELIVERIES_TIMEOUT);

    let mut pinned = Probe::connect(cluster.brokers[victim].addr(), CONFLUENT_TOPIC, partition);
    cluster.brokers[victim].pause();
    pinned.send("paused", PROBE_WRITES_PAUSED);
    let new_leader = cluster.wait_for_new_leader(
        survivor,
        CONFLUENT_TOPIC,
        partition,
        victim_node,
        ELECTION_TIMEOUT,
    );
    eprintln!(
        "node {new_leader} leads {CONFLUENT_TOPIC}-{partition} while node {victim_node} is paused"
    );
    // The fault's length, not a synchronisation: nothing is awaited here.
    thread::sleep(PAUSE_AFTER_DEPOSED);
    cluster.brokers[victim].resume();
    pinned.send("resumed", PROBE_WRITES_RESUMED);
    let writes = pinned.collect();
    eprintln!("{}", probe::summary(&writes));

    let workload = Workload {
        loadgen: &loadgen,
        kcat: &kcat,
        dir: dir.path(),
        history,
        loadgen_log,
        loadgen_timeout: LOADGEN_TIMEOUT,
        loadgen_topic: LOADGEN_TOPIC,
        confluent_topic: CONFLUENT_TOPIC,
        partitions: PARTITIONS as usize,
    };
    check_after_healing(&cluster, survivor, workload, producer, stream, &writes);
}
