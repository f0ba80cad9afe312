//! The few requests the raw-protocol scenarios send, on top of [`KafkaConnection`].
//!
//! Each helper negotiates the highest version both sides know, within the range whose
//! fields it fills in (topic names, not topic ids).

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::list_offsets_response::ListOffsetsPartitionResponse;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::messages::{
    BrokerId, CreateTopicsRequest, FetchRequest, FetchResponse, ListOffsetsRequest,
    MetadataRequest, MetadataResponse, ProduceRequest,
};
use kafka_protocol::protocol::StrBytes;

use super::wire::KafkaConnection;

/// The client's Kafka error table: `error_code::NONE`, `error_code::name(code)`,
/// `error_code::ResponseError::CorruptMessage.code()`.
pub use sluice_kafka_client::error_code;
/// Topic names as kafka-protocol types.
pub use sluice_kafka_client::topic_name;

/// ListOffsets special timestamps.
pub const LATEST_TIMESTAMP: i64 = -1;
pub const EARLIEST_TIMESTAMP: i64 = -2;

/// Fetch wait when data is expected to be there already.
const FETCH_MAX_WAIT_MS: i32 = 500;

/// CreateTopics with `partitions` partitions, replication factor 1; asserts success.
pub fn create_topic(conn: &mut KafkaConnection, name: &str, partitions: i32) {
    create_topic_with_configs(conn, name, partitions, &[]);
}

/// CreateTopics with topic configs (Kafka names, e.g. `message.timestamp.type`), replication
/// factor 1.
#[track_caller]
pub fn create_topic_with_configs(
    conn: &mut KafkaConnection,
    name: &str,
    partitions: i32,
    configs: &[(&str, &str)],
) {
    create_replicated_topic(conn, name, partitions, 1, configs);
}

/// CreateTopics with `replication_factor` replicas per partition and topic configs (e.g.
/// `min.insync.replicas`); asserts success.
#[track_caller]
pub fn create_replicated_topic(
    conn: &mut KafkaConnection,
    name: &str,
    partitions: i32,
    replication_factor: i16,
    configs: &[(&str, &str)],
) {
    let version = conn.version_for::<CreateTopicsRequest>(2, 7);
    let configs = configs
        .iter()
        .map(|(k, v)| {
            CreatableTopicConfig::default()
                .with_name(StrBytes::from_string(k.to_string()))
                .with_value(Some(StrBytes::from_string(v.to_string())))
        })
        .collect();
    let request = CreateTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(name))
            .with_num_partitions(partitions)
            .with_replication_factor(replication_factor)
            .with_configs(configs)]);
    let response = conn.request(version, &request);
    assert_eq!(response.topics.len(), 1, "one result per topic");
    let result = &response.topics[0];
    assert_eq!(
        result.error_code,
        error_code::NONE,
        "create topic {name} (replication factor {replication_factor}): {} ({:?})",
        error_code::name(result.error_code),
        result.error_message
    );
}

/// Metadata for the named topics, without auto-creation.
pub fn metadata(conn: &mut KafkaConnection, topics: &[&str]) -> MetadataResponse {
    let version = conn.version_for::<MetadataRequest>(4, 12);
    let request = MetadataRequest::default()
        .with_allow_auto_topic_creation(false)
        .with_topics(Some(
            topics
                .iter()
                .map(|t| MetadataRequestTopic::default().with_name(Some(topic_name(t))))
                .collect(),
        ));
    conn.request(version, &request)
}

/// Produce one batch to one partition and return that partition's result. `acks` 1 or -1.
pub fn produce(
    conn: &mut KafkaConnection,
    topic: &str,
    partition: i32,
    batch: Bytes,
    acks: i16,
) -> PartitionProduceResponse {
    assert_ne!(acks, 0, "acks=0 has no response to return");
    let version = conn.version_for::<ProduceRequest>(3, 12);
    let request = produce_request(topic, partition, batch, acks);
    let response = conn.request(version, &request);
    assert_eq!(response.responses.len(), 1, "one topic in produce response");
    let topic_response = &response.responses[0];
    assert_eq!(
        topic_response.name.0.as_str(),
        topic,
        "produce response topic"
    );
    assert_eq!(topic_response.partition_responses.len(), 1);
    topic_response.partition_responses[0].clone()
}

pub fn produce_request(topic: &str, partition: i32, batch: Bytes, acks: i16) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(batch))])])
}

