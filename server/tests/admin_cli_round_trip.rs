//! The admin CLI round trip against the real broker, through the `sluice` binary as an
//! operator runs it: create a topic, alter `retention.ms`, describe it and see the new value,
//! list it, refuse a duplicate readably, delete it, and show the cluster.

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::process::{run_with_timeout, Finished};

const CLI_TIMEOUT: Duration = Duration::from_secs(30);
const TOPIC: &str = "admin-round-trip";

/// Runs `sluice ARGS --bootstrap <broker>`.
fn sluice(broker: &Broker, args: &[&str]) -> Finished {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .args(args)
        .args(["--bootstrap", &broker.bootstrap()]);
    run_with_timeout(
        &mut command,
        CLI_TIMEOUT,
        &format!("sluice {}", args.join(" ")),
    )
}

fn succeeds(broker: &Broker, args: &[&str]) -> String {
    let run = sluice(broker, args);
    if !run.status.success() {
        if run.stderr.contains("unrecognized subcommand") {
            panic!("`sluice {}` is not wired into server/src/main.rs yet (see server/src/admin/mod.rs)", args[0]);
        }
        broker.fail(&format!(
            "sluice {} failed:\n{}",
            args.join(" "),
            run.transcript()
        ));
    }
    run.stdout
}

fn fails_with(broker: &Broker, args: &[&str], error_name: &str) {
    let run = sluice(broker, args);
    if run.status.success() || !run.stderr.contains(error_name) {
        broker.fail(&format!(
            "sluice {} should fail with {error_name}:\n{}",
            args.join(" "),
            run.transcript()
        ));
    }
}

/// The whitespace-separated cells of the first line whose first cell is `key`.
fn row(table: &str, key: &str) -> Option<Vec<String>> {
    table
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .find(|cells| cells.first().map(String::as_str) == Some(key))
}

#[test]
fn admin_cli_round_trip() {
    let broker = Broker::start(BrokerOptions::default());

    let created = succeeds(
        &broker,
        &[
            "topic",
            "create",
            TOPIC,
            "--partitions",
            "3",
            "--config",
            "retention.ms=86400000",
        ],
    );
    assert!(created.contains("created topic"), "{created}");
    succeeds(
        &broker,
        &["topic", "alter-config", TOPIC, "--set", "retention.ms=1234"],
    );

    let described = succeeds(&broker, &["topic", "describe", TOPIC]);
    let retention = row(&described, "retention.ms");
    assert_eq!(
        retention.as_deref().map(|cells| &cells[1..]),
        Some(&["1234".to_string(), "DYNAMIC_TOPIC_CONFIG".to_string()][..]),
        "{described}"
    );
    for partition in ["0", "1", "2"] {
        assert!(
            row(&described, partition).is_some(),
            "partition {partition} missing:\n{described}"
        );
    }

    let listed = succeeds(&broker, &["topic", "list"]);
    assert_eq!(
        row(&listed, TOPIC).map(|cells| cells[1].clone()).as_deref(),
        Some("3"),
        "{listed}"
    );

    fails_with(
        &broker,
        &["topic", "create", TOPIC, "--partitions", "1"],
        "TOPIC_ALREADY_EXISTS (36)",
    );

    succeeds(&broker, &["topic", "delete", TOPIC]);
    let listed = succeeds(&broker, &["topic", "list"]);
    assert!(
        row(&listed, TOPIC).is_none(),
        "deleted topic still listed:\n{listed}"
    );
    fails_with(
        &broker,
        &["topic", "describe", TOPIC],
        "UNKNOWN_TOPIC_OR_PARTITION (3)",
    );

    let cluster = succeeds(&broker, &["cluster", "info"]);
    let port = broker.addr().port().to_string();
    assert!(
        cluster
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some(port.as_str())),
        "{cluster}"
    );
}
