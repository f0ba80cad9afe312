//! A produced batch whose CRC-32C does not match gets CORRUPT_MESSAGE (2) for its partition;
//! the log never holds it, the next good batch takes the next offset, the same connection
//! keeps working, and another client is served meanwhile.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::canary::Canary;
use common::kafka::{self, error_code};
use common::records::{self, now_ms, numbered_record};

const TOPIC: &str = "crc";

#[test]
fn produce_with_bad_crc_gets_corrupt_message() {
    let broker = Broker::start(BrokerOptions::default());
    let mut canary = Canary::new(&broker);
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);

    let good: Vec<_> = (0..3)
        .map(|i| numbered_record("good", i, now_ms()))
        .collect();
    let first = kafka::produce(&mut conn, TOPIC, 0, records::encode_batch(&good), -1);
    assert_eq!(first.error_code, error_code::NONE, "good batch");
    assert_eq!(first.base_offset, 0);

    let bad: Vec<_> = (0..4)
        .map(|i| numbered_record("bad", i, now_ms()))
        .collect();
    let corrupt = records::with_bad_crc(&records::encode_batch(&bad));
    for acks in [1, -1] {
        let response = kafka::produce(&mut conn, TOPIC, 0, corrupt.clone(), acks);
        assert_eq!(
            response.error_code,
            error_code::ResponseError::CorruptMessage.code(),
            "bad CRC with acks={acks}: error {}",
            response.error_code
        );
    }
    canary.assert_served(&broker, "after the corrupt batches");

    let after: Vec<_> = (0..2)
        .map(|i| numbered_record("after", i, now_ms()))
        .collect();
    let second = kafka::produce(&mut conn, TOPIC, 0, records::encode_batch(&after), -1);
    assert_eq!(
        second.error_code,
        error_code::NONE,
        "good batch after the corrupt ones"
    );
    assert_eq!(second.base_offset, 3, "the corrupt batches took no offsets");

    let data = kafka::fetch(&mut conn, TOPIC, 0, 0, 1024 * 1024);
    assert_eq!(data.error_code, error_code::NONE);
    assert_eq!(data.high_watermark, 5);
    let fetched = records::decode_records(&data.records.unwrap_or_default());
    let keys: Vec<_> = fetched
        .iter()
        .map(|r| r.key.clone().unwrap_or_default())
        .collect();
    let wanted: Vec<_> = good.iter().chain(&after).map(|r| r.key.clone()).collect();
    assert_eq!(keys, wanted, "the log holds exactly the good batches");
}
