//! Leader epochs on the wire (KIP-320), on three brokers with a topic whose one partition has a
//! replica on each (created with an explicit assignment, led by a broker that is not the
//! active controller). OffsetForLeaderEpoch answers the end offset of an epoch on the leader
//! only; ListOffsets names the leader epoch of its answer. A request naming an epoch older than
//! the partition's gets FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH, on the leader and
//! on a follower alike. When the leader stops (SIGTERM: a controlled shutdown), another replica
//! leads at epoch 1, and the clients' epoch 0 is now fenced there.
//! Only what the leader epochs say is checked: data replication is not part of this.

mod common;

use std::time::Duration;

use common::broker::BrokerOptions;
use common::cluster::Cluster;
use common::kafka::{error_code, produce, topic_name, LATEST_TIMESTAMP};
use common::records::{encode_batch, now_ms, numbered_record};
use common::wait::wait_until;
use common::wire::KafkaConnection;
use kafka_protocol::messages::create_topics_request::{CreatableReplicaAssignment, CreatableTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::list_offsets_response::ListOffsetsPartitionResponse;
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_response::EpochEndOffset;
use kafka_protocol::messages::{
    BrokerId, CreateTopicsRequest, ListOffsetsRequest, OffsetForLeaderEpochRequest,
};

const BROKERS: usize = 3;
const TOPIC: &str = "epochs";
const RECORDS: usize = 3;
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);
const METADATA_TIMEOUT: Duration = Duration::from_secs(30);
const NONE: i16 = error_code::NONE;
const NOT_LEADER_OR_FOLLOWER: i16 = 6;
const FENCED_LEADER_EPOCH: i16 = 74;
const UNKNOWN_LEADER_EPOCH: i16 = 75;
const OFFSET_NOT_AVAILABLE: i16 = 78;
/// No claim about the current epoch (and, in answers, no epoch).
const NO_EPOCH: i32 = -1;
/// A consumer's replica id.
const CONSUMER: i32 = -1;

fn create_on(conn: &mut KafkaConnection, replicas: &[i32]) {
    let version = conn.version_for::<CreateTopicsRequest>(2, 7);
    let assignment = CreatableReplicaAssignment::default()
        .with_partition_index(0)
        .with_broker_ids(replicas.iter().map(|id| BrokerId(*id)).collect());
    let request = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(TOPIC))
            .with_num_partitions(-1)
            .with_replication_factor(-1)
            .with_assignments(vec![assignment])]);
    let response = conn.request(version, &request);
    let result = &response.topics[0];
    assert_eq!(
        result.error_code, NONE,
        "create: {:?}",
        result.error_message
    );
    assert_eq!(result.replication_factor, replicas.len() as i16);
}

/// OffsetForLeaderEpoch for partition 0 of the topic.
fn epoch_end(conn: &mut KafkaConnection, current: i32, epoch: i32) -> EpochEndOffset {
    let version = conn.version_for::<OffsetForLeaderEpochRequest>(2, 4);
    let request = OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId(CONSUMER))
        .with_topics(vec![OffsetForLeaderTopic::default()
            .with_topic(topic_name(TOPIC))
            .with_partitions(vec![OffsetForLeaderPartition::default()
                .with_partition(0)
                .with_current_leader_epoch(current)
                .with_leader_epoch(epoch)])]);
    let response = conn.request(version, &request);
    assert_eq!(response.topics.len(), 1);
    assert_eq!(response.topics[0].partitions.len(), 1);
    response.topics[0].partitions[0].clone()
}

/// ListOffsets (v4+: with the current leader epoch) for partition 0 of the topic.
fn list_latest(conn: &mut KafkaConnection, current: i32) -> ListOffsetsPartitionResponse {
    let version = conn.version_for::<ListOffsetsRequest>(4, 8);
    let request = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(CONSUMER))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_current_leader_epoch(current)
                .with_timestamp(LATEST_TIMESTAMP)])]);
    let response = conn.request(version, &request);
    response.topics[0].partitions[0].clone()
}

/// Waits until broker `index` serves the partition led by `leader` at `epoch`.
fn wait_for_leader(cluster: &Cluster, index: usize, leader: Option<i32>, epoch: i32) -> i32 {
    let what = format!(
        "broker {} to serve {TOPIC} at epoch {epoch}",
        cluster.node_ids[index]
    );
    wait_until(&what, METADATA_TIMEOUT, || {
        let meta = cluster.metadata(index, &[TOPIC]);
        let partition = meta.topics.first()?.partitions.first()?.clone();
        let led = partition.leader_id.0;
        let wanted = leader.is_none_or(|l| l == led);
        (led >= 0 && wanted && partition.leader_epoch == epoch).then_some(led)
    })
}

fn index_of(cluster: &Cluster, node: i32) -> usize {
    cluster
        .node_ids
        .iter()
        .position(|id| *id == node)
        .expect("a node")
}

