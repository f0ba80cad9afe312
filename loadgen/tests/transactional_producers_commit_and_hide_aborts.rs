//! `--transactional --abort-every 3`: two transactional producers (each with its own
//! transactional id) write 50-record transactions, commit two of every three and abort the
//! third; the read_committed read-back of `--verify` finds every committed record exactly once
//! and none of the aborted ones, and the report carries the commits and their latency.

mod broker_harness;

use std::time::Duration;

use broker_harness::{loadgen, Broker};

fn count(value: &serde_json::Value, name: &str) -> u64 {
    value[name]
        .as_u64()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
}

#[test]
fn transactional_producers_commit_and_hide_aborts() {
    let broker = Broker::start();
    let out = tempfile::tempdir().expect("out dir");
    let json = out.path().join("produce.json");
    let (status, stdout, stderr) = loadgen(
        &[
            "produce",
            "--bootstrap",
            &broker.addr,
            "--acks",
            "all",
            "--transactional",
            "--transaction-records",
            "50",
            "--abort-every",
            "3",
            "--max-in-flight",
            "5",
            "--producers",
            "2",
            "--partitions",
            "4",
            "--message-bytes",
            "200",
            "--duration-s",
            "2",
            "--warmup-s",
            "0.5",
            "--verify",
            "--quiet",
            "--json",
            json.to_str().expect("utf-8 path"),
        ],
        Duration::from_secs(180),
    );
    assert!(
        status.success(),
        "loadgen failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}\nbroker:\n{}",
        broker.log()
    );
    assert!(stderr.contains("verify: PASS"), "stderr:\n{stderr}");
    assert!(stdout.contains("transactions: "), "stdout:\n{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("read json"))
            .expect("parse json");
    let cell = &report["cells"][0];
    let txn = &cell["transactions"];
    let committed = count(txn, "committed");
    let aborted = count(txn, "aborted");
    assert!(committed > 0, "{txn}");
    assert!(aborted > 0, "{txn}");
    assert_eq!(count(txn, "aborted_after_failure"), 0, "{txn}");
    // Two of every three transactions of each producer commit.
    assert!(committed >= aborted, "{txn}");
    // Full transactions, but for each producer's last one, cut short by the end of the run.
    let committed_msgs = count(txn, "committed_msgs");
    assert!(committed_msgs <= committed * 50, "{txn}");
    assert!(committed_msgs > committed.saturating_sub(2) * 50, "{txn}");
    let latency = &txn["commit_latency"];
    assert!(count(latency, "count") > 0, "{txn}");
    assert!(
        count(latency, "p50_us") <= count(latency, "p99_us"),
        "{txn}"
    );
    assert!(
        txn["committed_throughput"]["msgs_per_s"]
            .as_f64()
            .expect("throughput")
            > 0.0,
        "{txn}"
    );

    let counts = &cell["produce_counts"];
    assert_eq!(count(counts, "failed_msgs"), 0, "{counts}");
    assert_eq!(count(counts, "indeterminate_msgs"), 0, "{counts}");

    let verdict = &cell["verify"];
    assert_eq!(count(verdict, "acked"), committed_msgs, "{verdict}");
    let aborted_msgs = count(verdict, "aborted");
    assert!(aborted_msgs > aborted.saturating_sub(2) * 50, "{verdict}");
    assert!(aborted_msgs <= aborted * 50, "{verdict}");
    for name in [
        "lost",
        "duplicates",
        "aborted_visible",
        "inconsistent_offsets",
        "reordered",
        "unacked_present",
    ] {
        assert_eq!(count(verdict, name), 0, "{name}: {verdict}");
    }
    // Every committed record and nothing else, through read_committed.
    assert_eq!(count(verdict, "observed"), committed_msgs, "{verdict}");
}
