//! A topic with `message.timestamp.type=LogAppendTime` stamps each batch with the broker's
//! clock: the produce response carries that time, and the stored batch has the LogAppendTime
//! attribute bit and that time as its maxTimestamp (which clients report for every record),
//! with a CRC that is valid again after the rewrite.

mod common;

use bytes::Buf;
use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::records::{self, now_ms, numbered_record};
use kafka_protocol::records::TimestampType;

const TOPIC: &str = "append-time";
const ANCIENT_MS: i64 = 1_000_000_000_000;
/// RecordBatch v2 field offsets.
const ATTRIBUTES_AT: usize = 21;
const MAX_TIMESTAMP_AT: usize = 35;
const ATTRIBUTE_LOG_APPEND_TIME: i16 = sluice_engine::batch::ATTRIBUTE_LOG_APPEND_TIME;

#[test]
fn log_append_time_topic_stamps_broker_time() {
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    kafka::create_topic_with_configs(
        &mut conn,
        TOPIC,
        1,
        &[("message.timestamp.type", "LogAppendTime")],
    );
    let batch: Vec<_> = (0..4)
        .map(|i| numbered_record("old", i, ANCIENT_MS + i as i64))
        .collect();
    let before_ms = now_ms();
    let produced = kafka::produce(&mut conn, TOPIC, 0, records::encode_batch(&batch), -1);
    let after_ms = now_ms();
    assert_eq!(produced.error_code, error_code::NONE);
    let stamped = produced.log_append_time_ms;
    assert!(
        (before_ms..=after_ms).contains(&stamped),
        "log_append_time_ms {stamped} outside {before_ms}..={after_ms}"
    );

    let data = kafka::fetch(&mut conn, TOPIC, 0, 0, 1 << 20);
    assert_eq!(data.error_code, error_code::NONE);
    let bytes = data.records.unwrap_or_default();
    assert_eq!(records::batch_count(&bytes), 1);
    let attributes = (&bytes[ATTRIBUTES_AT..ATTRIBUTES_AT + 2]).get_i16();
    assert_ne!(
        attributes & ATTRIBUTE_LOG_APPEND_TIME,
        0,
        "LogAppendTime attribute bit"
    );
    let max_timestamp = (&bytes[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8]).get_i64();
    assert_eq!(
        max_timestamp, stamped,
        "batch maxTimestamp is the append time"
    );
    // decode_records checks the CRC-32C.
    let got = records::decode_records(&bytes);
    assert_eq!(got.len(), batch.len());
    for record in &got {
        assert_eq!(record.timestamp_type, TimestampType::LogAppend);
    }
}
