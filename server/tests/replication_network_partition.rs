//! Three brokers, each in its own network namespace (`common::netns`). The leader of a
//! partition is cut off from the controller quorum and from its followers, while clients (the
//! test's namespace, through the bridge) still reach it. The majority fences it and elects a
//! leader from the rest of the ISR. acks=all writes sent to the cut-off leader must fail
//! (time out, NOT_ENOUGH_REPLICAS, NOT_LEADER_OR_FOLLOWER) rather than be acknowledged and
//! lost: it cannot reach its followers, and it cannot shrink the ISR without the controller.
//!
//! Under both acks=all producers (`sluice-loadgen`, confluent-kafka with default idempotence)
//! and a probe pinned to the cut-off broker. After healing: `verify` clean, every delivery and
//! every acknowledged probe write in place, replicas byte-identical below the high watermark.

mod common;

use std::thread;
use std::time::Duration;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::{Cluster, Place};
use common::confluent::{ConfluentStream, Idempotence};
use common::healed::{check_after_healing, Workload};
use common::kafka::create_replicated_topic;
use common::loadgen::{acks_all_produce_args, loadgen_or_skip, spawn_loadgen};
use common::netns::NetLab;
use common::probe::{self, Probe};
use common::replicas::{
    replication_toml, ELECTION_TIMEOUT, MIN_INSYNC_CONFIG, REJOIN_TIMEOUT, REPLICATION_FACTOR,
};

const BROKERS: usize = 3;
const CLIENT_PORT: u16 = 19_092;
const CONTROLLER_PORT: u16 = 19_093;
const LOADGEN_TOPIC: &str = "repl-cut-loadgen";
const CONFLUENT_TOPIC: &str = "repl-cut-confluent";
const PARTITIONS: i32 = 6;
const PRODUCE_S: f64 = 20.0;
const LOADGEN_RATE_MSGS_PER_S: u32 = 1_000;
const DELIVERIES_BEFORE_CUT: usize = 300;
const DELIVERIES_TIMEOUT: Duration = Duration::from_secs(30);
/// The fault's length after the majority elected another leader: both sides take writes.
const CUT_AFTER_DEPOSED: Duration = Duration::from_secs(3);
const PROBE_WRITES_CUT: usize = 20;
const PROBE_WRITES_LATE: usize = 20;
const LOADGEN_TIMEOUT: Duration = Duration::from_secs(120);
const REPLICA_LAG_MS: u64 = 3_000;

#[test]
fn a_cut_off_leader_acknowledges_no_acks_all_write_that_is_lost() {
    let Some(lab) = NetLab::create(BROKERS) else {
        return;
    };
    let Some(loadgen) = loadgen_or_skip() else {
        return;
    };
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let Some(kcat) = clients::kcat() else {
        return;
    };
    let places = (0..BROKERS)
        .map(|node| Place {
            host: lab.node_ip(node),
            client_port: CLIENT_PORT,
            controller_port: CONTROLLER_PORT,
            prefix: lab.prefix(node),
        })
        .collect();
    let options = BrokerOptions::default().config(&replication_toml(REPLICA_LAG_MS));
    let cluster = Cluster::start_at(places, options);
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
    let controller = cluster.metadata(0, &[]).controller_id.0;
    let target = views
        .iter()
        .find(|v| v.leader != controller)
        .unwrap_or(&views[0]);
    let (partition, victim_node) = (target.partition, target.leader);
    let victim = cluster.index_of(victim_node);
    let survivor = (victim + 1) % BROKERS;
    eprintln!(
        "cutting off node {victim_node}, leader of {CONFLUENT_TOPIC}-{partition} (controller \
         {controller})"
    );

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
    stream.wait_acked(DELIVERIES_BEFORE_CUT, DELIVERIES_TIMEOUT);

    let mut pinned = Probe::connect(cluster.brokers[victim].addr(), CONFLUENT_TOPIC, partition);
    lab.isolate(victim);
    pinned.send("cut", PROBE_WRITES_CUT);
    let new_leader = cluster.wait_for_new_leader(
        survivor,
        CONFLUENT_TOPIC,
        partition,
        victim_node,
        ELECTION_TIMEOUT,
    );
    eprintln!(
        "node {new_leader} leads {CONFLUENT_TOPIC}-{partition}; node {victim_node} is cut off"
    );
    pinned.send("deposed", PROBE_WRITES_LATE);
    // The fault's length, not a synchronisation: nothing is awaited here.
    thread::sleep(CUT_AFTER_DEPOSED);
    let writes = pinned.collect();
    lab.heal(victim);
    eprintln!("healed; {}", probe::summary(&writes));

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
