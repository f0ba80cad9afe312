//! Consumers that send a Fetch for a large range of cold data (served from segment files, not
//! the batch cache) and then never read their sockets do not stall other consumers' cold reads
//! on the same shard: the threads that wait for the disk never wait for a socket.
//!
//! There are more stalled consumers than the shard's blocking pool has threads
//! (`BLOCKING_THREADS_PER_SHARD` in server/src/limits.rs), so if a stalled socket could hold a
//! thread, the well-behaved consumer would wait forever.

mod common;

use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::records;
use common::stalled_consumer::StalledConsumer;
use common::wait::wait_until;

const TOPIC: &str = "cold";
/// Stalled consumers fetch this partition, the well-behaved one the other.
const STALLED_PARTITION: i32 = 0;
const READER_PARTITION: i32 = 1;
/// Twice the broker's `BLOCKING_THREADS_PER_SHARD` (4).
const STALLED_CONSUMERS: usize = 8;
/// Far more than loopback socket buffers hold, so each stalled response stays unfinished.
const STALLED_BYTES: usize = 32 << 20;
const READER_BYTES: usize = 4 << 20;
/// Response bytes a stalled consumer holds unread once the broker is sending it file data.
const STALLED_QUEUED_BYTES_MIN: usize = 64 * 1024;
const READER_FETCH_BYTES: i32 = 1 << 20;
const DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn fetch_cold_reads_outlive_consumers_that_stop_reading() {
    let mut broker = Broker::start(BrokerOptions::default().cores(1));
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 2);
    kafka::produce_bytes(&mut conn, TOPIC, STALLED_PARTITION, STALLED_BYTES);
    let reader_records = kafka::produce_bytes(&mut conn, TOPIC, READER_PARTITION, READER_BYTES);
    drop(conn);
    // After a restart the batch cache is empty: every fetch is served from the segment files.
    broker.terminate(Duration::from_secs(30));
    broker.respawn();
    broker.wait_started();

    let stalled: Vec<StalledConsumer> = (0..STALLED_CONSUMERS)
        .map(|_| StalledConsumer::start(&broker, TOPIC, STALLED_PARTITION, STALLED_BYTES as i32))
        .collect();
    // Every blocking thread could now be held, were stalled sockets able to hold one.
    wait_until("stalled consumers to receive file data", DEADLINE, || {
        let receiving = stalled
            .iter()
            .filter(|s| s.queued_bytes() >= STALLED_QUEUED_BYTES_MIN)
            .count();
        receiving >= STALLED_CONSUMERS / 2
    });

    let mut reader = broker.connect();
    let started = std::time::Instant::now();
    let mut offset = 0;
    while offset < reader_records {
        assert!(
            started.elapsed() < DEADLINE,
            "the reader got to offset {offset} of {reader_records} in {DEADLINE:?}"
        );
        let data = kafka::fetch(
            &mut reader,
            TOPIC,
            READER_PARTITION,
            offset,
            READER_FETCH_BYTES,
        );
        assert_eq!(data.error_code, error_code::NONE, "fetch at {offset}");
        let got = records::decode_records(&data.records.unwrap_or_default());
        assert!(!got.is_empty(), "fetch at {offset} returned no records");
        for record in &got {
            assert_eq!(record.offset, offset, "records in order");
            offset += 1;
        }
    }
    assert_eq!(offset, reader_records);
    // The stalled consumers are still connected and still stalled: they, not a closed
    // connection, were what the reader had to get past.
    for (i, consumer) in stalled.iter().enumerate() {
        assert!(
            consumer.queued_bytes() < STALLED_BYTES,
            "stalled consumer {i}"
        );
    }
    broker.assert_alive();
}
