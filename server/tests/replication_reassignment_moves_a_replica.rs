//! Moving a replica with `sluice topic reassign` on three brokers: a partition with
//! replication factor 2 moves from two brokers to the third and one of them, its leader
//! included, while kcat writes with acks=all before, during and after. The new replica copies
//! the log, joins the ISR, and only then does the old one leave (and delete its log); the new
//! replicas are byte-identical below the high watermark, and kcat reads every acknowledged
//! message back once, in order.

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::BrokerOptions;
use common::clients;
use common::cluster::{Cluster, PartitionView};
use common::kafka::create_replicated_topic;
use common::process::run_with_timeout;
use common::replicas::{assert_replicas_identical, replication_toml, REJOIN_TIMEOUT};
use common::wait::wait_until;

const BROKERS: usize = 3;
const TOPIC: &str = "moving";
const REPLICA_LAG_MS: u64 = 3_000;
const MESSAGES_PER_ROUND: usize = 2_000;
const CLI_TIMEOUT: Duration = Duration::from_secs(30);
const KCAT_TIMEOUT: Duration = Duration::from_secs(60);
const MOVE_TIMEOUT: Duration = Duration::from_secs(60);

fn sluice(cluster: &Cluster, args: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sluice"));
    command
        .args(args)
        .args(["--bootstrap", &cluster.brokers[0].bootstrap()]);
    let run = run_with_timeout(&mut command, CLI_TIMEOUT, "sluice topic reassign");
    assert!(
        run.status.success(),
        "sluice {args:?}: {}",
        run.transcript()
    );
    run.stdout
}

/// Writes `round`'s messages with acks=all through kcat; all must be delivered.
fn produce(kcat: &std::path::Path, cluster: &Cluster, round: usize) {
    let lines: String = (0..MESSAGES_PER_ROUND)
        .map(|i| format!("round{round}-{i:05}\n"))
        .collect();
    let file = tempfile::NamedTempFile::new().expect("a temp file for kcat");
    std::fs::write(file.path(), lines).expect("write the messages");
    let mut command = Command::new(kcat);
    command
        .args(["-P", "-b", &cluster.bootstrap(), "-t", TOPIC, "-p", "0"])
        .args(["-X", "acks=all", "-X", "message.send.max.retries=20"])
        .arg("-l")
        .arg(file.path());
    let run = run_with_timeout(&mut command, KCAT_TIMEOUT, "kcat -P");
    assert!(run.status.success(), "kcat -P: {}", run.transcript());
}

fn consume_all(kcat: &std::path::Path, cluster: &Cluster) -> Vec<String> {
    let mut command = Command::new(kcat);
    command.args([
        "-C",
        "-b",
        &cluster.bootstrap(),
        "-t",
        TOPIC,
        "-p",
        "0",
        "-o",
        "beginning",
        "-e",
        "-q",
    ]);
    let run = run_with_timeout(&mut command, KCAT_TIMEOUT, "kcat -C");
    assert!(run.status.success(), "kcat -C: {}", run.transcript());
    run.stdout.lines().map(str::to_string).collect()
}

#[test]
fn a_reassigned_replica_catches_up_joins_the_isr_and_the_old_one_leaves() {
    let Some(kcat) = clients::kcat() else {
        return;
    };
    let options = BrokerOptions::default().config(&replication_toml(REPLICA_LAG_MS));
    let cluster = Cluster::start(BROKERS, options);
    let mut conn = cluster.brokers[0].connect();
    create_replicated_topic(&mut conn, TOPIC, 1, 2, &[("min.insync.replicas", "1")]);
    let before = cluster.wait_for_full_isr(0, TOPIC, 1, REJOIN_TIMEOUT)[0].clone();
    assert_eq!(before.replicas.len(), 2, "{before:?}");
    produce(&kcat, &cluster, 0);

    // The broker without a replica takes the leader's place; the follower stays.
    let newcomer = *cluster
        .node_ids
        .iter()
        .find(|id| !before.replicas.contains(id))
        .expect("a broker without a replica");
    let stayer = *before
        .replicas
        .iter()
        .find(|id| **id != before.leader)
        .expect("a follower");
    let target = vec![newcomer, stayer];
    let target_text = format!("{newcomer},{stayer}");
    sluice(
        &cluster,
        &[
            "topic",
            "reassign",
            "--topic",
            TOPIC,
            "--partition",
            "0",
            "--replicas",
            &target_text,
        ],
    );
    produce(&kcat, &cluster, 1);
    let done = |views: &[PartitionView]| {
        views.len() == 1
            && views[0].replicas == target
            && views[0].fully_in_sync()
            && views[0].leader == newcomer
    };
    cluster.wait_for_partitions(0, TOPIC, "the reassignment to complete", MOVE_TIMEOUT, done);
    let listed = sluice(&cluster, &["topic", "reassign", "--list"]);
    assert!(
        !listed.contains(TOPIC),
        "no move left in progress: {listed}"
    );
    produce(&kcat, &cluster, 2);

    let old = &cluster.brokers[cluster.index_of(before.leader)];
    let old_dir = old.data_dir().join(format!("{TOPIC}-0"));
    wait_until("the old replica to delete its log", MOVE_TIMEOUT, || {
        (!old_dir.exists()).then_some(())
    });
    assert_replicas_identical(&cluster, 0, TOPIC, 1);
    let read = consume_all(&kcat, &cluster);
    let expected: Vec<String> = (0..3)
        .flat_map(|round| (0..MESSAGES_PER_ROUND).map(move |i| format!("round{round}-{i:05}")))
        .collect();
    assert_eq!(
        read.len(),
        expected.len(),
        "every acknowledged message, once"
    );
    assert_eq!(read, expected, "in the order written");
}
