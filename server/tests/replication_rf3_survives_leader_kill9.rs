//! Three brokers, topics with replication factor 3 and `min.insync.replicas` 2, and five
//! hard kills (SIGKILL) of a partition leader, each under two acks=all producers:
//! `sluice-loadgen` (its acknowledged history kept for `verify`) and confluent-kafka
//! (librdkafka, `enable.idempotence` left at its default). After each kill a follower from the
//! ISR takes over; the killed broker is restarted and must be back in the ISR of every
//! partition (Metadata) before the next kill.
//!
//! Pass: `sluice-loadgen verify` finds no acknowledged message lost and no offset holding two
//! values; every record confluent-kafka reported delivered is read back at its delivered
//! offset; and after healing, every replica of every partition is byte-identical to its
//! leader below the high watermark (segment files compared, see `common::replicas`).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::Cluster;
use common::confluent::{self, ConfluentStream, Idempotence, StreamReport};
use common::kafka::create_replicated_topic;
use common::loadgen::{
    acks_all_produce_args, loadgen_or_skip, produce_counts, spawn_loadgen, verify,
};
use common::replicas::{
    assert_replicas_identical, replication_toml, ELECTION_TIMEOUT, MIN_INSYNC_CONFIG,
    REJOIN_TIMEOUT, REPLICATION_FACTOR,
};

const BROKERS: usize = 3;
const LOADGEN_TOPIC: &str = "repl-kill9-loadgen";
const CONFLUENT_TOPIC: &str = "repl-kill9-confluent";
const PARTITIONS: i32 = 6;
const KILLS: usize = 5;
/// How long each cycle's producers run; the kill lands in it.
const CYCLE_PRODUCE_S: f64 = 6.0;
const LOADGEN_RATE_MSGS_PER_S: u32 = 1_000;
/// Deliveries confluent-kafka must have had in a cycle before the kill: it is mid-stream.
const DELIVERIES_BEFORE_KILL: usize = 200;
const DELIVERIES_TIMEOUT: Duration = Duration::from_secs(30);
const LOADGEN_TIMEOUT: Duration = Duration::from_secs(120);
const REPLICA_LAG_MS: u64 = 3_000;

#[test]
fn acknowledged_writes_survive_five_leader_kills_and_replicas_agree() {
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
    let mut cluster = Cluster::start(BROKERS, options);
    for topic in [LOADGEN_TOPIC, CONFLUENT_TOPIC] {
        let mut conn = cluster.brokers[0].connect();
        create_replicated_topic(
            &mut conn,
            topic,
            PARTITIONS,
            REPLICATION_FACTOR,
            &MIN_INSYNC_CONFIG,
        );
        cluster.wait_for_full_isr(0, topic, PARTITIONS as usize, REJOIN_TIMEOUT);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut histories: Vec<PathBuf> = Vec::new();
    let mut reports: Vec<StreamReport> = Vec::new();
    for kill in 0..KILLS {
        let partition = (kill % PARTITIONS as usize) as i32;
        let views =
            cluster.wait_for_full_isr(0, LOADGEN_TOPIC, PARTITIONS as usize, REJOIN_TIMEOUT);
        let victim_node = views[partition as usize].leader;
        let victim = cluster.index_of(victim_node);
        let survivor = (victim + 1) % BROKERS;

        let history = dir.path().join(format!("kill-{kill}.history"));
        let args = acks_all_produce_args(
            &cluster.brokers[survivor].bootstrap(),
            LOADGEN_TOPIC,
            PARTITIONS,
            CYCLE_PRODUCE_S,
            LOADGEN_RATE_MSGS_PER_S,
            &history,
        );
        let loadgen_log = dir.path().join(format!("kill-{kill}.loadgen.log"));
        let mut producer = spawn_loadgen(&loadgen, &args, &loadgen_log);
        let stream = ConfluentStream::start(
            &python,
            &dir.path().join(format!("kill-{kill}.confluent")),
            &cluster.bootstrap(),
            CONFLUENT_TOPIC,
            PARTITIONS,
            CYCLE_PRODUCE_S,
            Idempotence::Default,
        );
        stream.wait_acked(DELIVERIES_BEFORE_KILL, DELIVERIES_TIMEOUT);

        cluster.brokers[victim].kill9();
        let new_leader = cluster.wait_for_new_leader(
            survivor,
            LOADGEN_TOPIC,
            partition,
            victim_node,
            ELECTION_TIMEOUT,
        );
        eprintln!(
            "kill {kill}: node {victim_node} (leader of {LOADGEN_TOPIC}-{partition}) killed; \
             node {new_leader} leads it now"
        );
        cluster.brokers[victim].respawn();
        cluster.brokers[victim].wait_started();

        let status = producer.wait(LOADGEN_TIMEOUT, "loadgen produce");
        let text = std::fs::read_to_string(&loadgen_log).unwrap_or_default();
        assert!(
            history.exists(),
            "kill {kill}: loadgen ({status}) wrote no history\n{text}"
        );
        eprintln!("kill {kill}: loadgen: {}", produce_counts(&history));
        histories.push(history);
        let report = stream.finish();
        eprintln!("kill {kill}: confluent-kafka {}", report.summary);
        reports.push(report);
        for topic in [LOADGEN_TOPIC, CONFLUENT_TOPIC] {
            cluster.wait_for_full_isr(survivor, topic, PARTITIONS as usize, REJOIN_TIMEOUT);
        }
        eprintln!("kill {kill}: node {victim_node} is back in every ISR");
    }

    let verdict = verify(
        &loadgen,
        &cluster.brokers[0].bootstrap(),
        LOADGEN_TOPIC,
        &histories,
        dir.path(),
    );
    eprintln!("verify: {}", verdict.summary());
    let stored = confluent::read_topic(&kcat, &cluster.bootstrap(), CONFLUENT_TOPIC);
    for report in &reports {
        confluent::assert_delivered_in_place(report, &stored);
    }
    let delivered: usize = reports.iter().map(|r| r.acked.len()).sum();
    eprintln!(
        "confluent-kafka: {delivered} deliveries, all in place among {} records",
        stored.len()
    );
    for topic in [LOADGEN_TOPIC, CONFLUENT_TOPIC] {
        assert_replicas_identical(&cluster, 0, topic, PARTITIONS as usize);
    }
    // Last, so that the other checks run (and report) even when the verdict fails.
    verdict.assert_safe();
}
