//! With `auto.create.topics.enable = false`, producing to a topic that does not exist gets
//! UNKNOWN_TOPIC_OR_PARTITION (3) for its partition, Metadata asking to auto-create it gets
//! the same error and creates nothing, and the connection and another client keep being
//! served. Producing to a partition past the end of an existing topic gets the same code.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::canary::Canary;
use common::kafka::{self, error_code};
use common::records::{self, now_ms, numbered_record};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::MetadataRequest;

const MISSING: &str = "never-created";

#[test]
fn produce_to_missing_topic_without_auto_create() {
    let broker =
        Broker::start(BrokerOptions::default().config("\"auto.create.topics.enable\" = false"));
    let mut canary = Canary::new(&broker);
    let mut conn = broker.connect();

    let batch = records::encode_batch(&[numbered_record("lost", 0, now_ms())]);
    for acks in [1, -1] {
        let response = kafka::produce(&mut conn, MISSING, 0, batch.clone(), acks);
        assert_eq!(
            response.error_code,
            error_code::ResponseError::UnknownTopicOrPartition.code(),
            "produce to a missing topic with acks={acks}"
        );
    }
    canary.assert_served(&broker, "after produce to a missing topic");

    // A client asking Metadata to auto-create must not get the topic.
    let version = conn.version_for::<MetadataRequest>(4, 12);
    let request = MetadataRequest::default()
        .with_allow_auto_topic_creation(true)
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(kafka::topic_name(MISSING)))
        ]));
    let response = conn.request(version, &request);
    assert_eq!(response.topics.len(), 1);
    assert_eq!(
        response.topics[0].error_code,
        error_code::ResponseError::UnknownTopicOrPartition.code(),
        "metadata for a missing topic with auto-create off"
    );
    let again = kafka::metadata(&mut conn, &[MISSING]);
    assert_eq!(
        again.topics[0].error_code,
        error_code::ResponseError::UnknownTopicOrPartition.code(),
        "the topic was not created"
    );

    // A partition past the end of an existing topic.
    let response = kafka::produce(&mut conn, common::canary::CANARY_TOPIC, 7, batch, 1);
    assert_eq!(
        response.error_code,
        error_code::ResponseError::UnknownTopicOrPartition.code(),
        "produce to partition 7 of a 1-partition topic"
    );
    canary.assert_served(&broker, "after produce to a missing partition");
}
