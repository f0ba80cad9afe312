//! CreatePartitions grows a topic: Metadata shows the new count on every shard, the new
//! partitions take writes, the old ones keep their data, and shrinking is refused with
//! INVALID_PARTITIONS (37).

mod common;

use common::broker::{Broker, BrokerOptions};
use common::kafka::error_code::ResponseError;
use common::kafka::{self, error_code, LATEST_TIMESTAMP};
use common::records::{self, now_ms, numbered_record};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::CreatePartitionsRequest;

const TOPIC: &str = "growing";
const INVALID_PARTITIONS: i16 = ResponseError::InvalidPartitions.code();

fn grow(conn: &mut common::wire::KafkaConnection, count: i32) -> i16 {
    let version = conn.version_for::<CreatePartitionsRequest>(0, 3);
    let request = CreatePartitionsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![CreatePartitionsTopic::default()
            .with_name(kafka::topic_name(TOPIC))
            .with_count(count)
            .with_assignments(None)]);
    let response = conn.request(version, &request);
    assert_eq!(response.results.len(), 1);
    response.results[0].error_code
}

#[test]
fn create_partitions_grows_a_topic() {
    let broker = Broker::start(BrokerOptions::default().cores(2));
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 2);
    let batch = records::encode_batch(&[numbered_record("before", 0, now_ms())]);
    let produced = kafka::produce(&mut conn, TOPIC, 1, batch, 1);
    assert_eq!(produced.error_code, error_code::NONE);

    assert_eq!(grow(&mut conn, 6), error_code::NONE, "grow 2 -> 6");
    for c in 0..4 {
        let mut other = broker.connect();
        let metadata = kafka::metadata(&mut other, &[TOPIC]);
        assert_eq!(
            metadata.topics[0].partitions.len(),
            6,
            "connection {c} sees 6 partitions"
        );
    }
    for partition in 2..6 {
        let batch =
            records::encode_batch(&[numbered_record("after", partition as usize, now_ms())]);
        let produced = kafka::produce(&mut conn, TOPIC, partition, batch, -1);
        assert_eq!(
            produced.error_code,
            error_code::NONE,
            "produce to new partition {partition}"
        );
        assert_eq!(produced.base_offset, 0);
    }
    let latest = kafka::list_offset(&mut conn, TOPIC, 1, LATEST_TIMESTAMP);
    assert_eq!(latest.offset, 1, "old partition keeps its record");

    assert_eq!(grow(&mut conn, 3), INVALID_PARTITIONS, "shrinking 6 -> 3");
}
