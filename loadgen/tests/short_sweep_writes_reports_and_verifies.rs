//! A short sweep (2 cells, 2 s each, with the loopback baseline) against a real broker writes
//! the JSON, the Markdown report and the plots, with every cell as a ratio to the baseline, and
//! `--verify` finds every acked message exactly once, in order.

mod broker_harness;

use std::time::Duration;

use broker_harness::{loadgen, Broker};

#[test]
fn short_sweep_writes_reports_and_verifies() {
    let broker = Broker::start();
    let out = tempfile::tempdir().expect("out dir");
    let json = out.path().join("sweep.json");
    let report_dir = out.path().join("report");
    let (status, stdout, stderr) = loadgen(
        &[
            "sweep",
            "--bootstrap",
            &broker.addr,
            "--acks",
            "1,all",
            "--partitions",
            "3",
            "--message-bytes",
            "200",
            "--duration-s",
            "2",
            "--warmup-s",
            "0.5",
            "--verify",
            "--baseline-net",
            "--baseline-net-s",
            "0.3",
            "--quiet",
            "--json",
            json.to_str().expect("utf-8 path"),
            "--out-dir",
            report_dir.to_str().expect("utf-8 path"),
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
    assert_eq!(report["verify_ok"], serde_json::Value::Bool(true));
    let net_mb_per_s = report["net_baseline"]["mb_per_s"]
        .as_f64()
        .expect("net baseline");
    assert!(net_mb_per_s > 0.0);
    let cells = report["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 2);
    for cell in cells {
        assert!(
            cell["produce"]["msgs"].as_u64().expect("msgs") > 0,
            "cell {cell}"
        );
        assert!(cell["produce"]["mb_per_s"].as_f64().expect("mb/s") > 0.0);
        assert!(cell["produce_latency"]["p99_us"].as_u64().expect("p99") > 0);
        let verdict = &cell["verify"];
        assert_eq!(verdict["lost"], 0, "cell {cell}");
        assert_eq!(verdict["duplicates"], 0);
        assert!(verdict["acked"].as_u64().expect("acked") > 0);
        assert!(verdict["observed"].as_u64() >= verdict["acked"].as_u64());
        // Without a disk baseline the limit is the network's.
        let net_ratio = cell["net_ratio"].as_f64().expect("net ratio");
        let expected = cell["produce"]["mb_per_s"].as_f64().expect("mb/s") / net_mb_per_s;
        assert!((net_ratio - expected).abs() < 1e-9, "cell {cell}");
        assert_eq!(cell["limit_ratio"], cell["net_ratio"]);
        assert!(cell["disk_ratio"].is_null());
    }
    assert_eq!(report["config"]["acks"], "1,all");

    for file in [
        "report.md",
        "results.json",
        "throughput.svg",
        "latency-acks-1.svg",
        "latency-acks-all.svg",
    ] {
        let path = report_dir.join(file);
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(len > 200, "{} missing or empty", path.display());
    }
    let svg = std::fs::read_to_string(report_dir.join("latency-acks-1.svg")).expect("svg");
    assert!(
        svg.contains("<svg") && svg.contains("polyline"),
        "spectrum plot has a line"
    );
    assert!(
        stdout.contains("p99.99") && stdout.contains("net×"),
        "terminal table printed:\n{stdout}"
    );
    let markdown = std::fs::read_to_string(report_dir.join("report.md")).expect("report.md");
    assert!(
        markdown.contains("Network baseline (same run)"),
        "{markdown}"
    );
}
