//! One client's pipelined produce requests on two shards (issue 16). The connection's shard
//! appends its own partitions and queues the other shard's appends on that shard's channel,
//! then reads the next request before the answers come back; this checks that the client's
//! batches still land exactly once and in order in every partition:
//! - acks=1, 8 requests in flight, `--verify` (every acknowledged message read back once, in
//!   order per partition, with its value);
//! - idempotent acks=all, 5 in flight: the owner checks each producer's sequence numbers, so
//!   a batch appended out of request order would be refused (OUT_OF_ORDER_SEQUENCE_NUMBER).

mod common;

use std::path::Path;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::loadgen::{loadgen_or_skip, spawn_loadgen};

const PARTITIONS: &str = "16";
const DURATION_S: &str = "2";
/// A produce run of a few seconds plus its read-back; more is a hang.
const LOADGEN_TIMEOUT: Duration = Duration::from_secs(120);

fn produce(loadgen: &Path, broker: &Broker, dir: &Path, name: &str, extra: &[&str]) {
    let json = dir.join(format!("{name}.json"));
    let log = dir.join(format!("{name}.log"));
    let mut args: Vec<String> = [
        "produce",
        "--bootstrap",
        &broker.bootstrap(),
        "--topic",
        name,
        "--partitions",
        PARTITIONS,
        "--message-bytes",
        "1024",
        "--warmup-s",
        "0",
        "--duration-s",
        DURATION_S,
        "--quiet",
        "--verify",
        "--json",
        json.to_str().expect("utf-8 path"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let status = spawn_loadgen(loadgen, &args, &log).wait(LOADGEN_TIMEOUT, "loadgen produce");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let report: serde_json::Value = std::fs::read_to_string(&json)
        .ok()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_else(|| panic!("{name}: loadgen ({status}) wrote no report\n{text}"));
    let cell = &report["cells"][0];
    let acked = cell["produce_counts"]["acked_msgs"].as_u64().unwrap_or(0);
    let failed = cell["produce_counts"]["failed_msgs"].as_u64();
    assert!(acked > 0, "{name}: nothing acknowledged: {cell}\n{text}");
    assert_eq!(failed, Some(0), "{name}: refused batches: {cell}\n{text}");
    assert_eq!(
        report["verify_ok"].as_bool(),
        Some(true),
        "{name}: verify failed: {}\n{text}",
        cell["verify"]
    );
}

#[test]
fn a_pipelined_producer_keeps_its_order_across_two_shards() {
    let Some(loadgen) = loadgen_or_skip() else {
        return;
    };
    let broker = Broker::start(BrokerOptions::default().cores(2));
    let dir = tempfile::tempdir().expect("temp dir");
    produce(
        &loadgen,
        &broker,
        dir.path(),
        "pipelined-acks1",
        &["--acks", "1", "--max-in-flight", "8"],
    );
    produce(
        &loadgen,
        &broker,
        dir.path(),
        "pipelined-idempotent",
        &["--acks", "all", "--idempotent", "--max-in-flight", "5"],
    );
}
