//! `sluice iotune --dir <data dir>` leaves `iotune.toml` there; the broker reads it at start,
//! says so in its start-up log with the write sizes it took from it, and still stores and
//! serves data with those sizes across a restart.

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{self, error_code, LATEST_TIMESTAMP};
use common::process::run_with_timeout;
use common::records::{self, now_ms, numbered_record, TestRecord};

const IOTUNE_TIMEOUT: Duration = Duration::from_secs(120);
const TOPIC: &str = "tuned";
const BATCHES: usize = 40;

fn broker_log(broker: &Broker) -> String {
    std::fs::read_to_string(broker.log_path()).unwrap_or_default()
}

#[test]
fn iotune_results_size_the_engine_at_start() {
    let mut broker = Broker::start(BrokerOptions::default());
    assert!(
        broker_log(&broker).contains("iotune: no iotune.toml"),
        "a fresh data dir has no measurements"
    );

    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .args(["iotune", "--dir"])
        .arg(broker.data_dir())
        .args(["--duration-ms", "600", "--file-mib", "16"]);
    let run = run_with_timeout(&mut command, IOTUNE_TIMEOUT, "sluice iotune");
    assert!(
        run.status.success(),
        "sluice iotune failed:\n{}",
        run.transcript()
    );
    assert!(broker.data_dir().join("iotune.toml").exists());

    broker.restart();
    let log = broker_log(&broker);
    let Some(line) = log.lines().find(|line| line.contains("iotune: using")) else {
        broker.fail("the broker did not report using iotune.toml at start");
    };
    assert!(
        line.contains("write chunk"),
        "start-up line names the chunk size: {line}"
    );
    assert!(
        line.contains("in flight"),
        "start-up line names the queue depth: {line}"
    );

    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, TOPIC, 1);
    let mut expected: Vec<TestRecord> = Vec::new();
    for b in 0..BATCHES {
        let batch: Vec<TestRecord> = (0..50)
            .map(|i| numbered_record(&format!("b{b}"), i, now_ms()))
            .collect();
        let response = kafka::produce(&mut conn, TOPIC, 0, records::encode_batch(&batch), -1);
        assert_eq!(response.error_code, error_code::NONE, "acks=all produce");
        expected.extend(batch);
    }
    drop(conn);

    broker.kill9();
    broker.restart();
    let mut conn = broker.connect();
    let latest = kafka::list_offset(&mut conn, TOPIC, 0, LATEST_TIMESTAMP);
    assert_eq!(
        latest.offset,
        expected.len() as i64,
        "acks=all records after kill -9"
    );
    let data = kafka::fetch(&mut conn, TOPIC, 0, 0, 16 * 1024 * 1024);
    assert_eq!(data.error_code, error_code::NONE);
    let got = records::decode_records(&data.records.unwrap_or_default());
    assert_eq!(got.len(), expected.len(), "records read back");
    for (g, w) in got.iter().zip(&expected) {
        assert_eq!(g.value.as_ref(), Some(&w.value), "value read back");
    }
}
