//! A fetch that finds some data, but less than its `min_bytes`, waits in its long poll until
//! more arrives or `max_wait_ms` passes, and then answers with what there is. It must not
//! re-read the log in a loop meanwhile: the broker's count of fetch reads
//! (`sluice_fetch_stage_latency_seconds_count{stage="read"}`) grows by a handful, not by the
//! thousands a read-wait-read spin makes in the same time.

mod common;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::metrics;
use common::records::{self, now_ms, numbered_record};
use kafka_protocol::messages::FetchRequest;

const TOPIC: &str = "min-bytes";
const MAX_WAIT_MS: i32 = 1_000;
/// Far more than the one small batch in the partition.
const MIN_BYTES: i32 = 1 << 20;
/// Reads one long poll may do: the first, one per wake-up, and the last at the deadline.
const READS_PER_FETCH_MAX: f64 = 10.0;

/// The number of fetch reads the broker has done (all shards).
fn fetch_reads(metrics_addr: std::net::SocketAddr) -> f64 {
    let (_, text) = metrics::scrape(metrics_addr);
    text.lines()
        .filter(|line| {
            line.starts_with("sluice_fetch_stage_latency_seconds_count{")
                && line.contains("stage=\"read\"")
        })
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

#[test]
fn fetch_below_min_bytes_waits_without_spinning() {
    let (metrics_addr, config) = metrics::listen_config();
    let broker = Broker::start(BrokerOptions::default().cores(2).config(&config));
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);
    let record = numbered_record("small", 0, now_ms());
    let batch = records::encode_batch(std::slice::from_ref(&record));
    let produced = kafka::produce(&mut conn, TOPIC, 0, batch, -1);
    assert_eq!(produced.error_code, error_code::NONE, "acks=all produce");

    let reads_before = fetch_reads(metrics_addr);
    let version = conn.version_for::<FetchRequest>(4, 12);
    let request =
        kafka::fetch_request(TOPIC, 0, 0, 1 << 24, 1 << 24, MAX_WAIT_MS).with_min_bytes(MIN_BYTES);
    let response = kafka::single_fetch_partition(conn.request(version, &request));
    assert_eq!(response.error_code, error_code::NONE);
    let got = records::decode_records(&response.records.unwrap_or_default());
    assert_eq!(
        got.len(),
        1,
        "the fetch answers with the one record there is"
    );
    let reads = fetch_reads(metrics_addr) - reads_before;
    assert!(
        reads >= 1.0,
        "the fetch read the log ({reads} reads counted)"
    );
    assert!(
        reads <= READS_PER_FETCH_MAX,
        "one fetch below min_bytes read the log {reads} times while it waited"
    );
}
