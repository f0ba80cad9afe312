//! `--idempotent`: every producer gets a producer id from the broker, stamps its batches with
//! per-partition sequences, and the broker accepts them all (no OUT_OF_ORDER_SEQUENCE_NUMBER,
//! no error); `--verify` then finds every acked message exactly once, in order. Refused
//! without acks=all.

mod broker_harness;

use std::time::Duration;

use broker_harness::{loadgen, Broker};

#[test]
fn idempotent_producers_verify_without_duplicates() {
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
            "--idempotent",
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
        Duration::from_secs(120),
    );
    assert!(
        status.success(),
        "loadgen failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}\nbroker:\n{}",
        broker.log()
    );
    assert!(stderr.contains("verify: PASS"), "stderr:\n{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("read json"))
            .expect("parse json");
    let counts = &report["cells"][0]["produce_counts"];
    assert!(
        counts["acked_msgs"].as_u64().expect("acked") > 0,
        "{counts}"
    );
    assert_eq!(counts["failed_msgs"].as_u64(), Some(0), "{counts}");
    assert_eq!(counts["retried_batches"].as_u64(), Some(0), "{counts}");
    assert_eq!(
        counts["error_codes"].as_object().map(|codes| codes.len()),
        Some(0),
        "{counts}"
    );

    let (status, _, stderr) = loadgen(
        &[
            "produce",
            "--bootstrap",
            &broker.addr,
            "--acks",
            "1",
            "--idempotent",
            "--quiet",
        ],
        Duration::from_secs(60),
    );
    assert!(
        !status.success(),
        "--idempotent with acks=1 must be refused"
    );
    assert!(stderr.contains("--idempotent needs --acks all"), "{stderr}");
}
