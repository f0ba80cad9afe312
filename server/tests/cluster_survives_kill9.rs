//! Three brokers, and kill -9:
//! - of the active controller: a survivor is elected controller within a few election
//!   timeouts, CreateTopics through a survivor works, and the killed node, restarted, learns
//!   what it missed;
//! - of a broker that leads partitions: Metadata reports them offline (leader -1, the broker
//!   among the offline replicas), Produce and Fetch for them get NOT_LEADER_OR_FOLLOWER at
//!   once, and after a restart the broker leads them again with every acknowledged record.

mod common;

use std::time::{Duration, Instant};

use common::broker::BrokerOptions;
use common::cluster::Cluster;
use common::kafka::{create_topic, fetch, produce};
use common::records::{decode_records, encode_batch, now_ms, numbered_record};
use common::wait::wait_until;

const BROKERS: usize = 3;
/// Election timeout 1 s (Kafka's default) plus the pre-vote round and a loaded 2-core box.
const ELECTION_DEADLINE: Duration = Duration::from_secs(15);
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);
/// Short broker sessions, so that fencing happens within the test's patience.
const FAST_FENCING: &str =
    "\"broker.session.timeout.ms\" = 3000\n\"broker.heartbeat.interval.ms\" = 500\n";
const NOT_LEADER_OR_FOLLOWER: i16 = 6;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const RECORDS_PER_PARTITION: usize = 20;
const PARTITIONS: i32 = 6;

fn fast_fencing() -> BrokerOptions {
    BrokerOptions::default().config(FAST_FENCING)
}

fn index_of(cluster: &Cluster, node: i32) -> usize {
    cluster
        .node_ids
        .iter()
        .position(|id| *id == node)
        .expect("a node of the cluster")
}

#[test]
fn killing_the_active_controller_elects_another_and_the_old_one_catches_up() {
    let mut cluster = Cluster::start(BROKERS, fast_fencing());
    let old = cluster.metadata(0, &[]).controller_id.0;
    let victim = index_of(&cluster, old);
    let survivor = (victim + 1) % BROKERS;
    cluster.brokers[victim].kill9();
    let killed_at = Instant::now();
    let new = wait_until(
        "a survivor to be elected controller",
        ELECTION_DEADLINE,
        || {
            let id = cluster.metadata(survivor, &[]).controller_id.0;
            (id >= 0 && id != old).then_some(id)
        },
    );
    eprintln!(
        "controller {old} killed; {new} elected after {:?}",
        killed_at.elapsed()
    );

    let mut conn = cluster.brokers[survivor].connect();
    create_topic(&mut conn, "after-failover", 3);

    cluster.brokers[victim].respawn();
    cluster.brokers[victim].wait_started();
    wait_until(
        "the restarted node to learn the new topic",
        METADATA_TIMEOUT,
        || {
            let meta = cluster.metadata(victim, &["after-failover"]);
            let topic = meta.topics.first()?;
            (topic.error_code == 0 && topic.partitions.len() == 3).then_some(())
        },
    );
    cluster.wait_for_brokers(victim, BROKERS, METADATA_TIMEOUT);
    let controllers: Vec<i32> = (0..BROKERS)
        .map(|i| cluster.metadata(i, &[]).controller_id.0)
        .collect();
    assert!(
        controllers.iter().all(|c| *c == controllers[0]),
        "{controllers:?}"
    );
}

#[test]
fn a_killed_broker_s_partitions_go_offline_and_come_back_with_their_data() {
    let mut cluster = Cluster::start(BROKERS, fast_fencing());
    let mut conn = cluster.brokers[0].connect();
    create_topic(&mut conn, "durable", PARTITIONS);
    let leaders = cluster.wait_for_leaders(0, "durable", PARTITIONS as usize);
    for (partition, leader) in leaders.iter().enumerate() {
        let mut conn = cluster.brokers[index_of(&cluster, *leader)].connect();
        let records: Vec<_> = (0..RECORDS_PER_PARTITION)
            .map(|i| numbered_record(&format!("p{partition}"), i, now_ms()))
            .collect();
        // Each broker applies the metadata log on its own: a leader that has not yet answers
        // UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER, having written nothing, and
        // real clients retry those.
        let batch = encode_batch(&records);
        let code = wait_until(
            &format!("an acks=all produce to partition {partition} on its leader"),
            METADATA_TIMEOUT,
            || {
                let result = produce(&mut conn, "durable", partition as i32, batch.clone(), -1);
                match result.error_code {
                    UNKNOWN_TOPIC_OR_PARTITION | NOT_LEADER_OR_FOLLOWER => None,
                    code => Some(code),
                }
            },
        );
        assert_eq!(code, 0, "acks=all produce to partition {partition}");
    }
    let controller = cluster.metadata(0, &[]).controller_id.0;
    let victim_node = *leaders
        .iter()
        .find(|l| **l != controller)
        .expect("a partition led by a broker that is not the controller");
    let victim = index_of(&cluster, victim_node);
    let survivor = (0..BROKERS).find(|i| *i != victim).expect("a survivor");
    let lost: Vec<i32> = (0..PARTITIONS)
        .filter(|p| leaders[*p as usize] == victim_node)
        .collect();
    cluster.brokers[victim].kill9();

    wait_until(
        "the killed broker's partitions to be reported offline",
        METADATA_TIMEOUT,
        || {
            let meta = cluster.metadata(survivor, &["durable"]);
            let topic = meta.topics.first()?;
            let offline = lost.iter().all(|p| {
                let partition = &topic.partitions[*p as usize];
                partition.leader_id.0 == -1
                    && partition
                        .offline_replicas
                        .iter()
                        .any(|r| r.0 == victim_node)
            });
            offline.then_some(())
        },
    );
    // A client asking a survivor gets a retriable error at once, never a hang.
    let mut conn = cluster.brokers[survivor].connect();
    let started = Instant::now();
    let refused = produce(
        &mut conn,
        "durable",
        lost[0],
        encode_batch(&[numbered_record("x", 0, now_ms())]),
        -1,
    );
    assert_eq!(refused.error_code, NOT_LEADER_OR_FOLLOWER);
    let refused = fetch(&mut conn, "durable", lost[0], 0, 1 << 20);
    assert_eq!(refused.error_code, NOT_LEADER_OR_FOLLOWER);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusals took {:?}",
        started.elapsed()
    );

    cluster.brokers[victim].respawn();
    cluster.brokers[victim].wait_started();
    wait_until(
        "the restarted broker to lead its partitions again",
        METADATA_TIMEOUT,
        || {
            let meta = cluster.metadata(survivor, &["durable"]);
            let topic = meta.topics.first()?;
            lost.iter()
                .all(|p| topic.partitions[*p as usize].leader_id.0 == victim_node)
                .then_some(())
        },
    );
    let mut conn = cluster.brokers[victim].connect();
    for partition in &lost {
        let data = fetch(&mut conn, "durable", *partition, 0, 1 << 20);
        assert_eq!(data.error_code, 0);
        let records = decode_records(&data.records.expect("records"));
        assert_eq!(
            records.len(),
            RECORDS_PER_PARTITION,
            "partition {partition} lost records"
        );
        for (i, record) in records.iter().enumerate() {
            let want = numbered_record(&format!("p{partition}"), i, 0);
            assert_eq!(record.value.as_ref(), Some(&want.value));
        }
    }
}
