//! Fetching past the log end offset, or at a negative offset, gets OFFSET_OUT_OF_RANGE (1),
//! as Kafka does; fetching exactly at the end is not an error (the consumer is caught up).
//! The connection stays usable.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::records::{self, now_ms, numbered_record};
use kafka_protocol::messages::FetchRequest;

const TOPIC: &str = "range";

#[test]
fn fetch_outside_the_log_is_offset_out_of_range() {
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);
    let batch: Vec<_> = (0..5).map(|i| numbered_record("r", i, now_ms())).collect();
    let produced = kafka::produce(&mut conn, TOPIC, 0, records::encode_batch(&batch), 1);
    assert_eq!(produced.error_code, error_code::NONE);
    let version = conn.version_for::<FetchRequest>(4, 12);

    let at_end = kafka::fetch_request(TOPIC, 0, 5, 1 << 20, 1 << 20, 100);
    let data = kafka::single_fetch_partition(conn.request(version, &at_end));
    assert_eq!(data.error_code, error_code::NONE, "fetch at the log end");
    assert_eq!(data.high_watermark, 5);
    assert_eq!(records::batch_count(&data.records.unwrap_or_default()), 0);

    for offset in [6, 1_000_000, -5] {
        let request = kafka::fetch_request(TOPIC, 0, offset, 1 << 20, 1 << 20, 100);
        let data = kafka::single_fetch_partition(conn.request(version, &request));
        assert_eq!(
            data.error_code,
            error_code::ResponseError::OffsetOutOfRange.code(),
            "fetch at {offset} of a 5-record log"
        );
    }
    let data = kafka::fetch(&mut conn, TOPIC, 0, 0, 1 << 20);
    assert_eq!(
        data.error_code,
        error_code::NONE,
        "the connection is still served"
    );
}
