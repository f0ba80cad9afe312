//! Bad TxnOffsetCommit requests get Kafka's error codes from a real broker, spoken over the raw
//! wire: an unknown group with a generation (ILLEGAL_GENERATION 22), an unknown member
//! (UNKNOWN_MEMBER_ID 25), a stale generation (22), a static member's instance id with another
//! member id (FENCED_INSTANCE_ID 82), oversized metadata (OFFSET_METADATA_TOO_LARGE 12), an
//! unknown topic (UNKNOWN_TOPIC_OR_PARTITION 3), an empty group id (INVALID_GROUP_ID 24) and no
//! producer id (INVALID_PRODUCER_ID_MAPPING 49). None of them writes anything: OffsetFetch with
//! require_stable still sees a stable, empty group afterwards.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use common::broker::{Broker, BrokerOptions};
use common::kafka::error_code::ResponseError;
use common::kafka::{create_topic, topic_name};
use common::wait::wait_until;
use common::wire::KafkaConnection;

const GROUP: &str = "txn-bad-input-group";
const TOPIC: &str = "txn-bad-input-topic";
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// Kafka's default `offset.metadata.max.bytes`.
const METADATA_BYTES_MAX: usize = 4096;
const TXN_OFFSET_COMMIT_V0: i16 = 0;
const TXN_OFFSET_COMMIT_V3: i16 = 3;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

struct Commit<'a> {
    group: &'a str,
    topic: &'a str,
    producer_id: i64,
    generation: i32,
    member: &'a str,
    instance: Option<&'a str>,
    metadata: String,
}

impl Default for Commit<'_> {
    fn default() -> Self {
        Commit {
            group: GROUP,
            topic: TOPIC,
            producer_id: 1000,
            generation: -1,
            member: "",
            instance: None,
            metadata: "m".into(),
        }
    }
}

/// The error code of the one partition a TxnOffsetCommit names.
fn txn_commit(conn: &mut KafkaConnection, version: i16, c: Commit) -> i16 {
    let request = TxnOffsetCommitRequest::default()
        .with_transactional_id(TransactionalId(s("tx-bad-input")))
        .with_group_id(GroupId(s(c.group)))
        .with_producer_id(ProducerId(c.producer_id))
        .with_producer_epoch(0)
        .with_generation_id(c.generation)
        .with_member_id(s(c.member))
        .with_group_instance_id(c.instance.map(s))
        .with_topics(vec![TxnOffsetCommitRequestTopic::default()
            .with_name(topic_name(c.topic))
            .with_partitions(vec![TxnOffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(42)
                .with_committed_metadata(Some(s(&c.metadata)))])]);
    let response = conn.request(version, &request);
    assert_eq!(response.topics.len(), 1);
    assert_eq!(response.topics[0].partitions.len(), 1);
    response.topics[0].partitions[0].error_code
}

/// (error, committed offset) of partition 0 with `require_stable` (OffsetFetch v7).
fn fetch_stable(conn: &mut KafkaConnection) -> (i16, i16, i64) {
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_require_stable(true)
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partition_indexes(vec![0])]));
    let response = conn.request(7, &request);
    let partition = &response.topics[0].partitions[0];
    (
        response.error_code,
        partition.error_code,
        partition.committed_offset,
    )
}

fn join(conn: &mut KafkaConnection, member: &str, instance: Option<&str>) -> JoinGroupResponse {
    let request = JoinGroupRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_session_timeout_ms(30_000)
        .with_rebalance_timeout_ms(30_000)
        .with_member_id(s(member))
        .with_group_instance_id(instance.map(s))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(Bytes::from_static(b"meta"))]);
    conn.request(5, &request)
}

#[test]
fn txn_offset_commit_bad_input_gets_kafka_error_codes() {
    let mut broker = Broker::start(
        BrokerOptions::default().config("\"group.initial.rebalance.delay.ms\" = 0\n"),
    );
    let mut conn = broker.connect();
    create_topic(&mut conn, TOPIC, 1);
    let loading = ResponseError::CoordinatorLoadInProgress.code();
    let (error, partition_error, offset) =
        wait_until("the coordinator to load", LOAD_TIMEOUT, || {
            let fetched = fetch_stable(&mut conn);
            (fetched.0 != loading).then_some(fetched)
        });
    assert_eq!((error, partition_error, offset), (0, 0, -1));

    // The group does not exist yet: a generation is illegal.
    let code = txn_commit(
        &mut conn,
        TXN_OFFSET_COMMIT_V3,
        Commit {
            generation: 3,
            member: "someone",
            ..Commit::default()
        },
    );
    assert_eq!(code, ResponseError::IllegalGeneration.code());

    // A static member joins (no MEMBER_ID_REQUIRED round for static members) and syncs.
    let joined = join(&mut conn, "", Some("instance-1"));
    assert_eq!(joined.error_code, 0);
    let member = joined.member_id.to_string();
    let generation = joined.generation_id;
    let sync = SyncGroupRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_generation_id(generation)
        .with_member_id(s(&member))
        .with_group_instance_id(Some(s("instance-1")));
    assert_eq!(conn.request(3, &sync).error_code, 0);

    let v3 = |conn: &mut KafkaConnection, c: Commit| txn_commit(conn, TXN_OFFSET_COMMIT_V3, c);
    let unknown_member = Commit {
        generation,
        member: "no-such-member",
        ..Commit::default()
    };
    assert_eq!(
        v3(&mut conn, unknown_member),
        ResponseError::UnknownMemberId.code()
    );
    let stale = Commit {
        generation: generation + 5,
        member: &member,
        ..Commit::default()
    };
    assert_eq!(
        v3(&mut conn, stale),
        ResponseError::IllegalGeneration.code()
    );
    let fenced = Commit {
        generation,
        member: "an-older-incarnation",
        instance: Some("instance-1"),
        ..Commit::default()
    };
    assert_eq!(
        v3(&mut conn, fenced),
        ResponseError::FencedInstanceId.code()
    );

    // Per-partition and request-wide refusals (v0: no member fields, a simple commit).
    let v0 = |conn: &mut KafkaConnection, c: Commit| txn_commit(conn, TXN_OFFSET_COMMIT_V0, c);
    let oversized = Commit {
        group: "txn-bad-input-simple",
        metadata: "x".repeat(METADATA_BYTES_MAX + 1),
        ..Commit::default()
    };
    assert_eq!(
        v0(&mut conn, oversized),
        ResponseError::OffsetMetadataTooLarge.code()
    );
    let unknown_topic = Commit {
        topic: "no-such-topic-here",
        ..Commit::default()
    };
    assert_eq!(
        v0(&mut conn, unknown_topic),
        ResponseError::UnknownTopicOrPartition.code()
    );
    let no_group = Commit {
        group: "",
        ..Commit::default()
    };
    assert_eq!(
        v0(&mut conn, no_group),
        ResponseError::InvalidGroupId.code()
    );
    let no_producer = Commit {
        producer_id: -1,
        ..Commit::default()
    };
    assert_eq!(
        v0(&mut conn, no_producer),
        ResponseError::InvalidProducerIdMapping.code()
    );

    // Nothing was written: the group is stable, with nothing committed, and still serves.
    assert_eq!(fetch_stable(&mut conn), (0, 0, -1));
    let heartbeat = HeartbeatRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_generation_id(generation)
        .with_member_id(s(&member))
        .with_group_instance_id(Some(s("instance-1")));
    assert_eq!(conn.request(3, &heartbeat).error_code, 0);
    broker.assert_alive();
}
