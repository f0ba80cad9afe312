//! A partition's leader and followers own it on the same shard number, and each follower shard
//! connects to the leader from a source port that the leader's listeners steer to that shard.
//! So on three brokers with two shards each, replicating an RF 3 topic with acks=all, every
//! replica fetch a leader receives names only partitions of the shard it arrived on: none
//! hops shards. Without steering, SO_REUSEPORT's hash puts each of a leader's four incoming
//! streams on either shard, and some would.
//!
//! The same streams keep incremental fetch sessions (KIP-227): after a stream's first, full
//! fetch, its fetches name only the partitions whose position moved, so most of what a leader
//! serves continues a session.

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
const SHARDS: usize = 2;
const PARTITIONS: i32 = 8;
const TOPIC: &str = "steered";
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
/// Until every partition took an acks=all batch (retrying while leaders settle).
const PRODUCE_WAIT: Duration = Duration::from_secs(30);
/// UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT,
/// NOT_ENOUGH_REPLICAS(_AFTER_APPEND): nothing or a retriable write.
const RETRIABLE: [i16; 5] = [3, 6, 7, 19, 20];
/// Replica fetches each leader must have received before the test judges them.
const SERVED_MIN: f64 = 20.0;
/// Each stream opens its session once (again after a reconnect); the rest continue it.
const INCREMENTAL_SHARE_MIN: f64 = 0.5;
/// Followers long-poll for at most 500 ms, so each of a leader's four streams fetches at least
/// twice a second.
const SERVED_WAIT: Duration = Duration::from_secs(30);

fn create_topic(cluster: &Cluster) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .args(["topic", "create", TOPIC])
        .args(["--partitions", &PARTITIONS.to_string()])
        .args(["--replication-factor", &BROKERS.to_string()])
        .args(["--bootstrap", &cluster.brokers[0].bootstrap()]);
    let finished = run_with_timeout(&mut command, CLI_TIMEOUT, "sluice topic create");
    assert!(finished.status.success(), "{}", finished.transcript());
}

/// One acks=all batch to every partition, at its current leader.
fn produce_everywhere(cluster: &Cluster) {
    for partition in 0..PARTITIONS {
        let records = vec![numbered_record(&format!("p{partition}"), 0, now_ms())];
        wait_until(
            &format!("an acks=all produce to {partition}"),
            PRODUCE_WAIT,
            || {
                let leader =
                    cluster.wait_for_leaders(0, TOPIC, PARTITIONS as usize)[partition as usize];
                let mut conn = cluster.brokers[cluster.index_of(leader)].connect();
                let result = produce(&mut conn, TOPIC, partition, encode_batch(&records), -1);
                if RETRIABLE.contains(&result.error_code) {
                    return None;
                }
                assert_eq!(result.error_code, 0, "produce to {partition}: {result:?}");
                Some(())
            },
        );
    }
}

#[test]
fn replication_streams_land_on_their_shard() {
    let cluster = Cluster::start(BROKERS, BrokerOptions::default().cores(SHARDS));
    let addresses: Vec<SocketAddr> = cluster.brokers.iter().map(metrics_address).collect();
    create_topic(&cluster);
    produce_everywhere(&cluster);
    let scrapes = wait_until(
        "every leader to receive replica fetches",
        SERVED_WAIT,
        || {
            let scrapes: Vec<String> = addresses.iter().map(|a| scrape(*a).1).collect();
            scrapes
                .iter()
                .all(|text| {
                    total(text, "sluice_replica_fetches_served_total").unwrap_or(0.0) >= SERVED_MIN
                })
                .then_some(scrapes)
        },
    );
    for (node, text) in cluster.node_ids.iter().zip(&scrapes) {
        let crossed = total(text, "sluice_replica_fetches_served_other_shard_total");
        assert_eq!(
            crossed,
            Some(0.0),
            "broker {node}: replica fetches that hopped shards"
        );
        let served = total(text, "sluice_replica_fetches_served_total").unwrap_or(0.0);
        let incremental =
            total(text, "sluice_replica_fetches_served_incremental_total").unwrap_or(0.0);
        assert!(
            incremental >= served * INCREMENTAL_SHARE_MIN,
            "broker {node}: {incremental} of {served} replica fetches continued a fetch session"
        );
    }
}
