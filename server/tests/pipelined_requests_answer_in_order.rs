//! Requests pipelined on one connection are answered in request order, across APIs and
//! across partitions; a produce with acks=0 in the middle gets no response at all.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::records::{self, now_ms, numbered_record};
use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest, ProduceRequest};

const TOPIC: &str = "pipelined";
const PARTITIONS: i32 = 4;
const ROUNDS: usize = 25;

enum Sent {
    Produce(i32, i32),
    Metadata(i32),
    ApiVersions(i32),
}

#[test]
fn pipelined_requests_answer_in_order() {
    let broker = Broker::start(BrokerOptions::default().cores(2));
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, PARTITIONS);
    let produce_version = conn.version_for::<ProduceRequest>(3, 12);
    let metadata_version = conn.version_for::<MetadataRequest>(4, 12);

    let mut sent = Vec::new();
    for round in 0..ROUNDS {
        let partition = (round as i32) % PARTITIONS;
        let batch = records::encode_batch(&[numbered_record("pipe", round, now_ms())]);
        let acks = if round % 5 == 4 { 0 } else { 1 };
        let request = kafka::produce_request(TOPIC, partition, batch, acks);
        let id = conn
            .send_request(produce_version, &request)
            .expect("send produce");
        if acks != 0 {
            sent.push(Sent::Produce(id, partition));
        }
        let id = conn
            .send_request(
                metadata_version,
                &MetadataRequest::default().with_topics(None),
            )
            .expect("send metadata");
        sent.push(Sent::Metadata(id));
        let id = conn
            .send_request(0, &ApiVersionsRequest::default())
            .expect("send api versions");
        sent.push(Sent::ApiVersions(id));
    }
    for expected in sent {
        match expected {
            Sent::Produce(id, partition) => {
                let response = conn
                    .receive_response::<ProduceRequest>(produce_version, id)
                    .unwrap_or_else(|e| broker.fail(&format!("produce response {id}: {e}")));
                let result = &response.responses[0].partition_responses[0];
                assert_eq!(result.index, partition);
                assert_eq!(result.error_code, error_code::NONE);
            }
            Sent::Metadata(id) => {
                conn.receive_response::<MetadataRequest>(metadata_version, id)
                    .unwrap_or_else(|e| broker.fail(&format!("metadata response {id}: {e}")));
            }
            Sent::ApiVersions(id) => {
                conn.receive_response::<ApiVersionsRequest>(0, id)
                    .unwrap_or_else(|e| broker.fail(&format!("api versions response {id}: {e}")));
            }
        }
    }
    // acks=0 batches were appended all the same.
    let total: i64 = (0..PARTITIONS)
        .map(|p| kafka::list_offset(&mut conn, TOPIC, p, kafka::LATEST_TIMESTAMP).offset)
        .sum();
    assert_eq!(
        total, ROUNDS as i64,
        "every produce, acks=0 included, was appended"
    );
}
