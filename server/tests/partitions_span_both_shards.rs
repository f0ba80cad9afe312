//! With `--cores 2`, a topic's partitions are spread over both shards, and every connection,
//! whichever shard accepted it, can produce to, fetch from and list offsets of every
//! partition. Several connections are opened so that SO_REUSEPORT lands them on both shards;
//! each one writes to every partition and then reads everything every other one wrote.

mod common;

use bytes::Bytes;
use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP};
use common::records::{self, TestRecord};

const TOPIC: &str = "spread";
const PARTITIONS: i32 = 8;
const CONNECTIONS: usize = 8;
const RECORDS_PER_BATCH: usize = 5;
const FETCH_BYTES_MAX: i32 = 1024 * 1024;

#[test]
fn partitions_span_both_shards() {
    let broker = Broker::start(BrokerOptions::default().cores(2));
    let mut conns: Vec<_> = (0..CONNECTIONS).map(|_| broker.connect()).collect();
    kafka::create_topic(&mut conns[0], TOPIC, PARTITIONS);

    // Topic metadata is broadcast: every connection sees every partition.
    for (c, conn) in conns.iter_mut().enumerate() {
        let metadata = kafka::metadata(conn, &[TOPIC]);
        assert_eq!(metadata.topics.len(), 1);
        let topic = &metadata.topics[0];
        assert_eq!(
            topic.error_code,
            error_code::NONE,
            "connection {c}: metadata error"
        );
        assert_eq!(
            topic.partitions.len(),
            PARTITIONS as usize,
            "connection {c}: partitions"
        );
    }

    // expected[partition] = records in offset order.
    let mut expected: Vec<Vec<TestRecord>> = vec![Vec::new(); PARTITIONS as usize];
    for round in 0..2 {
        for (c, conn) in conns.iter_mut().enumerate() {
            for partition in 0..PARTITIONS {
                let batch: Vec<TestRecord> = (0..RECORDS_PER_BATCH)
                    .map(|i| TestRecord {
                        key: Bytes::from(format!("c{c}-p{partition}-r{round}-{i}")),
                        value: Bytes::from(format!("written by connection {c}").repeat(i + 1)),
                        timestamp_ms: records::now_ms(),
                    })
                    .collect();
                let acks = if round == 0 { 1 } else { -1 };
                let response =
                    kafka::produce(conn, TOPIC, partition, records::encode_batch(&batch), acks);
                let where_ = format!("connection {c} partition {partition}");
                assert_eq!(response.error_code, error_code::NONE, "{where_}: produce");
                let log = &mut expected[partition as usize];
                assert_eq!(
                    response.base_offset,
                    log.len() as i64,
                    "{where_}: base offset"
                );
                log.extend(batch);
            }
        }
    }

    for (c, conn) in conns.iter_mut().enumerate() {
        for partition in 0..PARTITIONS {
            let want = &expected[partition as usize];
            let where_ = format!("connection {c} partition {partition}");
            let latest = kafka::list_offset(conn, TOPIC, partition, LATEST_TIMESTAMP);
            assert_eq!(
                latest.error_code,
                error_code::NONE,
                "{where_}: list offsets"
            );
            assert_eq!(latest.offset, want.len() as i64, "{where_}: latest offset");
            let earliest = kafka::list_offset(conn, TOPIC, partition, EARLIEST_TIMESTAMP);
            assert_eq!(earliest.offset, 0, "{where_}: earliest offset");

            let data = kafka::fetch(conn, TOPIC, partition, 0, FETCH_BYTES_MAX);
            assert_eq!(data.error_code, error_code::NONE, "{where_}: fetch");
            assert_eq!(
                data.high_watermark,
                want.len() as i64,
                "{where_}: high watermark"
            );
            let got = records::decode_records(&data.records.unwrap_or_default());
            assert_eq!(got.len(), want.len(), "{where_}: records fetched");
            for (offset, (g, w)) in got.iter().zip(want).enumerate() {
                assert_eq!(g.offset, offset as i64, "{where_}: offset");
                assert_eq!(g.key.as_ref(), Some(&w.key), "{where_}@{offset}: key");
                assert_eq!(g.value.as_ref(), Some(&w.value), "{where_}@{offset}: value");
                assert_eq!(g.timestamp, w.timestamp_ms, "{where_}@{offset}: timestamp");
            }
        }
    }
}
