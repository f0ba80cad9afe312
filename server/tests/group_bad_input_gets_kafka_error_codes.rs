//! Bad group requests get Kafka's error codes and the group keeps working: a JoinGroup with an
//! empty protocol list (INCONSISTENT_GROUP_PROTOCOL 23), a heartbeat with the wrong generation
//! (ILLEGAL_GENERATION 22), an OffsetCommit from an unknown member (UNKNOWN_MEMBER_ID 25), a
//! join with another protocol type (23). Spoken over the raw wire, so every code is visible.

mod common;

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use common::broker::{Broker, BrokerOptions};
use common::kafka::error_code;
use common::kafka::error_code::ResponseError;
use common::kafka::{create_topic, topic_name};
use common::wait::wait_until;
use common::wire::KafkaConnection;

const GROUP: &str = "bad-input-group";
const TOPIC: &str = "bad-input-topic";
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);
const NONE: i16 = error_code::NONE;
const COORDINATOR_LOAD_IN_PROGRESS: i16 = ResponseError::CoordinatorLoadInProgress.code();
const ILLEGAL_GENERATION: i16 = ResponseError::IllegalGeneration.code();
const INCONSISTENT_GROUP_PROTOCOL: i16 = ResponseError::InconsistentGroupProtocol.code();
const UNKNOWN_MEMBER_ID: i16 = ResponseError::UnknownMemberId.code();
const MEMBER_ID_REQUIRED: i16 = ResponseError::MemberIdRequired.code();

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn join(
    conn: &mut KafkaConnection,
    member: &str,
    protocol_type: &str,
    protocols: &[&str],
) -> JoinGroupResponse {
    let request = JoinGroupRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(s(member))
        .with_protocol_type(s(protocol_type))
        .with_protocols(
            protocols
                .iter()
                .map(|p| {
                    JoinGroupRequestProtocol::default()
                        .with_name(s(p))
                        .with_metadata(Bytes::from_static(b"meta"))
                })
                .collect(),
        );
    conn.request(5, &request)
}

fn heartbeat(conn: &mut KafkaConnection, member: &str, generation: i32) -> i16 {
    let request = HeartbeatRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_generation_id(generation)
        .with_member_id(s(member));
    conn.request(3, &request).error_code
}

fn commit(conn: &mut KafkaConnection, member: &str, generation: i32, offset: i64) -> i16 {
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(s(member))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(offset)
                .with_committed_metadata(Some(s("kept metadata")))])]);
    let response = conn.request(7, &request);
    response.topics[0].partitions[0].error_code
}

#[test]
fn group_bad_input_gets_kafka_error_codes() {
    let broker = Broker::start(
        BrokerOptions::default().config("\"group.initial.rebalance.delay.ms\" = 0\n"),
    );
    let mut conn = broker.connect();
    create_topic(&mut conn, TOPIC, 1);
    let coordinator = conn.request(3, &FindCoordinatorRequest::default().with_key(s(GROUP)));
    assert_eq!(coordinator.error_code, NONE);
    assert_eq!(coordinator.port, i32::from(broker.addr().port()));

    // The coordinator answers COORDINATOR_LOAD_IN_PROGRESS until its partitions are loaded.
    let empty = wait_until("the coordinator to load", LOAD_TIMEOUT, || {
        let empty = join(&mut conn, "", "consumer", &[]);
        (empty.error_code != COORDINATOR_LOAD_IN_PROGRESS).then_some(empty)
    });
    assert_eq!(empty.error_code, INCONSISTENT_GROUP_PROTOCOL);

    let first = join(&mut conn, "", "consumer", &["range"]);
    assert_eq!(first.error_code, MEMBER_ID_REQUIRED);
    let member = first.member_id.to_string();
    assert!(!member.is_empty());
    let joined = join(&mut conn, &member, "consumer", &["range"]);
    assert_eq!(joined.error_code, NONE);
    assert_eq!(joined.leader.as_str(), member);
    let generation = joined.generation_id;
    let sync = SyncGroupRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_generation_id(generation)
        .with_member_id(s(&member))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(s(&member))
            .with_assignment(Bytes::from_static(b"all of it"))]);
    let synced = conn.request(3, &sync);
    assert_eq!(synced.error_code, NONE);
    assert_eq!(&synced.assignment[..], b"all of it");

    assert_eq!(
        heartbeat(&mut conn, &member, generation + 7),
        ILLEGAL_GENERATION
    );
    assert_eq!(
        commit(&mut conn, "no-such-member", generation, 5),
        UNKNOWN_MEMBER_ID
    );
    let other_type = join(&mut conn, "", "connect", &["range"]);
    assert_eq!(other_type.error_code, INCONSISTENT_GROUP_PROTOCOL);

    // The group kept working through all of it.
    assert_eq!(heartbeat(&mut conn, &member, generation), NONE);
    assert_eq!(commit(&mut conn, &member, generation, 42), NONE);
    let fetch = OffsetFetchRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partition_indexes(vec![0])]));
    let fetched = conn.request(5, &fetch);
    assert_eq!(fetched.error_code, NONE);
    let partition = &fetched.topics[0].partitions[0];
    assert_eq!(partition.committed_offset, 42);
    assert_eq!(
        partition.metadata.as_ref().map(|m| m.as_str()),
        Some("kept metadata")
    );
    let described = conn.request(
        3,
        &DescribeGroupsRequest::default().with_groups(vec![GroupId(s(GROUP))]),
    );
    assert_eq!(described.groups[0].group_state.as_str(), "Stable");
    assert_eq!(described.groups[0].members.len(), 1);
}
