//! A confluent-kafka (librdkafka) producer streaming numbered records while a test breaks the
//! cluster (`clients/python/idempotent_stream_across_kills.py`), and the check that every
//! record it was told was delivered is read back at its delivered offset (kcat reads the
//! topic up to the high watermark).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::clients;
use super::process::{run_with_timeout, ChildGuard};
use super::wait::wait_until;

/// How long a stream may take to finish after its producing time (its final flush included).
pub const FINISH_TIMEOUT: Duration = Duration::from_secs(180);
const KCAT_TIMEOUT: Duration = Duration::from_secs(120);

/// librdkafka's `enable.idempotence` for the stream.
#[derive(Clone, Copy, Debug)]
pub enum Idempotence {
    /// Not set: librdkafka's default (false), with acks=all.
    Default,
    Enabled,
}

/// A running producer; killed if the test fails first.
pub struct ConfluentStream {
    child: ChildGuard,
    acked_path: PathBuf,
    summary_path: PathBuf,
    log_path: PathBuf,
}

/// What a finished stream reported.
pub struct StreamReport {
    pub summary: String,
    pub log: String,
    /// (partition, offset, value) of every delivery report without error.
    pub acked: Vec<(i32, i64, String)>,
}

/// "partition offset value" lines; a line cut short by a racing reader is skipped.
pub fn parse_lines(text: &str) -> Vec<(i32, i64, String)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ' ');
            let partition = fields.next()?.parse().ok()?;
            let offset = fields.next()?.parse().ok()?;
            Some((partition, offset, fields.next()?.to_string()))
        })
        .collect()
}

/// `name=N` from the stream's summary line.
pub fn summary_count(summary: &str, name: &str) -> u64 {
    summary
        .split_whitespace()
        .find_map(|field| field.strip_prefix(&format!("{name}=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name}= in the client summary: {summary}"))
}

impl ConfluentStream {
    /// Starts streaming to `partitions` partitions of `topic` for `seconds`; its files are
    /// `<files>.acked`, `.summary` and `.log`.
    pub fn start(
        python: &Path,
        files: &Path,
        bootstrap: &str,
        topic: &str,
        partitions: i32,
        seconds: f64,
        idempotence: Idempotence,
    ) -> ConfluentStream {
        let file = |suffix: &str| {
            let mut name = files.as_os_str().to_os_string();
            name.push(suffix);
            PathBuf::from(name)
        };
        let acked_path = file(".acked");
        let summary_path = file(".summary");
        let log_path = file(".log");
        let summary = std::fs::File::create(&summary_path).expect("client summary file");
        let log = std::fs::File::create(&log_path).expect("client log file");
        let idempotence = match idempotence {
            Idempotence::Default => "default",
            Idempotence::Enabled => "true",
        };
        let child = Command::new(python)
            .current_dir(clients::python_scripts_dir())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .arg("idempotent_stream_across_kills.py")
            .args(["--bootstrap", bootstrap, "--topic", topic])
            .args(["--partitions", &partitions.to_string()])
            .args(["--seconds", &seconds.to_string()])
            .args(["--idempotence", idempotence])
            .arg("--acked")
            .arg(&acked_path)
            .stdin(Stdio::null())
            .stdout(Stdio::from(summary))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start the confluent-kafka producer");
        ConfluentStream {
            child: ChildGuard::new(child),
            acked_path,
            summary_path,
            log_path,
        }
    }

    /// Delivery reports so far.
    pub fn acked(&self) -> usize {
        std::fs::read_to_string(&self.acked_path).map_or(0, |text| text.lines().count())
    }

    /// Waits until at least `count` deliveries were reported.
    pub fn wait_acked(&self, count: usize, timeout: Duration) {
        wait_until(
            &format!("the confluent-kafka producer to have {count} deliveries"),
            timeout,
            || self.acked() >= count,
        );
    }

    /// Waits for the producer to exit, then requires a clean run: it exited 0, every record
    /// it sent was delivered (none failed, none left unflushed), no fatal error.
    pub fn finish(mut self) -> StreamReport {
        let status = self
            .child
            .wait(FINISH_TIMEOUT, "the confluent-kafka producer");
        let summary = std::fs::read_to_string(&self.summary_path).unwrap_or_default();
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        assert!(
            status.success(),
            "producer failed ({status}): {summary}\n{log}"
        );
        let sent = summary_count(&summary, "sent");
        for name in ["failed", "unflushed", "fatal"] {
            assert_eq!(summary_count(&summary, name), 0, "{name}: {summary}\n{log}");
        }
        assert_eq!(summary_count(&summary, "acked"), sent, "{summary}");
        let acked =
            parse_lines(&std::fs::read_to_string(&self.acked_path).expect("read delivery reports"));
        assert_eq!(acked.len() as u64, sent, "delivery report lines: {summary}");
        StreamReport {
            summary,
            log,
            acked,
        }
    }
}

/// The whole of `topic` as kcat reads it (up to each partition's high watermark):
/// (partition, offset) → value.
pub fn read_topic(kcat: &Path, bootstrap: &str, topic: &str) -> HashMap<(i32, i64), String> {
    let mut command = Command::new(kcat);
    command.args(["-C", "-b", bootstrap, "-t", topic]);
    command.args(["-o", "beginning", "-e", "-q", "-f", "%p %o %s\n"]);
    let finished = run_with_timeout(&mut command, KCAT_TIMEOUT, &format!("kcat read of {topic}"));
    assert!(finished.status.success(), "kcat: {}", finished.transcript());
    let mut stored = HashMap::new();
    for (partition, offset, value) in parse_lines(&finished.stdout) {
        let earlier = stored.insert((partition, offset), value.clone());
        assert!(
            earlier.is_none(),
            "{topic} {partition}/{offset} read twice: {earlier:?} and {value}"
        );
    }
    stored
}

/// Every delivered record is at its delivered offset in `stored`.
pub fn assert_delivered_in_place(report: &StreamReport, stored: &HashMap<(i32, i64), String>) {
    for (partition, offset, value) in &report.acked {
        assert_eq!(
            stored.get(&(*partition, *offset)),
            Some(value),
            "delivered {partition}/{offset} = {value} is not there ({})",
            report.summary
        );
    }
}
