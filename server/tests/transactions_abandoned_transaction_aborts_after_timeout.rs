//! confluent-kafka: a producer opens a transaction, writes, and is killed with -9. After its
//! `transaction.timeout.ms` the coordinator aborts the transaction (bumping the producer's
//! epoch), the partition's last stable offset moves past it, and read_committed consumers
//! read on, never seeing the abandoned records.

mod common;

use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::transactions::{numbered, run, spawn, values};
use common::wait::wait_until;

const TOPIC: &str = "abandoned";
const TXN_TIMEOUT_MS: u64 = 2_000;
const ABORT_CHECK_INTERVAL_MS: u64 = 200;
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const ABORT_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn a_transaction_abandoned_by_a_killed_producer_is_aborted_after_its_timeout() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let config = format!(
        "\"transaction.abort.timed.out.transaction.cleanup.interval.ms\" = {ABORT_CHECK_INTERVAL_MS}\n"
    );
    let broker = Broker::start(BrokerOptions::default().config(&config));
    let mut conn = broker.connect();
    common::kafka::create_topic(&mut conn, TOPIC, 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let ready = dir.path().join("ready");
    let timeout = TXN_TIMEOUT_MS.to_string();
    let ready_arg = ready.to_string_lossy().into_owned();
    let hung = spawn(
        &python,
        &broker.bootstrap(),
        TOPIC,
        "hang",
        &[&timeout, &ready_arg],
    );
    wait_until(
        "the producer to write into its transaction",
        READY_TIMEOUT,
        || std::fs::read_to_string(&ready).is_ok_and(|text| text.contains("written")),
    );
    // kill -9: the producer never ends its transaction.
    drop(hung);
    let plain = common::kafka::produce_values(&mut conn, TOPIC, 0, &["after-0", "after-1"]);
    assert!(
        plain >= 5,
        "plain records go after the abandoned ones, at {plain}"
    );
    let seen = wait_until(
        "read_committed to read past the abandoned transaction",
        ABORT_TIMEOUT,
        || {
            let answer = run(
                &python,
                &broker.bootstrap(),
                TOPIC,
                "read",
                &["1", "read_committed"],
                |why| broker.fail(why),
            );
            let seen = values(&answer, "values");
            (!seen.is_empty()).then_some(seen)
        },
    );
    assert_eq!(
        seen,
        numbered("after", 2),
        "only the records after the aborted transaction"
    );
    let uncommitted = run(
        &python,
        &broker.bootstrap(),
        TOPIC,
        "read",
        &["1", "read_uncommitted"],
        |why| broker.fail(why),
    );
    let mut all = numbered("abandoned", 5);
    all.extend(numbered("after", 2));
    assert_eq!(values(&uncommitted, "values"), all);
}
