//! kafkajs consumer group: two members split a 6-partition topic, read every message exactly
//! once with a commit after each, the committed offsets reach the log end, and the group is
//! Empty after both leave. The checks live in `clients/node/group_kafkajs.js`.

mod common;
mod group_support;

use std::process::Command;

use common::clients;
use common::process::run_with_timeout;

#[test]
fn group_kafkajs_members_split_and_commit() {
    let Some(kafkajs) = clients::kafkajs() else {
        return;
    };
    let mut broker = group_support::start_broker(2);
    let mut command = Command::new(&kafkajs.node);
    command
        .current_dir(&kafkajs.dir)
        .env("KAFKAJS_NO_PARTITIONER_WARNING", "1")
        .arg("group_kafkajs.js")
        .args(["--bootstrap", &broker.bootstrap()]);
    let finished = run_with_timeout(
        &mut command,
        group_support::SCENARIO_TIMEOUT,
        "kafkajs group",
    );
    let verified = finished.status.success()
        && finished
            .stdout
            .lines()
            .any(|l| l.starts_with("VERIFIED group kafkajs"));
    if !verified {
        broker.fail(&format!("kafkajs group failed\n{}", finished.transcript()));
    }
    eprintln!("{}", finished.stdout);
    broker.assert_alive();
}
