//! kafka-python 3.x with its default producer settings (idempotence on) and a
//! `transactional_id`: commit, abort, commit. A read_committed consumer reads exactly the
//! committed records up to the last stable offset; a read_uncommitted one reads every data
//! record (the aborted ones too), and neither sees a marker.

mod common;

use std::process::Command;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::process::run_with_timeout;
use common::transactions::{numbered, values, SCENARIO_TIMEOUT};

const TOPIC: &str = "kafka-python-txn";
const PARTITIONS: i32 = 2;
const RECORDS: usize = 30;

#[test]
fn kafka_python_transactions_commit_abort_commit() {
    let Some(python) = clients::python_with("kafka") else {
        return;
    };
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    common::kafka::create_topic(&mut conn, TOPIC, PARTITIONS);
    let mut command = Command::new(&python);
    command
        .arg(clients::python_scripts_dir().join("kafka_python_transactions.py"))
        .arg(broker.bootstrap())
        .arg(TOPIC)
        .arg(PARTITIONS.to_string());
    let finished = run_with_timeout(&mut command, SCENARIO_TIMEOUT, "kafka-python transactions");
    if !finished.status.success() {
        broker.fail(&format!(
            "kafka-python transactions\n{}",
            finished.transcript()
        ));
    }
    let last = finished.stdout.lines().last().unwrap_or_default();
    let answer: serde_json::Value = serde_json::from_str(last).expect("a JSON answer");
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let mut committed = numbered("first", RECORDS);
    committed.extend(numbered("second", RECORDS));
    let mut everything = committed.clone();
    everything.extend(numbered("aborted", RECORDS));
    assert_eq!(sorted(values(&answer, "committed")), sorted(committed));
    assert_eq!(sorted(values(&answer, "uncommitted")), sorted(everything));
}
