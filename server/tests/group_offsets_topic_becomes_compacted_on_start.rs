//! An offsets topic whose stored config is not compacted (as an older Sluice created it, before
//! compaction existed; here an operator set `cleanup.policy=delete`) is compacted again when
//! the broker starts, and its committed offsets load unchanged.

mod common;

use std::time::Duration;

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use common::broker::{Broker, BrokerOptions};
use common::kafka::error_code::ResponseError;
use common::kafka::{create_topic, topic_name};
use common::wait::wait_until;
use common::wire::KafkaConnection;

const OFFSETS_TOPIC: &str = "__consumer_offsets";
const GROUP: &str = "upgraded-group";
const TOPIC: &str = "upgraded-topic";
const RESOURCE_TOPIC: i8 = 2;
const OP_SET: i8 = 0;
const COORDINATOR_LOAD_IN_PROGRESS: i16 = ResponseError::CoordinatorLoadInProgress.code();
const TIMEOUT: Duration = Duration::from_secs(30);

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn cleanup_policy(conn: &mut KafkaConnection) -> Option<String> {
    let request =
        DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(RESOURCE_TOPIC)
            .with_resource_name(s(OFFSETS_TOPIC))
            .with_configuration_keys(None)]);
    let response = conn.request(1, &request);
    let entry = response
        .results
        .first()?
        .configs
        .iter()
        .find(|c| c.name.as_str() == "cleanup.policy")?;
    entry.value.as_ref().map(|v| v.to_string())
}

fn set_policy(conn: &mut KafkaConnection, policy: &str) -> i16 {
    let request = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(RESOURCE_TOPIC)
            .with_resource_name(s(OFFSETS_TOPIC))
            .with_configs(vec![AlterableConfig::default()
                .with_name(s("cleanup.policy"))
                .with_config_operation(OP_SET)
                .with_value(Some(s(policy)))]),
    ]);
    conn.request(0, &request).responses[0].error_code
}

fn commit(conn: &mut KafkaConnection, offset: i64) -> i16 {
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(offset)])]);
    conn.request(7, &request).topics[0].partitions[0].error_code
}

fn committed(conn: &mut KafkaConnection) -> Option<i64> {
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(s(GROUP)))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partition_indexes(vec![0])]));
    let response = conn.request(5, &request);
    (response.error_code != COORDINATOR_LOAD_IN_PROGRESS)
        .then(|| response.topics[0].partitions[0].committed_offset)
}

#[test]
fn group_offsets_topic_becomes_compacted_on_start() {
    let mut broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    create_topic(&mut conn, TOPIC, 1);
    wait_until("the coordinator to load", TIMEOUT, || {
        commit(&mut conn, 41) != COORDINATOR_LOAD_IN_PROGRESS
    });
    assert_eq!(commit(&mut conn, 42), 0);
    assert_eq!(cleanup_policy(&mut conn).as_deref(), Some("compact"));
    assert_eq!(set_policy(&mut conn, "delete"), 0);
    assert_eq!(cleanup_policy(&mut conn).as_deref(), Some("delete"));

    broker.restart();
    let mut conn = broker.connect();
    let offset = wait_until("the coordinator to load after the restart", TIMEOUT, || {
        committed(&mut conn)
    });
    assert_eq!(offset, 42);
    assert_eq!(
        cleanup_policy(&mut conn).as_deref(),
        Some("compact"),
        "the start switched the offsets topic back to compact"
    );
}
