//! The admin CLI round trip against the real broker, through the `sluice` binary as an
//! operator runs it: create a topic, alter `retention.ms`, describe it and see the new value,
//! list it, refuse a duplicate readably, delete it, and show the cluster. Then a consumer
//! group's committed offsets show up in `group list` and as lag in `group describe`.

mod common;

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::OffsetCommitRequest;
use kafka_protocol::protocol::StrBytes;

use common::broker::{Broker, BrokerOptions};
use common::kafka::error_code::ResponseError;
use common::kafka::{create_topic, produce, topic_name};
use common::process::{run_with_timeout, Finished};
use common::records::{encode_batch, TestRecord};
use common::wait::wait_until;
use common::wire::KafkaConnection;

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

/// COORDINATOR_LOAD_IN_PROGRESS: retriable while the broker loads `__consumer_offsets`.
const COORDINATOR_LOAD_IN_PROGRESS: i16 = ResponseError::CoordinatorLoadInProgress.code();
/// How long the coordinator may take to load `__consumer_offsets`.
const COORDINATOR_LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Commits `offset` for partition 0 of `topic` as a standalone (group-less) consumer would,
/// retrying while the coordinator is still loading.
fn commit(conn: &mut KafkaConnection, group: &str, topic: &str, offset: i64) {
    let version = conn.version_for::<OffsetCommitRequest>(2, 8);
    let mut partition = OffsetCommitRequestPartition::default();
    partition.partition_index = 0;
    partition.committed_offset = offset;
    let mut entry = OffsetCommitRequestTopic::default();
    entry.name = topic_name(topic);
    entry.partitions = vec![partition];
    let mut request = OffsetCommitRequest::default();
    request.group_id = StrBytes::from_string(group.to_string()).into();
    request.generation_id_or_member_epoch = -1;
    request.topics = vec![entry];
    wait_until(
        "the coordinator to load and take a commit",
        COORDINATOR_LOAD_TIMEOUT,
        || {
            let response = conn.request(version, &request);
            match response.topics[0].partitions[0].error_code {
                0 => true,
                COORDINATOR_LOAD_IN_PROGRESS => false,
                code => panic!("OffsetCommit error {code}"),
            }
        },
    );
}

#[test]
fn group_describe_shows_committed_offsets_and_lag() {
    const GROUP: &str = "admin-lag";
    let broker = Broker::start(BrokerOptions::default());
    let mut conn = broker.connect();
    create_topic(&mut conn, "lagging", 1);
    let records: Vec<TestRecord> = (0..5)
        .map(|i| TestRecord {
            key: Bytes::from(format!("k{i}")),
            value: Bytes::from(format!("v{i}")),
            timestamp_ms: 1_700_000_000_000 + i,
        })
        .collect();
    let produced = produce(&mut conn, "lagging", 0, encode_batch(&records), -1);
    assert_eq!(produced.error_code, 0, "produce");
    commit(&mut conn, GROUP, "lagging", 3);

    let listed = succeeds(&broker, &["group", "list"]);
    assert!(row(&listed, GROUP).is_some(), "{listed}");
    let described = succeeds(&broker, &["group", "describe", GROUP]);
    let lag_row = row(&described, "lagging");
    assert_eq!(
        lag_row.as_deref().map(|cells| &cells[1..5]),
        Some(&["0", "3", "5", "2"].map(String::from)[..]),
        "partition, committed, log end, lag:\n{described}"
    );
    fails_with(
        &broker,
        &["group", "describe", "no-such-group"],
        "does not exist",
    );
}
