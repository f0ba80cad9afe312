//! Cross-check with an independent client: after loadgen produces (with every codec), Debian's
//! kcat (librdkafka) reads the topic and sees exactly as many records and value bytes as
//! loadgen says were acknowledged.

mod broker_harness;

use std::process::{Command, Stdio};
use std::time::Duration;

use broker_harness::{loadgen, Broker};

const MESSAGE_BYTES: u64 = 300;

fn kcat_available() -> bool {
    Command::new("kcat")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn kcat_reads_what_loadgen_wrote() {
    if !kcat_available() {
        assert!(
            std::env::var("CI").is_err(),
            "kcat is required under CI (./.ci/test installs it)"
        );
        eprintln!("SKIPPED: kcat not installed");
        return;
    }
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("dir");
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("kcat-cross-check-{codec}");
        let json = dir.path().join(format!("{codec}.json"));
        let (status, stdout, stderr) = loadgen(
            &[
                "produce",
                "--bootstrap",
                &broker.addr,
                "--topic",
                &topic,
                "--acks",
                "1",
                "--partitions",
                "3",
                "--message-bytes",
                &MESSAGE_BYTES.to_string(),
                "--compression",
                codec,
                "--duration-s",
                "1",
                "--warmup-s",
                "0",
                "--rate",
                "3000",
                "--quiet",
                "--json",
                json.to_str().expect("utf-8"),
            ],
            Duration::from_secs(60),
        );
        assert!(
            status.success(),
            "{codec}: {status}\n{stdout}\n{stderr}\nbroker:\n{}",
            broker.log()
        );
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("parse");
        let counts = &report["cells"][0]["produce_counts"];
        let acked = counts["acked_msgs"].as_u64().expect("acked");
        assert!(acked > 1000, "{codec}: acked {acked}");
        assert_eq!(
            counts["sent_msgs"].as_u64(),
            Some(acked),
            "{codec}: everything sent was acked"
        );

        // -e: exit at the end of every partition; one line per record: its value size.
        let out = Command::new("timeout")
            .args([
                "60",
                "kcat",
                "-C",
                "-q",
                "-e",
                "-b",
                &broker.addr,
                "-t",
                &topic,
                "-o",
                "beginning",
                "-f",
                "%S\\n",
            ])
            .output()
            .expect("run kcat");
        assert!(
            out.status.success(),
            "{codec}: kcat failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sizes: Vec<u64> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.trim().parse().expect("size"))
            .collect();
        assert_eq!(sizes.len() as u64, acked, "{codec}: record count");
        assert_eq!(
            sizes.iter().sum::<u64>(),
            acked * MESSAGE_BYTES,
            "{codec}: value bytes"
        );
    }
}
