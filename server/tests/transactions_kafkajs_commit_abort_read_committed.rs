//! kafkajs transactions: a transactional producer commits, aborts and commits again; a
//! read_committed consumer group (kafkajs's default) sees exactly the committed messages,
//! each once, and a read_uncommitted group sees the aborted ones too. The checks live in
//! `clients/node/transactions_kafkajs.js`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::process::run_with_timeout;

const SCENARIO_TIMEOUT: Duration = Duration::from_secs(240);

#[test]
fn kafkajs_transactions_commit_abort_and_read_committed() {
    let Some(kafkajs) = clients::kafkajs() else {
        return;
    };
    let mut broker = Broker::start(BrokerOptions::default());
    let mut command = Command::new(&kafkajs.node);
    command
        .current_dir(&kafkajs.dir)
        .env("KAFKAJS_NO_PARTITIONER_WARNING", "1")
        .arg("transactions_kafkajs.js")
        .args(["--bootstrap", &broker.bootstrap()]);
    let finished = run_with_timeout(&mut command, SCENARIO_TIMEOUT, "kafkajs transactions");
    let verified = finished.status.success()
        && finished
            .stdout
            .lines()
            .any(|l| l.starts_with("VERIFIED transactions kafkajs"));
    if !verified {
        broker.fail(&format!(
            "kafkajs transactions failed\n{}",
            finished.transcript()
        ));
    }
    eprintln!("{}", finished.stdout);
    broker.assert_alive();
}
