//! DescribeProducers (and `sluice producers describe`) shows what a partition remembers of its
//! idempotent producers: id, epoch, last sequence and the timestamp of the last batch; the
//! same after a restart, when the state came back from the snapshot written at shutdown.

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::process::run_with_timeout;
use common::records::{encode_producer_batch, numbered_record, ProducerFields};
use common::wire::KafkaConnection;
use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::{DescribeProducersRequest, InitProducerIdRequest, ProducerId};

const TOPIC: &str = "described";
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
const TIMESTAMP_MS: i64 = 1_700_000_000_000;

fn init_producer_id(conn: &mut KafkaConnection) -> i64 {
    let version = conn.version_for::<InitProducerIdRequest>(0, 4);
    let mut request = InitProducerIdRequest::default();
    request.transactional_id = None;
    request.producer_id = ProducerId(-1);
    request.producer_epoch = -1;
    conn.request(version, &request).producer_id.0
}

/// (producer id, epoch, last sequence, last timestamp) of partition 0, by producer id.
fn describe(conn: &mut KafkaConnection) -> Vec<(i64, i32, i32, i64)> {
    let mut topic = TopicRequest::default();
    topic.name = kafka::topic_name(TOPIC);
    topic.partition_indexes = vec![0];
    let mut request = DescribeProducersRequest::default();
    request.topics = vec![topic];
    let response = conn.request(0, &request);
    let partition = &response.topics[0].partitions[0];
    assert_eq!(partition.error_code, error_code::NONE);
    partition
        .active_producers
        .iter()
        .map(|p| {
            (
                p.producer_id.0,
                p.producer_epoch,
                p.last_sequence,
                p.last_timestamp,
            )
        })
        .collect()
}

#[test]
fn describe_producers_shows_partition_producer_state() {
    let mut broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);
    let first = init_producer_id(&mut conn);
    let second = init_producer_id(&mut conn);
    for (producer_id, epoch, batches) in [(first, 0i16, 3usize), (second, 2, 1)] {
        for n in 0..batches {
            let records: Vec<_> = (0..4)
                .map(|i| numbered_record("d", n * 4 + i, TIMESTAMP_MS))
                .collect();
            let fields = ProducerFields::idempotent(producer_id, epoch, (n * 4) as i32);
            let batch = encode_producer_batch(&records, &fields);
            let result = kafka::produce(&mut conn, TOPIC, 0, batch, -1);
            assert_eq!(result.error_code, error_code::NONE);
        }
    }
    let expected = vec![(first, 0, 11, TIMESTAMP_MS), (second, 2, 3, TIMESTAMP_MS)];
    assert_eq!(describe(&mut conn), expected);

    drop(conn);
    let status = broker.terminate(SHUTDOWN_TIMEOUT);
    assert!(status.success(), "clean shutdown: {status}");
    broker.restart();
    let mut conn = broker.connect();
    assert_eq!(describe(&mut conn), expected, "after a clean restart");

    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command.args([
        "producers",
        "describe",
        TOPIC,
        "0",
        "--bootstrap",
        &broker.bootstrap(),
    ]);
    let finished = run_with_timeout(&mut command, CLI_TIMEOUT, "sluice producers describe");
    assert!(finished.status.success(), "{}", finished.transcript());
    let rows: Vec<Vec<&str>> = finished
        .stdout
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect())
        .collect();
    // No transaction: no transaction start offset.
    let first_row = [
        first.to_string(),
        "0".into(),
        "11".into(),
        TIMESTAMP_MS.to_string(),
    ];
    assert_eq!(rows.len(), 2, "{}", finished.stdout);
    assert_eq!(
        rows[0][..4],
        first_row.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(rows[0].last(), Some(&"-"), "{}", finished.stdout);
}
