//! DeleteTopics removes a topic: Metadata no longer knows it, producing to it fails, and a
//! topic created again under the same name starts empty at offset 0 (no record of the old
//! one comes back, even after a restart).

mod common;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code, LATEST_TIMESTAMP};
use common::records::{self, now_ms, numbered_record};
use kafka_protocol::messages::DeleteTopicsRequest;

const TOPIC: &str = "short-lived";

#[test]
fn deleted_topic_can_be_recreated_empty() {
    let mut broker =
        Broker::start(BrokerOptions::default().config("\"auto.create.topics.enable\" = false"));
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 2);
    for partition in 0..2 {
        let batch: Vec<_> = (0..10)
            .map(|i| numbered_record("old", i, now_ms()))
            .collect();
        let produced = kafka::produce(
            &mut conn,
            TOPIC,
            partition,
            records::encode_batch(&batch),
            -1,
        );
        assert_eq!(produced.error_code, error_code::NONE);
    }

    let version = conn.version_for::<DeleteTopicsRequest>(1, 5);
    let request = DeleteTopicsRequest::default()
        .with_topic_names(vec![kafka::topic_name(TOPIC)])
        .with_timeout_ms(30_000);
    let response = conn.request(version, &request);
    assert_eq!(response.responses.len(), 1);
    assert_eq!(
        response.responses[0].error_code,
        error_code::NONE,
        "delete topic"
    );

    let metadata = kafka::metadata(&mut conn, &[TOPIC]);
    assert_eq!(
        metadata.topics[0].error_code,
        error_code::ResponseError::UnknownTopicOrPartition.code(),
        "metadata after delete"
    );
    let batch = records::encode_batch(&[numbered_record("ghost", 0, now_ms())]);
    let produced = kafka::produce(&mut conn, TOPIC, 0, batch, 1);
    assert_eq!(
        produced.error_code,
        error_code::ResponseError::UnknownTopicOrPartition.code(),
        "produce after delete"
    );

    kafka::create_topic(&mut conn, TOPIC, 2);
    for partition in 0..2 {
        let latest = kafka::list_offset(&mut conn, TOPIC, partition, LATEST_TIMESTAMP);
        assert_eq!(
            latest.offset, 0,
            "partition {partition} of the new topic is empty"
        );
    }
    let batch = records::encode_batch(&[numbered_record("new", 0, now_ms())]);
    let produced = kafka::produce(&mut conn, TOPIC, 0, batch, -1);
    assert_eq!(produced.error_code, error_code::NONE);
    assert_eq!(produced.base_offset, 0, "the new topic starts at offset 0");
    drop(conn);

    broker.restart();
    let mut conn = broker.connect();
    for (partition, end) in [(0, 1), (1, 0)] {
        let latest = kafka::list_offset(&mut conn, TOPIC, partition, LATEST_TIMESTAMP);
        assert_eq!(latest.offset, end, "partition {partition} after restart");
    }
    let data = kafka::fetch(&mut conn, TOPIC, 0, 0, 1 << 20);
    let got = records::decode_records(&data.records.unwrap_or_default());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].key.as_deref(), Some(&b"new-key-0"[..]));
}
