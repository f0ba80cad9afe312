//! `producer.id.expiration.ms`: a producer that wrote nothing to a partition for that long is
//! forgotten there. Before, a batch with a sequence gap gets OUT_OF_ORDER_SEQUENCE_NUMBER;
//! once the producer expired, the partition knows nothing of it and accepts any sequence (as
//! Kafka does), and its old batches are no longer recognised as retries.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code, error_code::ResponseError};
use common::records::{encode_producer_batch, numbered_record, ProducerFields};
use common::wait::wait_until;
use kafka_protocol::messages::{InitProducerIdRequest, ProducerId};

const TOPIC: &str = "expiring";
const EXPIRATION_MS: u64 = 1_500;
const EXPIRY_WAIT: Duration = Duration::from_secs(30);

fn batch(producer_id: i64, first_seq: i32, timestamp_ms: i64) -> Bytes {
    let records = [numbered_record(
        "expiring",
        first_seq as usize,
        timestamp_ms,
    )];
    encode_producer_batch(
        &records,
        &ProducerFields::idempotent(producer_id, 0, first_seq),
    )
}

#[test]
fn idle_producers_expire_after_producer_id_expiration_ms() {
    let config = format!(
        "\"producer.id.expiration.ms\" = {EXPIRATION_MS}\n\
         \"producer.id.expiration.check.interval.ms\" = 100\n"
    );
    let broker = Broker::start(BrokerOptions::default().config(&config));
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);
    let version = conn.version_for::<InitProducerIdRequest>(0, 4);
    let mut request = InitProducerIdRequest::default();
    request.transactional_id = None;
    request.producer_id = ProducerId(-1);
    request.producer_epoch = -1;
    let producer_id = conn.request(version, &request).producer_id.0;
    assert!(producer_id >= 0);

    let now = common::records::now_ms();
    let first = kafka::produce(&mut conn, TOPIC, 0, batch(producer_id, 0, now), -1);
    assert_eq!((first.error_code, first.base_offset), (error_code::NONE, 0));
    let gap = kafka::produce(&mut conn, TOPIC, 0, batch(producer_id, 5, now), -1);
    assert_eq!(
        gap.error_code,
        ResponseError::OutOfOrderSequenceNumber.code(),
        "the producer is remembered right after its batch"
    );

    // Refused (and appended nowhere) until the producer expires, then accepted.
    let accepted = wait_until("the producer to expire", EXPIRY_WAIT, || {
        let now = common::records::now_ms();
        let result = kafka::produce(&mut conn, TOPIC, 0, batch(producer_id, 5, now), -1);
        match result.error_code {
            code if code == error_code::NONE => Some(result.base_offset),
            code if code == ResponseError::OutOfOrderSequenceNumber.code() => None,
            code => panic!("unexpected error {code} while waiting for expiry"),
        }
    });
    assert_eq!(accepted, 1, "the refused batches took no offsets");
    assert!(
        broker.log_text().contains("expired idle producer ids"),
        "the expiry is logged"
    );
}
