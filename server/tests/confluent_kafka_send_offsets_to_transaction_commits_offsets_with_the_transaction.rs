//! confluent-kafka's consume-transform-produce step: `send_offsets_to_transaction` in an
//! aborted transaction leaves the group's committed offset untouched, in a committed one it
//! becomes the committed offset, and a read_committed reader of the output sees only the
//! committed transaction's records (`clients/python/txn_send_offsets.py`).

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::kafka::create_topic;
use common::process::run_with_timeout;

const INPUT: &str = "txn-offsets-input";
const OUTPUT: &str = "txn-offsets-output";
const GROUP: &str = "txn-offsets-group";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

#[test]
#[ignore = "needs the transaction coordinator"]
fn send_offsets_to_transaction_commits_offsets_with_the_transaction() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let mut broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    create_topic(&mut conn, INPUT, 1);
    create_topic(&mut conn, OUTPUT, 1);
    let mut command = Command::new(python);
    command
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("txn_send_offsets.py")
        .args(["--bootstrap", &broker.bootstrap()])
        .args(["--input", INPUT, "--output", OUTPUT, "--group", GROUP]);
    let finished = run_with_timeout(&mut command, SCRIPT_TIMEOUT, "txn_send_offsets.py");
    let verified =
        finished.status.success() && finished.stdout.lines().any(|l| l.starts_with("VERIFIED "));
    if !verified {
        broker.fail(&format!(
            "send_offsets_to_transaction failed\n{}",
            finished.transcript()
        ));
    }
    broker.assert_alive();
}
