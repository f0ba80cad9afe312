//! The transactional APIs against a real broker, with raw frames: every bad input gets Kafka's
//! error code, nothing is written, and the broker keeps serving.
//!
//! - InitProducerId: a transaction timeout above `transaction.max.timeout.ms` →
//!   INVALID_TRANSACTION_TIMEOUT; an empty transactional id → INVALID_REQUEST.
//! - EndTxn: an unknown transactional id → INVALID_PRODUCER_ID_MAPPING; no transaction open →
//!   INVALID_TXN_STATE; an old epoch → PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2).
//! - AddPartitionsToTxn: an unknown partition → UNKNOWN_TOPIC_OR_PARTITION, the others
//!   OPERATION_NOT_ATTEMPTED; the wrong producer id → INVALID_PRODUCER_ID_MAPPING.
//! - Produce: a transactional batch to a partition not added to the transaction →
//!   INVALID_TXN_STATE (KIP-890 verification); a sequence gap in an open transaction →
//!   OUT_OF_ORDER_SEQUENCE_NUMBER; a control batch from a client → INVALID_RECORD.
//! - DescribeTransactions of an unknown id → TRANSACTIONAL_ID_NOT_FOUND.

mod common;

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, DescribeTransactionsRequest,
    DescribeTransactionsResponse, EndTxnRequest, EndTxnResponse, FindCoordinatorRequest,
    FindCoordinatorResponse, InitProducerIdRequest, InitProducerIdResponse, ProducerId, TopicName,
    TransactionalId,
};
use kafka_protocol::protocol::StrBytes;

use common::broker::{Broker, BrokerOptions};
use common::kafka;
use common::records::{encode_producer_batch, now_ms, ProducerFields, TestRecord};
use common::wait::wait_until;
use common::wire::KafkaConnection;

const TOPIC: &str = "txn-bad";
const TXN_ID: &str = "bad-input";
const COORDINATOR_TIMEOUT: Duration = Duration::from_secs(30);

const NONE: i16 = 0;
const INVALID_REQUEST: i16 = 42;
const INVALID_TRANSACTION_TIMEOUT: i16 = 50;
const INVALID_PRODUCER_ID_MAPPING: i16 = 49;
const INVALID_TXN_STATE: i16 = 48;
const PRODUCER_FENCED: i16 = 90;
const INVALID_PRODUCER_EPOCH: i16 = 47;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const OPERATION_NOT_ATTEMPTED: i16 = 55;
const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
const INVALID_RECORD: i16 = 87;
const TRANSACTIONAL_ID_NOT_FOUND: i16 = 105;

fn id(text: &str) -> TransactionalId {
    TransactionalId(StrBytes::from_string(text.to_string()))
}

fn init(conn: &mut KafkaConnection, txn_id: &str, timeout_ms: i32) -> InitProducerIdResponse {
    let request = InitProducerIdRequest::default()
        .with_transactional_id(Some(id(txn_id)))
        .with_transaction_timeout_ms(timeout_ms)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    conn.request(4, &request)
}

fn end(conn: &mut KafkaConnection, version: i16, txn_id: &str, pid: i64, epoch: i16) -> i16 {
    let request = EndTxnRequest::default()
        .with_transactional_id(id(txn_id))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(true);
    let response: EndTxnResponse = conn.request(version, &request);
    response.error_code
}

fn add(conn: &mut KafkaConnection, pid: i64, epoch: i16, partitions: &[i32]) -> Vec<i16> {
    let topic = AddPartitionsToTxnTopic::default()
        .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
        .with_partitions(partitions.to_vec());
    let request = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(id(TXN_ID))
        .with_v3_and_below_producer_id(ProducerId(pid))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(vec![topic]);
    let response: AddPartitionsToTxnResponse = conn.request(3, &request);
    response.results_by_topic_v3_and_below[0]
        .results_by_partition
        .iter()
        .map(|p| p.partition_error_code)
        .collect()
}

fn batch(producer: ProducerFields, values: &[&str]) -> Bytes {
    let records: Vec<TestRecord> = values
        .iter()
        .map(|v| TestRecord {
            key: Bytes::from_static(b"k"),
            value: Bytes::copy_from_slice(v.as_bytes()),
            timestamp_ms: now_ms(),
        })
        .collect();
    encode_producer_batch(&records, &producer)
}

