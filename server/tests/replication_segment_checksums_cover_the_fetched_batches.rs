//! The replication tests decide "replicas are byte-identical below the high watermark" by
//! walking segment files on each broker's data dir (`common::replicas`). This checks that walk
//! against the broker itself, on single-copy partitions (it needs no replication): after
//! batches of several sizes, spread over more than one segment, the walk up to the high
//! watermark counts exactly the batches a Fetch from offset 0 returns, byte for byte (the
//! same CRC-32C over the same bytes), and ends at the high watermark; a lower bound counts
//! only the batches below it.

mod common;

use bytes::Bytes;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{create_topic_with_configs, fetch, list_offset, produce, LATEST_TIMESTAMP};
use common::records::{encode_batch, now_ms, TestRecord};
use common::replicas::{replica_digest, whole_batches};

const TOPIC: &str = "segment-checksums";
const PARTITIONS: i32 = 2;
const BATCHES: usize = 80;
/// The smallest segment the broker allows (1 MiB), so 80 batches averaging ~19 KiB roll it.
const SEGMENT_BYTES: &str = "1048576";
const FETCH_BYTES_MAX: i32 = 64 << 20;

/// The offset after the last batch of a fetch's bytes, which must be whole batches.
fn after_last_batch(bytes: &[u8]) -> i64 {
    let batches = whole_batches(bytes);
    let last = batches
        .last()
        .expect("a fetch below the HW returns a batch");
    assert_eq!(last.bytes.end, bytes.len(), "a fetch returns whole batches");
    last.last_offset + 1
}

#[test]
fn segment_checksums_cover_exactly_the_batches_below_the_high_watermark() {
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    create_topic_with_configs(
        &mut conn,
        TOPIC,
        PARTITIONS,
        &[("segment.bytes", SEGMENT_BYTES)],
    );
    for partition in 0..PARTITIONS {
        for batch in 0..BATCHES {
            // 1 to 8 records of 100 B to 8 KiB: batches of very different sizes.
            let records: Vec<TestRecord> = (0..1 + (batch * 5) % 8)
                .map(|i| TestRecord {
                    key: Bytes::from(format!("p{partition}-b{batch}-{i}")),
                    value: Bytes::from(vec![
                        b'a' + (i % 26) as u8;
                        100 + (batch * 997 + i * 131) % 8_092
                    ]),
                    timestamp_ms: now_ms(),
                })
                .collect();
            let answer = produce(&mut conn, TOPIC, partition, encode_batch(&records), -1);
            assert_eq!(answer.error_code, 0, "produce to {partition}");
        }
        let high_watermark = list_offset(&mut conn, TOPIC, partition, LATEST_TIMESTAMP).offset;
        let mut fetched: Vec<u8> = Vec::new();
        let mut next_offset = 0;
        while next_offset < high_watermark {
            let data = fetch(&mut conn, TOPIC, partition, next_offset, FETCH_BYTES_MAX);
            assert_eq!(data.error_code, 0);
            let bytes = data.records.unwrap_or_default();
            assert!(
                !bytes.is_empty(),
                "fetch at {next_offset} below HW {high_watermark}"
            );
            next_offset = after_last_batch(&bytes);
            fetched.extend_from_slice(&bytes);
        }
        let digest = replica_digest(broker.data_dir(), TOPIC, partition, high_watermark);
        let dir = broker.data_dir().join(format!("{TOPIC}-{partition}"));
        let segments = std::fs::read_dir(&dir)
            .expect("partition dir")
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "log"))
            })
            .count();
        eprintln!("partition {partition}: HW {high_watermark}, {segments} segments, {digest:?}");
        assert!(
            segments > 1,
            "the batches stayed in one segment: the walk crossed no file"
        );
        assert_eq!(digest.next_offset, high_watermark);
        assert_eq!(digest.batches, BATCHES as u64);
        assert_eq!(
            digest.bytes,
            fetched.len() as u64,
            "bytes walked vs fetched"
        );
        assert_eq!(
            digest.crc,
            crc32c::crc32c(&fetched),
            "bytes walked vs fetched"
        );

        // A bound inside the log: only the batches whose last offset is below it.
        let half = replica_digest(broker.data_dir(), TOPIC, partition, high_watermark / 2);
        assert!(half.next_offset <= high_watermark / 2);
        assert!(
            half.batches < BATCHES as u64 && half.batches > 0,
            "{half:?}"
        );
        assert_eq!(
            half.crc,
            crc32c::crc32c(&fetched[..half.bytes as usize]),
            "the first half's bytes"
        );
    }
}
