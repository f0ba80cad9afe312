//! The group admin APIs over the raw wire: ListGroups (with a states filter), DescribeGroups,
//! OffsetFetch v8 for several groups, OffsetDelete (refused for a topic the active group
//! subscribes to, allowed for another), DeleteGroups (refused while the group has members,
//! then removing the group and its offsets).

mod common;

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};

use common::broker::{Broker, BrokerOptions};
use common::kafka::error_code::ResponseError;
use common::kafka::{create_topic, topic_name};
use common::wait::wait_until;
use common::wire::KafkaConnection;

const GROUP: &str = "admin-group";
const OTHER_GROUP: &str = "admin-other-group";
const SUBSCRIBED: &str = "admin-subscribed";
const UNSUBSCRIBED: &str = "admin-unsubscribed";
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);
const COORDINATOR_LOAD_IN_PROGRESS: i16 = ResponseError::CoordinatorLoadInProgress.code();
const MEMBER_ID_REQUIRED: i16 = ResponseError::MemberIdRequired.code();
const NON_EMPTY_GROUP: i16 = ResponseError::NonEmptyGroup.code();
const GROUP_ID_NOT_FOUND: i16 = ResponseError::GroupIdNotFound.code();
const GROUP_SUBSCRIBED_TO_TOPIC: i16 = ResponseError::GroupSubscribedToTopic.code();

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// `consumer` protocol metadata subscribing to `topic`.
fn subscription(topic: &str) -> Bytes {
    let sub = ConsumerProtocolSubscription::default().with_topics(vec![s(topic)]);
    let mut b = BytesMut::new();
    b.put_i16(1);
    sub.encode(&mut b, 1).expect("encode subscription");
    b.freeze()
}

fn join(conn: &mut KafkaConnection, member: &str) -> JoinGroupResponse {
    let request = JoinGroupRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(s(member))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(subscription(SUBSCRIBED))]);
    conn.request(5, &request)
}

fn commit(conn: &mut KafkaConnection, group: &str, member: &str, generation: i32, topic: &str) {
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(s(member))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(7)])]);
    let response = conn.request(7, &request);
    assert_eq!(
        response.topics[0].partitions[0].error_code, 0,
        "commit {group}/{topic}"
    );
}

fn offset_delete(conn: &mut KafkaConnection, topic: &str) -> OffsetDeleteResponse {
    let request = OffsetDeleteRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_topics(vec![OffsetDeleteRequestTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(vec![
                OffsetDeleteRequestPartition::default().with_partition_index(0)
            ])]);
    conn.request(0, &request)
}

fn delete_group(conn: &mut KafkaConnection) -> i16 {
    let request = DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s(GROUP))]);
    conn.request(2, &request).results[0].error_code
}

/// OffsetFetch v8 of both groups: (group, topic, committed offset) rows.
fn fetch_both(conn: &mut KafkaConnection) -> Vec<(String, String, i64)> {
    let group = |g: &str| {
        OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(s(g)))
            .with_topics(Some(vec![
                OffsetFetchRequestTopics::default()
                    .with_name(topic_name(SUBSCRIBED))
                    .with_partition_indexes(vec![0]),
                OffsetFetchRequestTopics::default()
                    .with_name(topic_name(UNSUBSCRIBED))
                    .with_partition_indexes(vec![0]),
            ]))
    };
    let response = conn.request(
        8,
        &OffsetFetchRequest::default().with_groups(vec![group(GROUP), group(OTHER_GROUP)]),
    );
    let mut rows = Vec::new();
    for g in response.groups {
        assert_eq!(g.error_code, 0);
        for t in g.topics {
            for p in t.partitions {
                rows.push((
                    g.group_id.0.to_string(),
                    t.name.0.to_string(),
                    p.committed_offset,
                ));
            }
        }
    }
    rows
}

