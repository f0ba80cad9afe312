//! On three brokers with a replication-factor-3 topic written with acks=all, each partition's
//! leader reports on `/metrics` an ISR of three out of three replicas, its high watermark past
//! the records, and a lag series for each of its two followers; nothing is under-replicated, and
//! the replication streams and the replication latency histogram have counted. After one broker
//! is killed (-9) and fenced, the survivors report every partition of the topic under-replicated
//! with an ISR of two, none offline, and the dead follower's lag in ms past
//! `replica.lag.time.max.ms`.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::broker::BrokerOptions;
use common::cluster::Cluster;
use common::kafka::produce;
use common::metrics::{metrics_address, scrape, total};
use common::process::run_with_timeout;
use common::records::{encode_batch, now_ms, numbered_record};
use common::wait::wait_until;

const BROKERS: usize = 3;
const PARTITIONS: i32 = 3;
const TOPIC: &str = "metered-replicas";
const RECORDS_PER_PARTITION: usize = 10;
/// acks=all, so that the replication latency histogram counts these batches.
const ACKS: i16 = -1;
/// Followers leave the ISR after this long without catching up (the test's, not Kafka's 30 s).
const REPLICA_LAG_TIME_MAX_MS: i64 = 2_000;
/// Short broker sessions, so that the killed broker is fenced (and leaves the ISRs) within the
/// test's patience, yet long enough that live brokers on a loaded 2-core box keep theirs; and
/// the lag window above.
const BROKER_TOML: &str = "\"broker.session.timeout.ms\" = 6000\n\
\"broker.heartbeat.interval.ms\" = 500\n\
\"replica.lag.time.max.ms\" = 2000\n";
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
/// Until every partition took an acks=all batch (retrying while a leader moves).
const PRODUCE_WAIT: Duration = Duration::from_secs(20);
/// UNKNOWN_TOPIC_OR_PARTITION (the leader has not applied the topic yet),
/// NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS(_AFTER_APPEND).
const RETRIABLE: [i16; 5] = [3, 6, 7, 19, 20];
/// Until the scrapes show what the test waits for (followers fetch every few hundred ms; the
/// fence takes the session timeout).
const SCRAPE_WAIT: Duration = Duration::from_secs(30);

/// The value of `name{topic="TOPIC",partition="P"<extra>}` in one exposition.
fn partition_sample(text: &str, name: &str, partition: i32, extra: &str) -> Option<f64> {
    let series = format!("{name}{{topic=\"{TOPIC}\",partition=\"{partition}\"{extra}}} ");
    let line = text.lines().find(|line| line.starts_with(&series))?;
    line[series.len()..].trim().parse().ok()
}

/// Scrapes of every live broker: (node id, exposition).
fn scrape_all(addresses: &[(i32, SocketAddr)]) -> Vec<(i32, String)> {
    addresses
        .iter()
        .map(|(node, address)| (*node, scrape(*address).1))
        .collect()
}

/// The one broker reporting `name` for `partition`, and its value (None: none or several).
fn on_one_broker(scrapes: &[(i32, String)], name: &str, partition: i32) -> Option<(i32, f64)> {
    let found: Vec<(i32, f64)> = scrapes
        .iter()
        .filter_map(|(node, text)| Some((*node, partition_sample(text, name, partition, "")?)))
        .collect();
    (found.len() == 1).then(|| found[0])
}

fn sum(scrapes: &[(i32, String)], name: &str) -> f64 {
    scrapes
        .iter()
        .map(|(_, text)| total(text, name).unwrap_or(0.0))
        .sum()
}

fn create_topic(cluster: &Cluster) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .args([
            "topic",
            "create",
            TOPIC,
            "--partitions",
            &PARTITIONS.to_string(),
        ])
        .args(["--replication-factor", &BROKERS.to_string()])
        .args(["--bootstrap", &cluster.brokers[0].bootstrap()]);
    let finished = run_with_timeout(&mut command, CLI_TIMEOUT, "sluice topic create");
    assert!(finished.status.success(), "{}", finished.transcript());
}

fn index_of(cluster: &Cluster, node: i32) -> usize {
    cluster
        .node_ids
        .iter()
        .position(|id| *id == node)
        .expect("a node of the cluster")
}

/// The current leader of every partition, from broker 0's metadata.
fn leaders(cluster: &Cluster) -> Vec<i32> {
    cluster.wait_for_leaders(0, TOPIC, PARTITIONS as usize)
}

/// Writes `RECORDS_PER_PARTITION` records to every partition with acks=all, following the
/// leader when it moves (a broker whose heartbeats came late on a loaded box is fenced).
fn produce_everywhere(cluster: &Cluster) {
    for partition in 0..PARTITIONS {
        let records: Vec<_> = (0..RECORDS_PER_PARTITION)
            .map(|i| numbered_record(&format!("p{partition}"), i, now_ms()))
            .collect();
        wait_until(
            &format!("an acks=all produce to {partition}"),
            PRODUCE_WAIT,
            || {
                let leader = leaders(cluster)[partition as usize];
                let mut conn = cluster.brokers[index_of(cluster, leader)].connect();
                let result = produce(&mut conn, TOPIC, partition, encode_batch(&records), ACKS);
                if RETRIABLE.contains(&result.error_code) {
                    return None;
                }
                assert_eq!(
                    result.error_code, 0,
                    "acks=all produce to {partition}: {result:?}"
                );
                Some(())
            },
        );
    }
}

