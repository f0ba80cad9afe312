//! confluent-kafka (zstd) writes keyed overwrites to a compacted topic;
//! after the broker's cleaner has run (its metrics say so), a consumer from the beginning sees
//! exactly one record per key in the sealed segments, each at the offset its delivery report
//! gave and with the last value written for that key.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::metrics::{listen_config, scrape, total};
use common::process::{run_with_timeout, Finished};
use common::records::now_ms;
use common::wait::wait_until;

const TOPIC: &str = "changelog";
const ROUNDS: usize = 20;
const KEYS: usize = 50;
const SEGMENT_MS: i64 = 100;
const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);
const CLEANER_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
struct Record {
    offset: i64,
    key: String,
    value: Option<String>,
}

fn script(python: &Path, broker: &Broker, args: &[&str]) -> Finished {
    let mut command = Command::new(python);
    command
        .arg(clients::python_scripts_dir().join("compacted_overwrites.py"))
        .arg(args[0])
        .arg(broker.bootstrap())
        .arg(TOPIC)
        .args(&args[1..]);
    let finished = run_with_timeout(&mut command, CLIENT_TIMEOUT, args[0]);
    if !finished.status.success() {
        broker.fail(&format!(
            "compacted_overwrites.py {args:?}\n{}",
            finished.transcript()
        ));
    }
    finished
}

fn records(finished: &Finished) -> Vec<Record> {
    finished
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON record line"))
        .collect()
}

#[test]
fn a_consumer_sees_one_record_per_key_at_its_original_offset() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let (metrics_addr, metrics_toml) = listen_config();
    let config = format!("{metrics_toml}\"log.cleaner.backoff.ms\" = 20\n");
    let mut broker = Broker::start(BrokerOptions::default().config(&config));
    let mut conn = broker.connect();
    common::kafka::create_topic_with_configs(
        &mut conn,
        TOPIC,
        1,
        &[
            ("cleanup.policy", "compact"),
            ("min.cleanable.dirty.ratio", "0.01"),
            ("segment.ms", &SEGMENT_MS.to_string()),
        ],
    );
    let rounds = ROUNDS.to_string();
    let keys = KEYS.to_string();
    let written = records(&script(
        &python,
        &broker,
        &["produce", &rounds, &keys, "zstd"],
    ));
    assert_eq!(
        written.len(),
        ROUNDS * KEYS,
        "every overwrite was delivered"
    );
    let sealed_at = now_ms() + SEGMENT_MS;
    wait_until("the segment to age past segment.ms", CLIENT_TIMEOUT, || {
        now_ms() > sealed_at
    });
    script(&python, &broker, &["roll"]);
    wait_until(
        "the cleaner to clean the sealed segments",
        CLEANER_TIMEOUT,
        || {
            let (_, text) = scrape(metrics_addr);
            let passes = total(&text, "sluice_log_cleaner_passes_total").unwrap_or(0.0);
            let ratio = text
                .lines()
                .filter(|l| l.starts_with("sluice_log_cleaner_dirty_ratio{"))
                .find(|l| l.contains(&format!("topic=\"{TOPIC}\"")))
                .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok());
            passes >= 1.0 && ratio == Some(0.0)
        },
    );

    let mut latest: BTreeMap<String, &Record> = BTreeMap::new();
    for record in &written {
        latest.insert(record.key.clone(), record);
    }
    let consumed = records(&script(&python, &broker, &["consume"]));
    let sealed: Vec<&Record> = consumed.iter().filter(|r| r.key != "roll").collect();
    assert_eq!(sealed.len(), KEYS, "one record per key: {consumed:?}");
    for record in sealed {
        let expected = latest[&record.key];
        assert_eq!(
            record, expected,
            "the latest value of {} at its offset",
            record.key
        );
    }
    assert_eq!(consumed.last().map(|r| r.key.as_str()), Some("roll"));
    broker.assert_alive();
}
