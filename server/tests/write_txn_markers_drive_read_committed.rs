//! WriteTxnMarkers on a real broker, with raw frames (no transaction coordinator yet): markers
//! for an idempotent producer land as control batches, a read_committed Fetch reports the
//! aborted transaction and the last stable offset, ListOffsets with isolation_level 1 ends
//! there, bad markers get Kafka's error codes, transactional produces without a coordinator
//! are refused (retriably), and all of it is the same after kill -9.

#![allow(clippy::unwrap_used)]

mod common;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::records::{encode_producer_batch, numbered_record, ProducerFields};
use common::wire::KafkaConnection;
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{
    BrokerId, FetchRequest, InitProducerIdRequest, ListOffsetsRequest, ProducerId, TransactionalId,
    WriteTxnMarkersRequest,
};
use kafka_protocol::protocol::StrBytes;

const TOPIC: &str = "txn-markers";
const TIMESTAMP_MS: i64 = 1_700_000_000_000;
const LATEST: i64 = -1;
const READ_COMMITTED: i8 = 1;

fn code(error: error_code::ResponseError) -> i16 {
    error.code()
}

fn init_producer_id(conn: &mut KafkaConnection) -> i64 {
    let version = conn.version_for::<InitProducerIdRequest>(0, 4);
    let mut request = InitProducerIdRequest::default();
    request.transactional_id = None;
    request.producer_id = ProducerId(-1);
    request.producer_epoch = -1;
    conn.request(version, &request).producer_id.0
}

/// One batch of 3 records from `producer_id` at `seq`; returns its base offset.
fn produce(conn: &mut KafkaConnection, producer_id: i64, seq: usize) -> i64 {
    let records: Vec<_> = (0..3)
        .map(|i| numbered_record("m", seq + i, TIMESTAMP_MS))
        .collect();
    let fields = ProducerFields::idempotent(producer_id, 0, seq as i32);
    let result = kafka::produce(conn, TOPIC, 0, encode_producer_batch(&records, &fields), -1);
    assert_eq!(result.error_code, error_code::NONE);
    result.base_offset
}

/// One marker for `(topic, partitions)`; the error code of each partition.
fn write_marker(
    conn: &mut KafkaConnection,
    producer_id: i64,
    producer_epoch: i16,
    coordinator_epoch: i32,
    commit: bool,
    targets: &[(&str, &[i32])],
) -> Vec<i16> {
    let mut marker = WritableTxnMarker::default();
    marker.producer_id = ProducerId(producer_id);
    marker.producer_epoch = producer_epoch;
    marker.coordinator_epoch = coordinator_epoch;
    marker.transaction_result = commit;
    marker.topics = targets
        .iter()
        .map(|(topic, partitions)| {
            let mut target = WritableTxnMarkerTopic::default();
            target.name = kafka::topic_name(topic);
            target.partition_indexes = partitions.to_vec();
            target
        })
        .collect();
    let mut request = WriteTxnMarkersRequest::default();
    request.markers = vec![marker];
    let response = conn.request(1, &request);
    assert_eq!(response.markers.len(), 1);
    assert_eq!(response.markers[0].producer_id.0, producer_id);
    response.markers[0]
        .topics
        .iter()
        .flat_map(|topic| topic.partitions.iter().map(|p| p.error_code))
        .collect()
}

fn fetch_committed(conn: &mut KafkaConnection, offset: i64) -> PartitionData {
    let version = conn.version_for::<FetchRequest>(4, 12);
    let request = kafka::fetch_request(TOPIC, 0, offset, 1 << 20, 1 << 20, 100)
        .with_isolation_level(READ_COMMITTED);
    kafka::single_fetch_partition(conn.request(version, &request))
}

fn latest_committed(conn: &mut KafkaConnection) -> i64 {
    let version = conn.version_for::<ListOffsetsRequest>(2, 7);
    let request = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(READ_COMMITTED)
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(kafka::topic_name(TOPIC))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(LATEST)])]);
    let response = conn.request(version, &request);
    let partition = &response.topics[0].partitions[0];
    assert_eq!(partition.error_code, error_code::NONE);
    partition.offset
}

fn aborted_of(data: &PartitionData) -> Vec<(i64, i64)> {
    data.aborted_transactions
        .iter()
        .flatten()
        .map(|txn| (txn.producer_id.0, txn.first_offset))
        .collect()
}

