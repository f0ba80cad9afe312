//! `min.insync.replicas` 2 on a topic with replication factor 3, on five brokers (five voters,
//! so the controller quorum outlives the two brokers the test takes away; the topic's three
//! replicas are on three of them). `replica.lag.time.max.ms` is 2 s.
//!
//! - Both followers of a partition killed: `sluice topic describe` (and Metadata) shows the
//!   ISR shrink to the leader alone; acks=all gets NOT_ENOUGH_REPLICAS (19) and nothing is
//!   written (the next acks=1 batch takes the very offset the refused one would have had);
//!   acks=1 still works on the leader. Both restarted: the ISR grows back to three, acks=all
//!   works again, and the partition reads back exactly the batches that were accepted.
//! - Both followers paused (SIGSTOP) right before an acks=all write: the leader appends it,
//!   the ISR then shrinks below 2 before the high watermark passes it, and the write gets
//!   NOT_ENOUGH_REPLICAS_AFTER_APPEND (20), not success and not silence.

mod common;

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::ProduceRequest;

use common::broker::BrokerOptions;
use common::cluster::{Cluster, PartitionView};
use common::kafka::{
    create_replicated_topic, error_code, fetch, list_offset, produce, produce_request,
    LATEST_TIMESTAMP,
};
use common::process::run_with_timeout;
use common::records::{decode_records, encode_batch, now_ms, TestRecord};
use common::replicas::{replication_toml, MIN_INSYNC_CONFIG, REJOIN_TIMEOUT, REPLICATION_FACTOR};
use common::wait::wait_until;

const BROKERS: usize = 5;
const REPLICA_LAG_MS: u64 = 2_000;
const NOT_ENOUGH_REPLICAS: i16 = 19;
const NOT_ENOUGH_REPLICAS_AFTER_APPEND: i16 = 20;
/// How long the ISR may take to shrink once followers stop: the lag time or the session
/// timeout (3 s), the controller's round trip, a loaded machine.
const SHRINK_TIMEOUT: Duration = Duration::from_secs(30);
const CLI_TIMEOUT: Duration = Duration::from_secs(30);
/// The broker's wait for acks=all in the write that must see the ISR shrink: much longer than
/// the shrink takes, so a timeout is not what answers it, and under the connection's 20 s.
const AFTER_APPEND_PRODUCE_TIMEOUT_MS: i32 = 15_000;

fn record(value: &str) -> Bytes {
    encode_batch(&[TestRecord {
        key: Bytes::from_static(b"min-insync"),
        value: Bytes::from(value.to_string()),
        timestamp_ms: now_ms(),
    }])
}

fn start() -> Cluster {
    let options = BrokerOptions::default().config(&replication_toml(REPLICA_LAG_MS));
    Cluster::start(BROKERS, options)
}

/// One partition's topic, fully in sync; returns (leader index, follower indexes).
fn one_partition_topic(cluster: &Cluster, topic: &str) -> (usize, Vec<usize>) {
    let mut conn = cluster.brokers[0].connect();
    create_replicated_topic(&mut conn, topic, 1, REPLICATION_FACTOR, &MIN_INSYNC_CONFIG);
    let views = cluster.wait_for_full_isr(0, topic, 1, REJOIN_TIMEOUT);
    let leader = cluster.index_of(views[0].leader);
    // The leader's own metadata too: it is the one the test produces to.
    let views = cluster.wait_for_full_isr(leader, topic, 1, REJOIN_TIMEOUT);
    let view = &views[0];
    assert_eq!(view.replicas.len(), REPLICATION_FACTOR as usize, "{view:?}");
    let followers = view
        .replicas
        .iter()
        .filter(|r| **r != view.leader)
        .map(|r| cluster.index_of(*r))
        .collect();
    (cluster.index_of(view.leader), followers)
}

/// The ISR of partition 0 as `sluice topic describe` prints it, sorted.
fn described_isr(cluster: &Cluster, index: usize, topic: &str) -> Vec<i32> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .args(["topic", "describe", topic])
        .args(["--bootstrap", &cluster.brokers[index].bootstrap()]);
    let run = run_with_timeout(&mut command, CLI_TIMEOUT, "sluice topic describe");
    assert!(
        run.status.success(),
        "sluice topic describe: {}",
        run.transcript()
    );
    let mut lines = run
        .stdout
        .lines()
        // The partition table's header, not the "PARTITIONS  N" line above it.
        .skip_while(|l| l.split_whitespace().next() != Some("PARTITION"));
    let header: Vec<&str> = lines
        .next()
        .expect("a partition table")
        .split_whitespace()
        .collect();
    let column = header
        .iter()
        .position(|h| *h == "ISR")
        .expect("an ISR column");
    let row = lines
        .find(|l| l.split_whitespace().next() == Some("0"))
        .unwrap_or_else(|| panic!("no row for partition 0:\n{}", run.stdout));
    let cells: Vec<&str> = row.split_whitespace().collect();
    let mut isr: Vec<i32> = cells[column]
        .split(',')
        .map(|id| id.parse().unwrap_or_else(|_| panic!("ISR cell {row:?}")))
        .collect();
    isr.sort_unstable();
    isr
}

fn isr_is(views: &[PartitionView], mut want: Vec<i32>) -> bool {
    want.sort_unstable();
    views.first().is_some_and(|v| {
        let mut isr = v.isr.clone();
        isr.sort_unstable();
        isr == want
    })
}

