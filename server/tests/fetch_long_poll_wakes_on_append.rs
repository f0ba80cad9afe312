//! A fetch at the end of the log with a long `max_wait_ms` is answered when another client
//! appends, with the new record, not when the wait runs out. The wait (60 s) is three times
//! the harness's socket read timeout (20 s), so a broker that only answers at the deadline
//! fails the test instead of passing slowly. The append is sent only once the broker reports
//! the fetch in its long poll (`sluice_fetch_long_polls_waiting`), so the test cannot pass by
//! a fetch that found the record at once.

mod common;

use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code};
use common::metrics;
use common::records::{self, now_ms, numbered_record};
use common::wait::wait_until;
use common::wire::IO_TIMEOUT;
use kafka_protocol::messages::FetchRequest;

const TOPIC: &str = "long-poll";
const MAX_WAIT_MS: i32 = 60_000;
const _: () = assert!(MAX_WAIT_MS as u64 > 2 * IO_TIMEOUT.as_secs() * 1000);
/// The fetch must be in its long poll within this time (well inside `MAX_WAIT_MS`).
const WAITING_TIMEOUT: Duration = Duration::from_secs(20);
const _: () = assert!(WAITING_TIMEOUT.as_millis() < MAX_WAIT_MS as u128 / 2);

#[test]
fn fetch_long_poll_wakes_on_append() {
    // Two shards: the waiting fetch and the append may meet across shards.
    let (metrics_addr, config) = metrics::listen_config();
    let broker = Broker::start(BrokerOptions::default().cores(2).config(&config));
    let mut writer = broker.connect();
    kafka::create_topic(&mut writer, TOPIC, 2);
    for partition in 0..2 {
        let mut reader = broker.connect();
        let version = reader.version_for::<FetchRequest>(4, 12);
        let request = kafka::fetch_request(TOPIC, partition, 0, 1 << 20, 1 << 20, MAX_WAIT_MS);
        let correlation_id = reader.send_request(version, &request).expect("send fetch");

        wait_until(
            "the fetch to wait in its long poll",
            WAITING_TIMEOUT,
            || {
                let (_, text) = metrics::scrape(metrics_addr);
                let waiting = metrics::total(&text, "sluice_fetch_long_polls_waiting")
                    .expect("the broker reports sluice_fetch_long_polls_waiting");
                assert!(
                    waiting <= 1.0,
                    "{waiting} fetches waiting; only ours was sent"
                );
                waiting == 1.0
            },
        );
        let record = numbered_record("wake", partition as usize, now_ms());
        let produced = kafka::produce(
            &mut writer,
            TOPIC,
            partition,
            records::encode_batch(std::slice::from_ref(&record)),
            1,
        );
        assert_eq!(produced.error_code, error_code::NONE);

        let response = reader
            .receive_response::<FetchRequest>(version, correlation_id)
            .unwrap_or_else(|e| {
                broker.fail(&format!(
                    "partition {partition}: the waiting fetch was not answered after the \
                     append: {e}"
                ))
            });
        let data = kafka::single_fetch_partition(response);
        assert_eq!(data.error_code, error_code::NONE);
        let got = records::decode_records(&data.records.unwrap_or_default());
        assert_eq!(got.len(), 1, "partition {partition}: the appended record");
        assert_eq!(got[0].key.as_ref(), Some(&record.key));
    }
}