fn produce_txn(conn: &mut KafkaConnection, partition: i32, batch: Bytes) -> i16 {
    let request =
        kafka::produce_request(TOPIC, partition, batch, -1).with_transactional_id(Some(id(TXN_ID)));
    let response = conn.request(9, &request);
    response.responses[0].partition_responses[0].error_code
}

#[test]
fn transactional_bad_input_gets_kafka_error_codes() {
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 2);
    // The first FindCoordinator for a transactional id creates __transaction_state.
    let find = FindCoordinatorRequest::default()
        .with_key_type(1)
        .with_key(StrBytes::from_static_str(TXN_ID));
    let (pid, epoch) = wait_until(
        "the transaction coordinator to load",
        COORDINATOR_TIMEOUT,
        || {
            let found: FindCoordinatorResponse = conn.request(3, &find);
            if found.error_code != NONE {
                return None;
            }
            let answer = init(&mut conn, TXN_ID, 60_000);
            (answer.error_code == NONE).then_some((answer.producer_id.0, answer.producer_epoch))
        },
    );

    assert_eq!(
        init(&mut conn, TXN_ID, 3_600_000).error_code,
        INVALID_TRANSACTION_TIMEOUT
    );
    assert_eq!(init(&mut conn, "", 60_000).error_code, INVALID_REQUEST);
    assert_eq!(
        end(&mut conn, 3, "nobody", pid, epoch),
        INVALID_PRODUCER_ID_MAPPING
    );
    assert_eq!(
        end(&mut conn, 3, TXN_ID, pid, epoch),
        INVALID_TXN_STATE,
        "no transaction open"
    );

    // A transactional write to a partition never added: refused after verification.
    let txn = |sequence| ProducerFields {
        transactional: true,
        ..ProducerFields::idempotent(pid, epoch, sequence)
    };
    assert_eq!(
        produce_txn(&mut conn, 1, batch(txn(0), &["unadded"])),
        INVALID_TXN_STATE
    );

    assert_eq!(
        add(&mut conn, pid, epoch, &[0, 7]),
        vec![OPERATION_NOT_ATTEMPTED, UNKNOWN_TOPIC_OR_PARTITION]
    );
    assert_eq!(
        add(&mut conn, pid + 1, epoch, &[0]),
        vec![INVALID_PRODUCER_ID_MAPPING]
    );
    assert_eq!(add(&mut conn, pid, epoch, &[0]), vec![NONE]);
    assert_eq!(produce_txn(&mut conn, 0, batch(txn(0), &["a", "b"])), NONE);
    assert_eq!(
        produce_txn(&mut conn, 0, batch(txn(5), &["gap"])),
        OUT_OF_ORDER_SEQUENCE_NUMBER
    );
    let control = ProducerFields {
        control: true,
        ..txn(2)
    };
    assert_eq!(
        produce_txn(&mut conn, 0, batch(control, &["marker?"])),
        INVALID_RECORD
    );

    // A newer instance fences this one: its EndTxn then gets PRODUCER_FENCED, or
    // INVALID_PRODUCER_EPOCH on a version before PRODUCER_FENCED existed.
    let newer = wait_until("the fencing InitProducerId", COORDINATOR_TIMEOUT, || {
        let answer = init(&mut conn, TXN_ID, 60_000);
        (answer.error_code == NONE).then_some(answer.producer_epoch)
    });
    assert!(newer > epoch);
    assert_eq!(end(&mut conn, 3, TXN_ID, pid, epoch), PRODUCER_FENCED);
    assert_eq!(
        end(&mut conn, 1, TXN_ID, pid, epoch),
        INVALID_PRODUCER_EPOCH
    );

    let describe =
        DescribeTransactionsRequest::default().with_transactional_ids(vec![id("nobody")]);
    let described: DescribeTransactionsResponse = conn.request(0, &describe);
    assert_eq!(
        described.transaction_states[0].error_code,
        TRANSACTIONAL_ID_NOT_FOUND
    );

    // Nothing of the refused writes was stored, and the broker still serves.
    let fetched = kafka::fetch(&mut conn, TOPIC, 1, 0, 1 << 20);
    assert_eq!(fetched.error_code, NONE);
    assert_eq!(fetched.high_watermark, 0, "partition 1 holds nothing");
}