#[test]
fn group_admin_apis_answer_like_kafka() {
    let broker = Broker::start(
        BrokerOptions::default()
            .cores(2)
            .config("\"group.initial.rebalance.delay.ms\" = 0\n"),
    );
    let mut conn = broker.connect();
    create_topic(&mut conn, SUBSCRIBED, 1);
    create_topic(&mut conn, UNSUBSCRIBED, 1);
    // Every shard answers COORDINATOR_LOAD_IN_PROGRESS until its offsets partitions loaded.
    wait_until("every shard's coordinator to load", LOAD_TIMEOUT, || {
        conn.request(4, &ListGroupsRequest::default()).error_code != COORDINATOR_LOAD_IN_PROGRESS
    });
    let first = join(&mut conn, "");
    assert_eq!(first.error_code, MEMBER_ID_REQUIRED);
    let member = first.member_id.to_string();
    let joined = join(&mut conn, &member);
    assert_eq!(joined.error_code, 0);
    let generation = joined.generation_id;
    let sync = SyncGroupRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_generation_id(generation)
        .with_member_id(s(&member))
        .with_assignments(vec![SyncGroupRequestAssignment::default()
            .with_member_id(s(&member))
            .with_assignment(Bytes::from_static(b"p0"))]);
    assert_eq!(conn.request(3, &sync).error_code, 0);
    commit(&mut conn, GROUP, &member, generation, SUBSCRIBED);
    commit(&mut conn, GROUP, &member, generation, UNSUBSCRIBED);
    commit(&mut conn, OTHER_GROUP, "", -1, SUBSCRIBED);

    let listed = conn.request(
        4,
        &ListGroupsRequest::default().with_states_filter(vec![s("Stable")]),
    );
    assert_eq!(listed.error_code, 0);
    let names: Vec<String> = listed
        .groups
        .iter()
        .map(|g| g.group_id.0.to_string())
        .collect();
    assert_eq!(
        names,
        vec![GROUP.to_string()],
        "only the stable group passes the filter"
    );
    let all = conn.request(4, &ListGroupsRequest::default());
    assert_eq!(
        all.groups.len(),
        2,
        "the standalone committer is listed too"
    );
    let described = conn.request(
        5,
        &DescribeGroupsRequest::default().with_groups(vec![GroupId(s(GROUP))]),
    );
    let group = &described.groups[0];
    assert_eq!(
        (group.group_state.as_str(), group.protocol_data.as_str()),
        ("Stable", "range")
    );
    assert_eq!(&group.members[0].member_assignment[..], b"p0");

    let refused = offset_delete(&mut conn, SUBSCRIBED);
    assert_eq!(
        refused.topics[0].partitions[0].error_code,
        GROUP_SUBSCRIBED_TO_TOPIC
    );
    let deleted = offset_delete(&mut conn, UNSUBSCRIBED);
    assert_eq!(
        (
            deleted.error_code,
            deleted.topics[0].partitions[0].error_code
        ),
        (0, 0)
    );
    assert_eq!(delete_group(&mut conn), NON_EMPTY_GROUP);
    let rows = fetch_both(&mut conn);
    let expected = vec![
        (GROUP.to_string(), SUBSCRIBED.to_string(), 7),
        (GROUP.to_string(), UNSUBSCRIBED.to_string(), -1),
        (OTHER_GROUP.to_string(), SUBSCRIBED.to_string(), 7),
        (OTHER_GROUP.to_string(), UNSUBSCRIBED.to_string(), -1),
    ];
    assert_eq!(rows, expected);

    let leave = LeaveGroupRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_members(vec![MemberIdentity::default().with_member_id(s(&member))]);
    let left = conn.request(3, &leave);
    assert_eq!((left.error_code, left.members[0].error_code), (0, 0));
    assert_eq!(delete_group(&mut conn), 0);
    assert_eq!(delete_group(&mut conn), GROUP_ID_NOT_FOUND);
    let rows = fetch_both(&mut conn);
    assert_eq!(
        rows[0],
        (GROUP.to_string(), SUBSCRIBED.to_string(), -1),
        "offsets went with the group"
    );
    assert_eq!(
        rows[2],
        (OTHER_GROUP.to_string(), SUBSCRIBED.to_string(), 7),
        "the other group is untouched"
    );
}
