//! Fetch returns whole batches only, no more bytes than the partition and response limits
//! allow, and always at least one batch even when that batch alone is over the limit (so a
//! consumer never stalls).

mod common;

use bytes::Bytes;
use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::records::{self, TestRecord};
use kafka_protocol::messages::FetchRequest;

const TOPIC: &str = "limits";
const BATCHES: usize = 10;
const RECORDS_PER_BATCH: usize = 10;
const VALUE_BYTES: usize = 1000;

#[test]
fn fetch_returns_whole_batches_within_max_bytes() {
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);
    let mut batch_bytes = Vec::new();
    for b in 0..BATCHES {
        let batch: Vec<TestRecord> = (0..RECORDS_PER_BATCH)
            .map(|i| TestRecord {
                key: Bytes::from(format!("b{b}-r{i}")),
                value: Bytes::from(vec![b as u8; VALUE_BYTES]),
                timestamp_ms: records::now_ms(),
            })
            .collect();
        let encoded = records::encode_batch(&batch);
        batch_bytes.push(encoded.len() as i32);
        let response = kafka::produce(&mut conn, TOPIC, 0, encoded, 1);
        assert_eq!(response.error_code, error_code::NONE);
        assert_eq!(response.base_offset, (b * RECORDS_PER_BATCH) as i64);
    }
    let batch_len = batch_bytes[0];
    let version = conn.version_for::<FetchRequest>(4, 12);

    // (fetch offset, response max_bytes, partition_max_bytes)
    let cases = [
        (0, 1, 1),
        (0, 1 << 20, 1),
        (0, 1, 1 << 20),
        (0, 1 << 20, 3 * batch_len + batch_len / 2),
        (0, 2 * batch_len + 10, 1 << 20),
        (25, 1 << 20, 2 * batch_len),
        (95, 1 << 20, 1 << 20),
    ];
    for (offset, max_bytes, partition_max_bytes) in cases {
        let case = format!("fetch @{offset} max_bytes {max_bytes} partition {partition_max_bytes}");
        let request = kafka::fetch_request(TOPIC, 0, offset, max_bytes, partition_max_bytes, 500);
        let data = kafka::single_fetch_partition(conn.request(version, &request));
        assert_eq!(data.error_code, error_code::NONE, "{case}");
        let bytes = data.records.unwrap_or_default();
        let limit = max_bytes.min(partition_max_bytes) as usize;
        let batches = records::batch_count(&bytes);
        assert!(batches >= 1, "{case}: at least one batch");
        if batches > 1 {
            assert!(
                bytes.len() <= limit,
                "{case}: {} bytes over the limit",
                bytes.len()
            );
        }
        // Whole batches: every one decodes (CRC included) and they are contiguous, starting
        // with the batch that holds `offset`.
        let got = records::decode_records(&bytes);
        assert_eq!(
            got.len(),
            batches * RECORDS_PER_BATCH,
            "{case}: whole batches"
        );
        let first = (offset / RECORDS_PER_BATCH as i64) * RECORDS_PER_BATCH as i64;
        for (i, record) in got.iter().enumerate() {
            assert_eq!(record.offset, first + i as i64, "{case}: offsets");
        }
    }
}