#[test]
fn acks_all_is_refused_below_min_insync_and_works_again_once_the_isr_grows_back() {
    const TOPIC: &str = "repl-min-insync";
    let mut cluster = start();
    let (leader, followers) = one_partition_topic(&cluster, TOPIC);
    let leader_node = cluster.node_ids[leader];
    let all_replicas: Vec<i32> = [leader]
        .iter()
        .chain(&followers)
        .map(|i| cluster.node_ids[*i])
        .collect();
    let mut sorted_replicas = all_replicas.clone();
    sorted_replicas.sort_unstable();
    assert_eq!(described_isr(&cluster, leader, TOPIC), sorted_replicas);

    let mut conn = cluster.brokers[leader].connect();
    let first = produce(&mut conn, TOPIC, 0, record("acks-all-with-full-isr"), -1);
    assert_eq!(
        first.error_code,
        0,
        "acks=all with the full ISR: {}",
        error_code::name(first.error_code)
    );
    for follower in &followers {
        cluster.brokers[*follower].kill9();
    }
    cluster.wait_for_partitions(
        leader,
        TOPIC,
        "the ISR to shrink to the leader alone",
        SHRINK_TIMEOUT,
        |views| isr_is(views, vec![leader_node]),
    );
    assert_eq!(described_isr(&cluster, leader, TOPIC), vec![leader_node]);
    let end = list_offset(&mut conn, TOPIC, 0, LATEST_TIMESTAMP);
    assert_eq!(end.error_code, 0);
    assert_eq!(
        end.offset, 1,
        "the high watermark after one acknowledged batch"
    );

    let refused = produce(&mut conn, TOPIC, 0, record("refused-acks-all"), -1);
    assert_eq!(
        refused.error_code,
        NOT_ENOUGH_REPLICAS,
        "acks=all with ISR 1 < min.insync.replicas 2: {}",
        error_code::name(refused.error_code)
    );
    let single = produce(&mut conn, TOPIC, 0, record("acks-1-with-isr-1"), 1);
    assert_eq!(
        single.error_code,
        0,
        "acks=1 ignores min.insync.replicas: {}",
        error_code::name(single.error_code)
    );
    assert_eq!(
        single.base_offset, end.offset,
        "the refused acks=all batch took an offset: it was written"
    );

    for follower in &followers {
        cluster.brokers[*follower].respawn();
    }
    for follower in &followers {
        cluster.brokers[*follower].wait_started();
    }
    cluster.wait_for_partitions(
        leader,
        TOPIC,
        "the ISR to grow back to all three replicas",
        REJOIN_TIMEOUT,
        |views| isr_is(views, all_replicas.clone()),
    );
    assert_eq!(described_isr(&cluster, leader, TOPIC), sorted_replicas);
    let mut conn = cluster.brokers[leader].connect();
    let again = produce(&mut conn, TOPIC, 0, record("acks-all-after-regrowth"), -1);
    assert_eq!(
        again.error_code,
        0,
        "acks=all once the ISR is back: {}",
        error_code::name(again.error_code)
    );
    assert_eq!(again.base_offset, single.base_offset + 1);

    let data = fetch(&mut conn, TOPIC, 0, 0, 1 << 20);
    assert_eq!(data.error_code, 0);
    let values: Vec<String> = decode_records(&data.records.expect("records"))
        .iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect();
    assert_eq!(
        values,
        [
            "acks-all-with-full-isr",
            "acks-1-with-isr-1",
            "acks-all-after-regrowth"
        ],
        "the partition holds exactly the accepted batches"
    );
}

#[test]
fn an_isr_that_shrinks_below_min_before_the_write_commits_gets_not_enough_replicas_after_append() {
    const TOPIC: &str = "repl-after-append";
    let cluster = start();
    let (leader, followers) = one_partition_topic(&cluster, TOPIC);
    let mut conn = cluster.brokers[leader].connect();
    let first = produce(&mut conn, TOPIC, 0, record("committed"), -1);
    assert_eq!(
        first.error_code,
        0,
        "acks=all with the full ISR: {}",
        error_code::name(first.error_code)
    );

    for follower in &followers {
        cluster.brokers[*follower].pause();
    }
    let mut request = produce_request(TOPIC, 0, record("appended-then-isr-shrank"), -1);
    request.timeout_ms = AFTER_APPEND_PRODUCE_TIMEOUT_MS;
    let version = conn.version_for::<ProduceRequest>(3, 12);
    let correlation = conn
        .send_request(version, &request)
        .unwrap_or_else(|e| panic!("send the acks=all write: {e}"));
    let answer = conn.receive_response::<ProduceRequest>(version, correlation);
    let leader_node = cluster.node_ids[leader];
    let views = cluster.try_partitions(leader, TOPIC);
    for follower in &followers {
        cluster.brokers[*follower].resume();
    }
    let response = answer.unwrap_or_else(|e| {
        panic!(
            "no answer to an acks=all write (timeout_ms {AFTER_APPEND_PRODUCE_TIMEOUT_MS}) after \
             both followers were paused: {e}; the partition as its leader {leader_node} served \
             it then: {views:?}"
        )
    });
    let result = &response.responses[0].partition_responses[0];
    eprintln!(
        "the write got {} ({}); partition as the leader serves it: {views:?}",
        result.error_code,
        error_code::name(result.error_code)
    );
    assert_eq!(
        result.error_code,
        NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        "an appended acks=all write whose ISR shrank to [{leader_node}] before it committed: {}",
        error_code::name(result.error_code)
    );
    wait_until(
        "the paused followers to rejoin the ISR",
        REJOIN_TIMEOUT,
        || {
            cluster
                .try_partitions(leader, TOPIC)
                .is_some_and(|views| views[0].fully_in_sync())
        },
    );
}
