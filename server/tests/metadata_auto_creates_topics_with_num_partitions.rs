//! With auto-creation on (the default), a Metadata request that allows it creates an unknown
//! topic with `num.partitions` partitions, and the topic then takes writes; a Metadata
//! request that does not allow it creates nothing.

mod common;

use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::kafka::error_code::ResponseError;
use common::kafka::{self, error_code};
use common::records::{self, now_ms, numbered_record};
use common::wait::wait_until;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::MetadataRequest;

const NUM_PARTITIONS: usize = 3;
const LEADER_NOT_AVAILABLE: i16 = ResponseError::LeaderNotAvailable.code();
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn metadata_auto_creates_topics_with_num_partitions() {
    let broker = Broker::start(
        BrokerOptions::default().config(&format!("\"num.partitions\" = {NUM_PARTITIONS}")),
    );
    let mut conn = broker.connect();

    let not_allowed = kafka::metadata(&mut conn, &["manual-only"]);
    assert_eq!(
        not_allowed.topics[0].error_code,
        error_code::ResponseError::UnknownTopicOrPartition.code(),
        "allow_auto_topic_creation=false creates nothing"
    );

    let version = conn.version_for::<MetadataRequest>(4, 12);
    let request = MetadataRequest::default()
        .with_allow_auto_topic_creation(true)
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(kafka::topic_name("auto")))
        ]));
    // Kafka may answer LEADER_NOT_AVAILABLE while the new topic settles; clients retry.
    let topic = wait_until("the auto-created topic to settle", SETTLE_TIMEOUT, || {
        let response = conn.request(version, &request);
        let topic = response.topics[0].clone();
        if topic.error_code == error_code::NONE {
            return Some(topic);
        }
        assert_eq!(
            topic.error_code, LEADER_NOT_AVAILABLE,
            "auto-create metadata error"
        );
        None
    });
    assert_eq!(topic.error_code, error_code::NONE, "auto-created topic");
    assert_eq!(topic.partitions.len(), NUM_PARTITIONS, "num.partitions");
    for partition in 0..NUM_PARTITIONS as i32 {
        let batch = records::encode_batch(&[numbered_record("auto", 0, now_ms())]);
        let produced = kafka::produce(&mut conn, "auto", partition, batch, 1);
        assert_eq!(
            produced.error_code,
            error_code::NONE,
            "produce to auto/{partition}"
        );
    }
}
