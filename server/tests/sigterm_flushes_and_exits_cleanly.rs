//! SIGTERM is a clean shutdown: the broker exits with status 0, and everything it
//! acknowledged with acks=1 (appended, not yet necessarily fsynced) is there after a restart,
//! because shutdown flushes every log.

mod common;

use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code, LATEST_TIMESTAMP};
use common::records::{self, now_ms, numbered_record, TestRecord};

const TOPIC: &str = "graceful";
const PARTITIONS: i32 = 4;
const BATCHES_PER_PARTITION: usize = 50;
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn sigterm_flushes_and_exits_cleanly() {
    let mut broker = Broker::start(BrokerOptions::default().cores(2));
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, PARTITIONS);
    let mut expected: Vec<Vec<TestRecord>> = vec![Vec::new(); PARTITIONS as usize];
    for b in 0..BATCHES_PER_PARTITION {
        for partition in 0..PARTITIONS {
            let batch: Vec<TestRecord> = (0..3)
                .map(|i| numbered_record(&format!("p{partition}b{b}"), i, now_ms()))
                .collect();
            let response = kafka::produce(
                &mut conn,
                TOPIC,
                partition,
                records::encode_batch(&batch),
                1,
            );
            assert_eq!(response.error_code, error_code::NONE, "acks=1 produce");
            expected[partition as usize].extend(batch);
        }
    }
    drop(conn);

    let status = broker.terminate(SHUTDOWN_TIMEOUT);
    assert!(
        status.success(),
        "broker exit status after SIGTERM: {status}"
    );

    broker.restart();
    let mut conn = broker.connect();
    for partition in 0..PARTITIONS {
        let want = &expected[partition as usize];
        let latest = kafka::list_offset(&mut conn, TOPIC, partition, LATEST_TIMESTAMP);
        assert_eq!(
            latest.offset,
            want.len() as i64,
            "partition {partition}: end offset (error {})",
            latest.error_code
        );
        let data = kafka::fetch(&mut conn, TOPIC, partition, 0, 4 * 1024 * 1024);
        assert_eq!(data.error_code, error_code::NONE);
        let got = records::decode_records(&data.records.unwrap_or_default());
        assert_eq!(
            got.len(),
            want.len(),
            "partition {partition}: records after restart"
        );
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.key.as_ref(), Some(&w.key), "partition {partition}: key");
            assert_eq!(
                g.value.as_ref(),
                Some(&w.value),
                "partition {partition}: value"
            );
        }
    }
}
