//! The idempotent producer's broker side, on the wire: InitProducerId hands out distinct ids;
//! a retried batch (the same bytes sent again) is answered with success and its original
//! offset and stored once, also after a kill -9; a sequence gap gets
//! OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH; control and
//! transactional batches from a client are refused; a transactional InitProducerId sent before
//! any FindCoordinator is told NOT_COORDINATOR.

mod common;

use bytes::Bytes;
use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code, error_code::ResponseError};
use common::records::{self, encode_producer_batch, numbered_record, ProducerFields};
use common::wire::KafkaConnection;
use kafka_protocol::messages::{InitProducerIdRequest, ProducerId, TransactionalId};
use kafka_protocol::protocol::StrBytes;

const TOPIC: &str = "idempotent";
const RECORDS_PER_BATCH: usize = 3;

fn init_producer_id(conn: &mut KafkaConnection, transactional_id: Option<&str>) -> (i16, i64, i16) {
    let version = conn.version_for::<InitProducerIdRequest>(0, 4);
    let mut request = InitProducerIdRequest::default();
    request.transactional_id =
        transactional_id.map(|id| TransactionalId(StrBytes::from_string(id.to_string())));
    request.transaction_timeout_ms = 60_000;
    request.producer_id = ProducerId(-1);
    request.producer_epoch = -1;
    let response = conn.request(version, &request);
    (
        response.error_code,
        response.producer_id.0,
        response.producer_epoch,
    )
}

/// Batch number `n` of a producer: records `n*3 .. n*3+3`, first sequence `n*3`.
fn batch(producer_id: i64, epoch: i16, n: usize) -> Bytes {
    let first = n * RECORDS_PER_BATCH;
    let records: Vec<_> = (first..first + RECORDS_PER_BATCH)
        .map(|i| numbered_record("idem", i, records::now_ms()))
        .collect();
    encode_producer_batch(
        &records,
        &ProducerFields::idempotent(producer_id, epoch, first as i32),
    )
}

fn produce(conn: &mut KafkaConnection, batch: Bytes) -> (i16, i64) {
    let result = kafka::produce(conn, TOPIC, 0, batch, -1);
    (result.error_code, result.base_offset)
}

fn stored_keys(conn: &mut KafkaConnection) -> Vec<String> {
    let data = kafka::fetch(conn, TOPIC, 0, 0, 4 * 1024 * 1024);
    assert_eq!(data.error_code, error_code::NONE);
    records::decode_records(&data.records.unwrap_or_default())
        .into_iter()
        .map(|r| String::from_utf8_lossy(&r.key.unwrap_or_default()).into_owned())
        .collect()
}

#[test]
fn idempotent_producer_retries_are_deduplicated() {
    let mut broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);

    let (code, pid, epoch) = init_producer_id(&mut conn, None);
    assert_eq!(code, error_code::NONE, "InitProducerId");
    assert!(pid >= 0);
    assert_eq!(epoch, 0);
    let (_, other_pid, _) = init_producer_id(&mut conn, None);
    assert_ne!(other_pid, pid, "every InitProducerId gets a new id");

    assert_eq!(produce(&mut conn, batch(pid, 0, 0)), (error_code::NONE, 0));
    assert_eq!(produce(&mut conn, batch(pid, 0, 1)), (error_code::NONE, 3));
    // The same batches again (a producer retrying after a lost response).
    assert_eq!(produce(&mut conn, batch(pid, 0, 1)), (error_code::NONE, 3));
    assert_eq!(produce(&mut conn, batch(pid, 0, 0)), (error_code::NONE, 0));

    let gap = produce(&mut conn, batch(pid, 0, 3));
    assert_eq!(
        gap.0,
        ResponseError::OutOfOrderSequenceNumber.code(),
        "a sequence gap"
    );
    assert_eq!(produce(&mut conn, batch(pid, 0, 2)), (error_code::NONE, 6));

    // The client bumped its epoch (KIP-360): a new epoch starts at 0; the old one is fenced.
    let bumped: Vec<_> = (0..2)
        .map(|i| numbered_record("bumped", i, records::now_ms()))
        .collect();
    let bumped = encode_producer_batch(&bumped, &ProducerFields::idempotent(pid, 1, 0));
    assert_eq!(produce(&mut conn, bumped), (error_code::NONE, 9));
    let fenced = produce(&mut conn, batch(pid, 0, 3));
    assert_eq!(
        fenced.0,
        ResponseError::InvalidProducerEpoch.code(),
        "an older epoch"
    );

    let one = [numbered_record("refused", 0, records::now_ms())];
    let control = ProducerFields {
        control: true,
        ..ProducerFields::idempotent(other_pid, 0, 0)
    };
    let refused = produce(&mut conn, encode_producer_batch(&one, &control));
    assert_eq!(
        refused.0,
        ResponseError::InvalidRecord.code(),
        "a control batch"
    );
    let transactional = ProducerFields {
        transactional: true,
        ..ProducerFields::idempotent(other_pid, 0, 0)
    };
    let refused = produce(&mut conn, encode_producer_batch(&one, &transactional));
    assert_eq!(
        refused.0,
        ResponseError::InvalidTxnState.code(),
        "a transactional batch"
    );
    let (code, _, _) = init_producer_id(&mut conn, Some("txn"));
    // Nobody asked FindCoordinator for it yet, so no broker coordinates it: the client is
    // told to look for its coordinator (transactions: `transactions_*.rs`).
    assert_eq!(
        code,
        ResponseError::NotCoordinator.code(),
        "transactional.id"
    );

    let keys = stored_keys(&mut conn);
    let expected: Vec<String> = (0..9)
        .map(|i| format!("idem-key-{i}"))
        .chain((0..2).map(|i| format!("bumped-key-{i}")))
        .collect();
    assert_eq!(keys, expected, "every record stored exactly once");

    // After a kill -9 the state is rebuilt from the log: retries are still recognised.
    broker.restart();
    let mut conn = broker.connect();
    let retry: Vec<_> = (0..2)
        .map(|i| numbered_record("bumped", i, records::now_ms()))
        .collect();
    let retry = encode_producer_batch(&retry, &ProducerFields::idempotent(pid, 1, 0));
    assert_eq!(
        produce(&mut conn, retry),
        (error_code::NONE, 9),
        "retry after kill -9"
    );
    let next: Vec<_> = (2..3)
        .map(|i| numbered_record("bumped", i, records::now_ms()))
        .collect();
    let next = encode_producer_batch(&next, &ProducerFields::idempotent(pid, 1, 2));
    assert_eq!(produce(&mut conn, next), (error_code::NONE, 11));
    let (code, after_restart, _) = init_producer_id(&mut conn, None);
    assert_eq!(code, error_code::NONE);
    assert!(
        after_restart > other_pid,
        "ids are never reused after a restart: {after_restart} after {other_pid}"
    );
    assert_eq!(stored_keys(&mut conn).len(), 12);
    broker.assert_alive();
}
