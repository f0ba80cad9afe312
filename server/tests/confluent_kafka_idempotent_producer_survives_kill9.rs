//! An idempotent librdkafka producer (confluent-kafka, `enable.idempotence=true`) streams keyed
//! records to four partitions while the broker is killed with SIGKILL and restarted three
//! times. Its retries across the kills meet producer state rebuilt from the log: afterwards
//! every partition holds exactly the records sent to it, each once, in the order sent, with
//! no gap, and every acknowledged record is at the offset its acknowledgement named. The
//! producer never sees OUT_OF_ORDER_SEQUENCE_NUMBER or a fatal idempotence error.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::kafka;
use common::process::{run_with_timeout, ChildGuard};
use common::records::TestRng;
use common::wait::wait_until;

const TOPIC: &str = "idempotent-across-kills";
const PARTITIONS: i32 = 4;
const KILLS: usize = 3;
/// How long the producer streams; the kills happen within it.
const CLIENT_RUN_S: u64 = 20;
/// Records acknowledged between two kills, so each kill lands mid-stream.
const ACKED_BETWEEN_KILLS_MIN: usize = 500;
const ACKED_WAIT: Duration = Duration::from_secs(40);
const CLIENT_EXIT_WAIT: Duration = Duration::from_secs(240);
const KCAT_TIMEOUT: Duration = Duration::from_secs(60);

fn lines_in(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

/// "partition offset value" lines, in file order. A line cut short by a racing reader is
/// skipped.
fn parse_lines(text: &str) -> Vec<(i32, i64, String)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ' ');
            let partition = fields.next()?.parse().ok()?;
            let offset = fields.next()?.parse().ok()?;
            Some((partition, offset, fields.next()?.to_string()))
        })
        .collect()
}

/// "<run>-<partition>-<seq>" → (partition, seq).
fn stream_position(value: &str) -> Option<(i32, u64)> {
    let mut fields = value.rsplitn(3, '-');
    let seq = fields.next()?.parse().ok()?;
    let partition = fields.next()?.parse().ok()?;
    Some((partition, seq))
}

fn summary_count(summary: &str, name: &str) -> u64 {
    summary
        .split_whitespace()
        .find_map(|field| field.strip_prefix(&format!("{name}=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name}= in the client summary: {summary}"))
}

#[test]
fn confluent_kafka_idempotent_producer_survives_kill9() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let Some(kcat) = clients::kcat() else {
        return;
    };
    let mut broker = Broker::start(BrokerOptions::default());
    kafka::create_topic(&mut broker.connect(), TOPIC, PARTITIONS);
    let work = tempfile::tempdir().expect("temp dir");
    let acked_path = work.path().join("acked.txt");
    let client_log_path = work.path().join("client.log");
    let client_log = std::fs::File::create(&client_log_path).expect("client log");
    let summary_path = work.path().join("summary.txt");
    let summary = std::fs::File::create(&summary_path).expect("client summary file");
    let child = Command::new(&python)
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("idempotent_stream_across_kills.py")
        .args(["--bootstrap", &broker.bootstrap(), "--topic", TOPIC])
        .args(["--partitions", &PARTITIONS.to_string()])
        .args(["--seconds", &CLIENT_RUN_S.to_string()])
        .arg("--acked")
        .arg(&acked_path)
        .stdout(Stdio::from(summary))
        .stderr(client_log)
        .spawn()
        .expect("start the Python producer");
    let mut client = ChildGuard::new(child);
    let mut rng = TestRng::new(0x1de4);
    let mut acked_at_kill = 0;
    for kill in 0..KILLS {
        // New acknowledgements since the last kill: the producer is streaming again.
        let extra = rng.below(ACKED_BETWEEN_KILLS_MIN as u64) as usize;
        let target = acked_at_kill + ACKED_BETWEEN_KILLS_MIN + extra;
        let what = format!("{target} records acknowledged before kill {kill}");
        wait_until(&what, ACKED_WAIT, || lines_in(&acked_path) >= target);
        acked_at_kill = lines_in(&acked_path);
        eprintln!("kill {kill}: {acked_at_kill} records acknowledged");
        broker.restart();
    }
    let status = client.wait(CLIENT_EXIT_WAIT, "the Python producer");
    let summary = std::fs::read_to_string(&summary_path).expect("read the client summary");
    let client_log = std::fs::read_to_string(&client_log_path).unwrap_or_default();
    assert!(
        status.success(),
        "producer failed ({status}): {summary}\n{client_log}"
    );
    eprintln!("producer: {summary}");
    let sent = summary_count(&summary, "sent");
    assert!(
        sent as usize >= KILLS * ACKED_BETWEEN_KILLS_MIN,
        "{summary}"
    );
    assert_eq!(summary_count(&summary, "fatal"), 0, "{summary}");
    assert_eq!(summary_count(&summary, "failed"), 0, "{summary}");
    assert_eq!(summary_count(&summary, "unflushed"), 0, "{summary}");
    assert_eq!(summary_count(&summary, "acked"), sent, "{summary}");
    let out_of_order = ["OUT_OF_ORDER", "OutOfOrder", "out of order"];
    for text in [&summary, &client_log] {
        assert!(
            !out_of_order.iter().any(|needle| text.contains(needle)),
            "the producer met an out-of-order sequence: {summary}\n{client_log}"
        );
    }

    let mut command = Command::new(&kcat);
    command.args(["-C", "-b", &broker.bootstrap(), "-t", TOPIC]);
    command.args(["-o", "beginning", "-e", "-q", "-f", "%p %o %s\n"]);
    let finished = run_with_timeout(&mut command, KCAT_TIMEOUT, "kcat read of the whole topic");
    assert!(finished.status.success(), "kcat: {}", finished.transcript());
    let stored = parse_lines(&finished.stdout);
    assert_eq!(stored.len() as u64, sent, "records stored vs sent");

    // Per partition: the stream in order, each record once, no gap.
    let mut next_seq: HashMap<i32, u64> = HashMap::new();
    let mut at_offset: HashMap<(i32, i64), &str> = HashMap::new();
    for (partition, offset, value) in &stored {
        let (stream, seq) = stream_position(value)
            .unwrap_or_else(|| panic!("{partition}/{offset}: unexpected value {value}"));
        assert_eq!(
            stream, *partition,
            "{partition}/{offset}: {value} in the wrong partition"
        );
        let expected = next_seq.entry(*partition).or_insert(0);
        assert_eq!(
            seq, *expected,
            "partition {partition} offset {offset}: record {seq} where {expected} was next \
             (a duplicate, a gap or a reordering)"
        );
        *expected += 1;
        at_offset.insert((*partition, *offset), value);
    }
    let acked = parse_lines(&std::fs::read_to_string(&acked_path).expect("read acked"));
    assert_eq!(acked.len() as u64, sent);
    for (partition, offset, value) in &acked {
        assert_eq!(
            at_offset.get(&(*partition, *offset)).copied(),
            Some(value.as_str()),
            "acknowledged {partition}/{offset} = {value} is not there"
        );
    }
    broker.assert_alive();
}