fn codes_of(answer: &EpochEndOffset) -> (i16, i32, i64) {
    (answer.error_code, answer.leader_epoch, answer.end_offset)
}

#[test]
fn offset_for_leader_epoch_and_list_offsets_fence_stale_and_future_epochs() {
    let mut cluster = Cluster::start(BROKERS, BrokerOptions::default());
    let controller = cluster.metadata(0, &[]).controller_id.0;
    let leader = *cluster
        .node_ids
        .iter()
        .find(|id| **id != controller)
        .expect("a node");
    let mut replicas = vec![leader];
    replicas.extend(cluster.node_ids.iter().filter(|id| **id != leader));
    create_on(&mut cluster.brokers[0].connect(), &replicas);
    for index in 0..BROKERS {
        wait_for_leader(&cluster, index, Some(leader), 0);
    }
    let leader_index = index_of(&cluster, leader);
    let follower_index = index_of(&cluster, replicas[1]);

    let mut conn = cluster.brokers[leader_index].connect();
    for n in 0..RECORDS {
        let batch = encode_batch(&[numbered_record("epochs", n, now_ms())]);
        let answer = produce(&mut conn, TOPIC, 0, batch, -1);
        assert_eq!(answer.error_code, NONE);
    }
    let end = RECORDS as i64;
    // Epoch 0 is the latest: it ends at the log end.
    assert_eq!(codes_of(&epoch_end(&mut conn, NO_EPOCH, 0)), (NONE, 0, end));
    assert_eq!(codes_of(&epoch_end(&mut conn, 0, 0)), (NONE, 0, end));
    // An epoch the log never had, above every epoch it had: undefined.
    assert_eq!(codes_of(&epoch_end(&mut conn, 0, 5)), (NONE, NO_EPOCH, -1));
    assert_eq!(epoch_end(&mut conn, 1, 0).error_code, UNKNOWN_LEADER_EPOCH);
    let latest = list_latest(&mut conn, 0);
    assert_eq!(
        (latest.error_code, latest.offset, latest.leader_epoch),
        (NONE, end, 0)
    );
    assert_eq!(list_latest(&mut conn, 1).error_code, UNKNOWN_LEADER_EPOCH);

    // A follower answers no offsets, but fences a client from the future as the leader would.
    let mut follower = cluster.brokers[follower_index].connect();
    assert_eq!(
        epoch_end(&mut follower, 0, 0).error_code,
        NOT_LEADER_OR_FOLLOWER
    );
    assert_eq!(
        epoch_end(&mut follower, 1, 0).error_code,
        UNKNOWN_LEADER_EPOCH
    );
    assert_eq!(
        list_latest(&mut follower, 0).error_code,
        NOT_LEADER_OR_FOLLOWER
    );
    drop((conn, follower));

    let status = cluster.brokers[leader_index].terminate(EXIT_TIMEOUT);
    assert!(status.success(), "the leader exited with {status}");
    let new_leader = wait_for_leader(&cluster, follower_index, None, 1);
    assert_ne!(new_leader, leader);
    let new_index = index_of(&cluster, new_leader);
    wait_for_leader(&cluster, new_index, Some(new_leader), 1);

    let mut conn = cluster.brokers[new_index].connect();
    assert_eq!(epoch_end(&mut conn, 0, 0).error_code, FENCED_LEADER_EPOCH);
    assert_eq!(epoch_end(&mut conn, 2, 0).error_code, UNKNOWN_LEADER_EPOCH);
    let current = epoch_end(&mut conn, 1, 1);
    assert_eq!((current.error_code, current.leader_epoch), (NONE, 1));
    assert_eq!(list_latest(&mut conn, 0).error_code, FENCED_LEADER_EPOCH);
    assert_eq!(list_latest(&mut conn, 2).error_code, UNKNOWN_LEADER_EPOCH);
    // Until the new leader's high watermark reaches the start of its epoch, "latest" is
    // OFFSET_NOT_AVAILABLE (KIP-207, retriable); then it names epoch 1.
    let latest = wait_until(
        "the new leader to answer ListOffsets(latest)",
        METADATA_TIMEOUT,
        || {
            let latest = list_latest(&mut conn, 1);
            (latest.error_code != OFFSET_NOT_AVAILABLE).then_some(latest)
        },
    );
    assert_eq!((latest.error_code, latest.leader_epoch), (NONE, 1));
    assert!(
        latest.offset <= current.end_offset,
        "{latest:?} {current:?}"
    );

    let other = (0..BROKERS)
        .find(|i| *i != leader_index && *i != new_index)
        .expect("the third broker");
    wait_for_leader(&cluster, other, Some(new_leader), 1);
    let mut conn = cluster.brokers[other].connect();
    assert_eq!(epoch_end(&mut conn, 0, 0).error_code, FENCED_LEADER_EPOCH);
    assert_eq!(
        epoch_end(&mut conn, 1, 0).error_code,
        NOT_LEADER_OR_FOLLOWER
    );
}