/// What a read_committed consumer sees: (high watermark, LSO, aborted list, latest offset).
fn committed_view(conn: &mut KafkaConnection) -> (i64, i64, Vec<(i64, i64)>, i64) {
    let data = fetch_committed(conn, 0);
    assert_eq!(data.error_code, error_code::NONE);
    (
        data.high_watermark,
        data.last_stable_offset,
        aborted_of(&data),
        latest_committed(conn),
    )
}

#[test]
fn write_txn_markers_drive_read_committed() {
    let mut broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);
    let producer = init_producer_id(&mut conn);
    produce(&mut conn, producer, 0);
    produce(&mut conn, producer, 3);

    // An ABORT marker with the producer's epoch: a control batch at the log end.
    let codes = write_marker(&mut conn, producer, 0, 5, false, &[(TOPIC, &[0])]);
    assert_eq!(codes, vec![error_code::NONE]);
    let marker_offset = 6;
    let (high_watermark, lso, aborted, latest) = committed_view(&mut conn);
    assert_eq!(
        high_watermark,
        marker_offset + 1,
        "the marker takes one offset"
    );
    assert_eq!(lso, high_watermark, "nothing is left open");
    assert_eq!(latest, lso);
    // The producer had no transaction here: the abort covers only its marker.
    assert_eq!(aborted, vec![(producer, marker_offset)]);
    let from_marker = fetch_committed(&mut conn, marker_offset);
    assert_eq!(aborted_of(&from_marker), vec![(producer, marker_offset)]);
    assert!(from_marker.records.as_ref().is_some_and(|r| !r.is_empty()));
    let after = fetch_committed(&mut conn, marker_offset + 1);
    assert!(aborted_of(&after).is_empty());

    // Bad markers get Kafka's codes, per partition.
    use error_code::ResponseError;
    let fenced = write_marker(&mut conn, producer, 0, 4, true, &[(TOPIC, &[0])]);
    assert_eq!(
        fenced,
        vec![code(ResponseError::TransactionCoordinatorFenced)]
    );
    let bumped = write_marker(&mut conn, producer, 1, 5, false, &[(TOPIC, &[0])]);
    assert_eq!(
        bumped,
        vec![error_code::NONE],
        "a marker may carry a bumped epoch"
    );
    let stale = write_marker(&mut conn, producer, 0, 5, true, &[(TOPIC, &[0])]);
    assert_eq!(stale, vec![code(ResponseError::InvalidProducerEpoch)]);
    let unknown = write_marker(
        &mut conn,
        producer,
        1,
        5,
        true,
        &[("no-such", &[0]), (TOPIC, &[9])],
    );
    let unknown_code = code(ResponseError::UnknownTopicOrPartition);
    assert_eq!(unknown, vec![unknown_code, unknown_code]);

    // A client cannot start a transaction here without a coordinator to verify it.
    let records = vec![numbered_record("t", 0, TIMESTAMP_MS)];
    let fields = ProducerFields {
        transactional: true,
        ..ProducerFields::idempotent(producer, 1, 0)
    };
    let batch = encode_producer_batch(&records, &fields);
    let refused = kafka::produce(&mut conn, TOPIC, 0, batch.clone(), -1);
    assert_eq!(
        refused.error_code,
        code(ResponseError::InvalidTxnState),
        "no transactional_id"
    );
    let version = conn.version_for::<kafka_protocol::messages::ProduceRequest>(3, 11);
    let request = kafka::produce_request(TOPIC, 0, batch, -1).with_transactional_id(Some(
        TransactionalId(StrBytes::from_static_str("no-coordinator")),
    ));
    let response = conn.request(version, &request);
    let refused = &response.responses[0].partition_responses[0];
    assert_eq!(
        refused.error_code,
        code(ResponseError::NotEnoughReplicas),
        "retriable"
    );
    let control = ProducerFields {
        control: true,
        transactional: true,
        ..ProducerFields::idempotent(producer, 1, 0)
    };
    let control = encode_producer_batch(&records, &control);
    let refused = kafka::produce(&mut conn, TOPIC, 0, control, -1);
    assert_eq!(refused.error_code, code(ResponseError::InvalidRecord));

    let before = committed_view(&mut conn);
    assert_eq!(before.0, marker_offset + 2, "one more marker, nothing else");
    assert_eq!(
        before.2,
        vec![(producer, marker_offset), (producer, marker_offset + 1)]
    );
    drop(conn);
    broker.restart(); // kill -9, then start on the same data
    let mut conn = broker.connect();
    assert_eq!(committed_view(&mut conn), before, "the same after kill -9");
}