/// Fetch one partition from `offset`; returns the partition's data (records still encoded).
pub fn fetch(
    conn: &mut KafkaConnection,
    topic: &str,
    partition: i32,
    offset: i64,
    max_bytes: i32,
) -> PartitionData {
    let version = conn.version_for::<FetchRequest>(4, 12);
    let request = fetch_request(
        topic,
        partition,
        offset,
        max_bytes,
        max_bytes,
        FETCH_MAX_WAIT_MS,
    );
    let response = conn.request(version, &request);
    single_fetch_partition(response)
}

/// A Fetch for one partition: `max_bytes` for the response, `partition_max_bytes` for the
/// partition, waiting up to `max_wait_ms` for at least one byte.
pub fn fetch_request(
    topic: &str,
    partition: i32,
    offset: i64,
    max_bytes: i32,
    partition_max_bytes: i32,
    max_wait_ms: i32,
) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(max_bytes)
        .with_isolation_level(0)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(topic_name(topic))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(partition_max_bytes)])])
}

/// The one partition of a one-partition fetch response.
pub fn single_fetch_partition(response: FetchResponse) -> PartitionData {
    assert_eq!(response.error_code, 0, "fetch top-level error");
    assert_eq!(response.responses.len(), 1, "one topic in fetch response");
    assert_eq!(response.responses[0].partitions.len(), 1);
    response.responses[0].partitions[0].clone()
}

/// ListOffsets for one partition at `timestamp` (or LATEST/EARLIEST_TIMESTAMP).
pub fn list_offset(
    conn: &mut KafkaConnection,
    topic: &str,
    partition: i32,
    timestamp: i64,
) -> ListOffsetsPartitionResponse {
    let version = conn.version_for::<ListOffsetsRequest>(1, 7);
    let request = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(partition)
                .with_timestamp(timestamp)])]);
    let response = conn.request(version, &request);
    assert_eq!(response.topics.len(), 1);
    assert_eq!(response.topics[0].partitions.len(), 1);
    response.topics[0].partitions[0].clone()
}

/// A request that any healthy broker answers: proves a connection is still being served.
pub fn assert_serving(conn: &mut KafkaConnection, topic: &str) {
    let response = metadata(conn, &[topic]);
    assert_eq!(response.topics.len(), 1, "metadata answers for {topic}");
    assert_eq!(
        response.topics[0].error_code,
        error_code::NONE,
        "metadata for {topic} on a healthy connection"
    );
}

/// Writes `values` as one batch (acks=all) and returns its base offset; fails on an error.
pub fn produce_values(
    conn: &mut KafkaConnection,
    topic: &str,
    partition: i32,
    values: &[&str],
) -> i64 {
    let records: Vec<super::records::TestRecord> = values
        .iter()
        .map(|value| super::records::TestRecord {
            key: Bytes::from_static(b"k"),
            value: Bytes::copy_from_slice(value.as_bytes()),
            timestamp_ms: super::records::now_ms(),
        })
        .collect();
    produce_records(conn, topic, partition, &records)
}

/// Writes `records` as one batch (acks=all) and returns its base offset; fails on an error.
fn produce_records(
    conn: &mut KafkaConnection,
    topic: &str,
    partition: i32,
    records: &[super::records::TestRecord],
) -> i64 {
    let batch = super::records::encode_batch(records);
    let result = produce(conn, topic, partition, batch, -1);
    assert_eq!(
        result.error_code, 0,
        "produce to {topic}-{partition}: {result:?}"
    );
    result.base_offset
}

/// Writes at least `total_bytes` of record values to one partition (acks=all), in batches of
/// 64 records of 8 KiB. Returns the number of records.
pub fn produce_bytes(
    conn: &mut KafkaConnection,
    topic: &str,
    partition: i32,
    total_bytes: usize,
) -> i64 {
    const RECORDS_PER_BATCH: usize = 64;
    const VALUE_BYTES: usize = 8 * 1024;
    let mut records_total = 0i64;
    let mut written = 0;
    while written < total_bytes {
        let records: Vec<super::records::TestRecord> = (0..RECORDS_PER_BATCH)
            .map(|i| super::records::TestRecord {
                key: Bytes::from(format!("k{records_total}-{i}")),
                value: Bytes::from(vec![(i % 251) as u8; VALUE_BYTES]),
                timestamp_ms: super::records::now_ms(),
            })
            .collect();
        let base_offset = produce_records(conn, topic, partition, &records);
        assert_eq!(base_offset, records_total);
        records_total += RECORDS_PER_BATCH as i64;
        written += RECORDS_PER_BATCH * VALUE_BYTES;
    }
    records_total
}
