//! `sluice txn list|describe` and `sluice producers describe` while a confluent-kafka
//! transactional producer holds a transaction open (transactions.py, mode `hang`): the list
//! shows its transactional id as Ongoing with its producer id, the filters select it, the
//! describe shows its state, timeout, start time and partition, and the partition's producer
//! shows the transaction's first offset. An unknown transactional id is refused.

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients::python_with;
use common::kafka;
use common::process::run_with_timeout;
use common::wait::wait_until;

const TOPIC: &str = "held";
const TXN_TIMEOUT_MS: &str = "60000";
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
const OPEN_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs `sluice ARGS --bootstrap B`; (success, stdout, transcript).
fn sluice(bootstrap: &str, args: &[&str]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command.args(args).args(["--bootstrap", bootstrap]);
    let finished = run_with_timeout(&mut command, CLI_TIMEOUT, &format!("sluice {args:?}"));
    (
        finished.status.success(),
        finished.stdout.clone(),
        finished.transcript(),
    )
}

/// The rows of a table under its header line, split on whitespace.
fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// `NAME   value` from `txn describe`'s key-value lines.
fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

#[test]
fn txn_cli_shows_an_open_transaction() {
    let Some(python) = python_with("confluent_kafka") else {
        return;
    };
    let broker = Broker::start(BrokerOptions::default());
    let bootstrap = broker.bootstrap();
    kafka::create_topic(&mut broker.connect(), TOPIC, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let ready = dir.path().join("ready");
    let ready_arg = ready.to_string_lossy().into_owned();
    let _producer = common::transactions::spawn(
        &python,
        &bootstrap,
        TOPIC,
        "hang",
        &[TXN_TIMEOUT_MS, &ready_arg],
    );
    wait_until(
        "the transaction to be open and written",
        OPEN_TIMEOUT,
        || std::fs::read_to_string(&ready).is_ok_and(|text| text.contains("written")),
    );

    let (ok, listed, transcript) = sluice(&bootstrap, &["txn", "list"]);
    assert!(ok, "{transcript}");
    assert!(listed.starts_with("TRANSACTIONAL-ID"), "{listed}");
    let row = rows(&listed)
        .into_iter()
        .find(|r| r[0].starts_with("hang-"))
        .unwrap_or_else(|| panic!("the open transaction is not listed:\n{listed}"));
    let (id, producer_id) = (row[0].clone(), row[2].clone());
    assert_eq!(row[3], "Ongoing", "{listed}");

    let (ok, ongoing, transcript) = sluice(&bootstrap, &["txn", "list", "--state", "Ongoing"]);
    assert!(ok, "{transcript}");
    assert!(ongoing.contains(&id), "{ongoing}");
    let (ok, done, transcript) = sluice(&bootstrap, &["txn", "list", "--state", "CompleteCommit"]);
    assert!(ok, "{transcript}");
    assert!(!done.contains(&id), "{done}");
    let (ok, by_pid, transcript) =
        sluice(&bootstrap, &["txn", "list", "--producer-id", &producer_id]);
    assert!(ok, "{transcript}");
    assert_eq!(rows(&by_pid).len(), 1, "{by_pid}");
    let (ok, _, transcript) = sluice(&bootstrap, &["txn", "list", "--state", "Running"]);
    assert!(!ok, "an unknown state is refused:\n{transcript}");

    let (ok, described, transcript) = sluice(&bootstrap, &["txn", "describe", &id]);
    assert!(ok, "{transcript}");
    assert_eq!(field(&described, "STATE"), "Ongoing", "{described}");
    assert_eq!(field(&described, "PRODUCER-ID"), producer_id, "{described}");
    assert_eq!(
        field(&described, "TIMEOUT-MS"),
        TXN_TIMEOUT_MS,
        "{described}"
    );
    let started: i64 = field(&described, "START-TIME-MS")
        .parse()
        .unwrap_or_else(|_| panic!("a start time:\n{described}"));
    assert!(started > 0, "{described}");
    assert!(
        described
            .lines()
            .any(|l| l.split_whitespace().eq([TOPIC, "0"])),
        "{described}"
    );

    // The open transaction started at offset 0 of the partition, and holds it back.
    let (ok, producers, transcript) = sluice(&bootstrap, &["producers", "describe", TOPIC, "0"]);
    assert!(ok, "{transcript}");
    let row = rows(&producers)
        .into_iter()
        .find(|r| r[0] == producer_id)
        .unwrap_or_else(|| panic!("producer {producer_id} not described:\n{producers}"));
    assert_eq!(row.last().map(String::as_str), Some("0"), "{producers}");

    let (ok, _, transcript) = sluice(&bootstrap, &["txn", "describe", "no-such-transactional-id"]);
    assert!(!ok, "an unknown transactional id is refused:\n{transcript}");
    assert!(
        transcript.contains("TRANSACTIONAL_ID_NOT_FOUND"),
        "{transcript}"
    );
}
