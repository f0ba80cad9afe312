//! The crash-loop building block: two produce runs persist their acked histories, and the
//! `verify` subcommand checks the topic against both files at once.

mod broker_harness;

use std::time::Duration;

use broker_harness::{loadgen, Broker};

#[test]
fn history_files_verify_across_runs() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("dir");
    let topic = "history-check";
    let mut histories = Vec::new();
    for run in 0..2 {
        let history = dir.path().join(format!("run-{run}.history"));
        let (status, stdout, stderr) = loadgen(
            &[
                "produce",
                "--bootstrap",
                &broker.addr,
                "--topic",
                topic,
                "--acks",
                "all",
                "--partitions",
                "2",
                "--message-bytes",
                "64",
                "--duration-s",
                "1",
                "--warmup-s",
                "0",
                "--rate",
                "2000",
                "--keyed",
                "--quiet",
                "--history-out",
                history.to_str().expect("utf-8"),
            ],
            Duration::from_secs(60),
        );
        assert!(
            status.success(),
            "run {run}: {status}\n{stdout}\n{stderr}\nbroker:\n{}",
            broker.log()
        );
        histories.push(history.to_str().expect("utf-8").to_string());
    }
    let joined = histories.join(",");
    let (status, stdout, stderr) = loadgen(
        &[
            "verify",
            "--bootstrap",
            &broker.addr,
            "--topic",
            topic,
            "--history",
            &joined,
        ],
        Duration::from_secs(60),
    );
    assert!(
        status.success(),
        "verify failed: {status}\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("PASS"), "{stdout}");
    // Both runs' messages are accounted for: roughly 2 × 2000 acked.
    let acked: u64 = stdout
        .split("acked ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("acked count in the verdict");
    assert!(acked >= 2 * 1500, "acked {acked}: {stdout}");

    // A history whose messages are not in the topic must fail: forge one acked batch.
    let forged = dir.path().join("forged.history");
    std::fs::write(
        &forged,
        format!("# sluice-loadgen history v1 topic={topic}\n0 42 0 5 -\n"),
    )
    .expect("write");
    let (status, stdout, _) = loadgen(
        &[
            "verify",
            "--bootstrap",
            &broker.addr,
            "--topic",
            topic,
            "--history",
            forged.to_str().expect("utf-8"),
        ],
        Duration::from_secs(60),
    );
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("lost 5"), "{stdout}");
}
