//! `sluice topic describe` on a compacted topic shows its cleanup policy and each partition's
//! dirty ratio, read from the broker's metrics endpoint (Kafka has no wire API for it). The
//! broker's cleaner is held back (a long `log.cleaner.backoff.ms`, so its first sleep outlasts
//! the test): a partition whose sealed segments are all dirty shows 1.000, an empty one 0.000,
//! and a topic that is not compacted shows no DIRTY column.

mod common;

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;

use common::broker::{Broker, BrokerOptions};
use common::kafka::{create_topic, create_topic_with_configs, produce};
use common::metrics::{listen_config, scrape};
use common::process::run_with_timeout;
use common::records::{encode_batch, TestRecord};
use common::wait::wait_until;

const COMPACTED: &str = "describe-compacted";
const PLAIN: &str = "describe-plain";
const CLI_TIMEOUT: Duration = Duration::from_secs(30);
/// Values large enough that a few batches pass `segment.bytes` (1 MiB, its minimum).
const VALUE_BYTES: usize = 64 * 1024;
const BATCHES: usize = 40;

fn describe(broker: &Broker, topic: &str, metrics: &str) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command.args([
        "topic",
        "describe",
        topic,
        "--metrics",
        metrics,
        "--bootstrap",
        &broker.bootstrap(),
    ]);
    let run = run_with_timeout(&mut command, CLI_TIMEOUT, "sluice topic describe");
    if !run.status.success() {
        broker.fail(&format!(
            "sluice topic describe failed:\n{}",
            run.transcript()
        ));
    }
    run.stdout
}

/// The DIRTY cell of partition `partition`'s row.
fn dirty_cell(text: &str, partition: i32) -> String {
    let header = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some("PARTITION"))
        .unwrap_or_else(|| panic!("no partition table:\n{text}"));
    let column = header
        .split_whitespace()
        .position(|c| c == "DIRTY")
        .unwrap_or_else(|| panic!("no DIRTY column:\n{text}"));
    let row = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&partition.to_string()))
        .unwrap_or_else(|| panic!("no row for partition {partition}:\n{text}"));
    row.split_whitespace()
        .nth(column)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn topic_describe_shows_policy_and_dirty_ratio() {
    let (metrics_addr, metrics_toml) = listen_config();
    let config = format!("{metrics_toml}\"log.cleaner.backoff.ms\" = 3600000\n");
    let broker = Broker::start(BrokerOptions::default().config(&config));
    let mut conn = broker.connect();
    create_topic_with_configs(
        &mut conn,
        COMPACTED,
        2,
        &[("cleanup.policy", "compact"), ("segment.bytes", "1048576")],
    );
    create_topic(&mut conn, PLAIN, 1);
    let value = Bytes::from(vec![b'v'; VALUE_BYTES]);
    for i in 0..BATCHES {
        let record = TestRecord {
            key: Bytes::from(format!("key-{}", i % 3)),
            value: value.clone(),
            timestamp_ms: common::records::now_ms(),
        };
        let response = produce(&mut conn, COMPACTED, 0, encode_batch(&[record]), -1);
        assert_eq!(response.error_code, 0, "produce {i}");
    }
    let sample = format!("topic=\"{COMPACTED}\",partition=\"0\"");
    wait_until("partition 0 to report its dirty ratio", CLI_TIMEOUT, || {
        let (_, text) = scrape(metrics_addr);
        text.lines()
            .any(|l| l.starts_with("sluice_log_cleaner_dirty_ratio") && l.contains(&sample))
    });

    let text = describe(&broker, COMPACTED, &metrics_addr.to_string());
    assert!(text.contains("POLICY      compact"), "{text}");
    assert!(
        text.contains(&format!("DIRTY FROM  {metrics_addr}")),
        "{text}"
    );
    assert_eq!(
        dirty_cell(&text, 0),
        "1.000",
        "sealed, never cleaned:\n{text}"
    );
    assert_eq!(dirty_cell(&text, 1), "0.000", "nothing sealed:\n{text}");

    let plain = describe(&broker, PLAIN, &metrics_addr.to_string());
    assert!(plain.contains("POLICY      delete"), "{plain}");
    assert!(!plain.contains("DIRTY"), "{plain}");
}