/// True when each partition's leader (and only it) reports 3 of 3 replicas in sync, both
/// followers' lag, and a high watermark past the acknowledged records; and the broker totals
/// say the same.
fn healthy(cluster: &Cluster, scrapes: &[(i32, String)]) -> bool {
    let records = RECORDS_PER_PARTITION as f64;
    let partitions_healthy = (0..PARTITIONS)
        .zip(leaders(cluster))
        .all(|(partition, leader)| {
            let Some((_, text)) = scrapes.iter().find(|(node, _)| *node == leader) else {
                return false;
            };
            let sample = |name: &str, extra: &str| partition_sample(text, name, partition, extra);
            let followers_lag =
                cluster
                    .node_ids
                    .iter()
                    .filter(|node| **node != leader)
                    .all(|follower| {
                        let replica = format!(",replica=\"{follower}\"");
                        sample("sluice_follower_lag_offsets", &replica).is_some()
                    });
            on_one_broker(scrapes, "sluice_partition_isr_size", partition) == Some((leader, 3.0))
                && sample("sluice_partition_replicas", "") == Some(3.0)
                && sample("sluice_partition_high_watermark", "").is_some_and(|hw| hw >= records)
                && followers_lag
        });
    partitions_healthy && sum(scrapes, "sluice_partitions_under_replicated") == 0.0
}

#[test]
fn replication_metrics_report_isr_and_lag() {
    let mut cluster = Cluster::start(BROKERS, BrokerOptions::default().config(BROKER_TOML));
    let addresses: Vec<(i32, SocketAddr)> = cluster
        .node_ids
        .iter()
        .zip(&cluster.brokers)
        .map(|(node, broker)| (*node, metrics_address(broker)))
        .collect();
    create_topic(&cluster);
    produce_everywhere(&cluster);
    let scrapes = wait_until(
        "every leader to report a full ISR and its followers' lag",
        SCRAPE_WAIT,
        || {
            let scrapes = scrape_all(&addresses);
            healthy(&cluster, &scrapes).then_some(scrapes)
        },
    );
    // No other partitions exist (no group ever used `__consumer_offsets`), so the broker
    // totals are this topic's.
    assert_eq!(
        sum(&scrapes, "sluice_partitions_leader_count"),
        f64::from(PARTITIONS)
    );
    assert_eq!(
        sum(&scrapes, "sluice_partitions_follower_count"),
        f64::from(PARTITIONS * 2)
    );
    assert_eq!(sum(&scrapes, "sluice_partitions_under_min_isr"), 0.0);
    assert_eq!(sum(&scrapes, "sluice_partitions_offline"), 0.0);
    // Every partition's batch reached both of its followers through their streams.
    let batches = sum(&scrapes, "sluice_replication_fetched_batches_total");
    assert!(batches >= f64::from(PARTITIONS * 2), "{batches}");
    assert!(sum(&scrapes, "sluice_replication_fetches_total") >= f64::from(PARTITIONS));
    // Two stages (since append, since flush) per replicated acks=all batch.
    let replicated = sum(&scrapes, "sluice_replication_latency_seconds_count") / 2.0;
    assert!(
        replicated >= f64::from(PARTITIONS),
        "acks=all batches replicated: {replicated}"
    );

    // Kill a broker: once fenced it leaves every ISR, and the survivors lead every partition.
    let leaders = leaders(&cluster);
    let victim = *cluster.node_ids.last().expect("three nodes");
    let victim_index = index_of(&cluster, victim);
    cluster.brokers[victim_index].kill9();
    let survivors: Vec<(i32, SocketAddr)> = addresses
        .iter()
        .copied()
        .filter(|(node, _)| *node != victim)
        .collect();
    let scrapes = wait_until(
        "the survivors to report every partition under-replicated",
        SCRAPE_WAIT,
        || {
            let scrapes = scrape_all(&survivors);
            let shrunk = (0..PARTITIONS).all(|partition| {
                on_one_broker(&scrapes, "sluice_partition_isr_size", partition)
                    .is_some_and(|(_, isr)| isr == 2.0)
            });
            let under =
                sum(&scrapes, "sluice_partitions_under_replicated") == f64::from(PARTITIONS);
            (shrunk && under).then_some(scrapes)
        },
    );
    for partition in 0..PARTITIONS {
        let (_, replicas) =
            on_one_broker(&scrapes, "sluice_partition_replicas", partition).expect("a leader");
        assert_eq!(replicas, 3.0, "the dead replica stays assigned");
    }
    assert_eq!(
        sum(&scrapes, "sluice_partitions_under_min_isr"),
        0.0,
        "min.insync.replicas is 1"
    );
    assert_eq!(sum(&scrapes, "sluice_partitions_offline"), 0.0);
    // A leader that kept its leadership saw the victim fetch, and counts the time since.
    let kept = (0..PARTITIONS)
        .zip(&leaders)
        .filter(|(_, leader)| **leader != victim);
    let replica = format!(",replica=\"{victim}\"");
    for (partition, leader) in kept {
        let (_, text) = scrapes
            .iter()
            .find(|(node, _)| node == leader)
            .expect("a survivor");
        let lag_ms = partition_sample(text, "sluice_follower_lag_ms", partition, &replica)
            .unwrap_or_else(|| panic!("no lag of {victim} on partition {partition}:\n{text}"));
        assert!(lag_ms > REPLICA_LAG_TIME_MAX_MS as f64, "{lag_ms}");
    }
}
