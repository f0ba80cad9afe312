//! A consumer that has seen offset N never finds other data at N later, even when the broker
//! is SIGKILLed (README, "Durability contract"): consumers read up to the high watermark, which
//! is the flushed offset, so nothing they saw can be taken back by a crash.
//!
//! A confluent-kafka producer (acks=1) and a tailing consumer run in one Python process
//! (`clients/python/tail_while_broker_crashes.py`) while the broker is killed and restarted
//! three times. The background flush interval is set to 1 s so that, at every kill, up to a
//! second of acknowledged acks=1 data is not yet durable: a broker that let consumers read it
//! would lose it in the crash and reuse its offsets for new data. At the end kcat reads the
//! whole topic, and every (partition, offset) the consumer saw must hold the value it saw.

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

const TOPIC: &str = "tail-across-crashes";
const PARTITIONS: i32 = 4;
const KILLS: usize = 3;
/// How long the Python clients run; the kills happen within it.
const CLIENT_RUN_S: u64 = 14;
/// Records the consumer must see between two kills, so each kill lands mid-stream.
const SEEN_BETWEEN_KILLS_MIN: usize = 200;
const SEEN_WAIT: Duration = Duration::from_secs(20);
const CLIENT_EXIT_WAIT: Duration = Duration::from_secs(120);
const KCAT_TIMEOUT: Duration = Duration::from_secs(60);

fn lines_in(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

/// "partition offset value" lines → (partition, offset) → value. A line cut short by the
/// reader racing the writer is ignored.
fn parse_seen(text: &str) -> HashMap<(i32, i64), String> {
    let mut seen = HashMap::new();
    for line in text.lines() {
        let mut fields = line.splitn(3, ' ');
        let (Some(p), Some(o), Some(v)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let (Ok(p), Ok(o)) = (p.parse::<i32>(), o.parse::<i64>()) else {
            continue;
        };
        seen.insert((p, o), v.to_string());
    }
    seen
}

#[test]
fn a_tailing_consumer_never_sees_data_a_crash_takes_back() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let Some(kcat) = clients::kcat() else {
        return;
    };
    let options = BrokerOptions::default().config("\"log.flush.interval.ms\" = 1000\n");
    let mut broker = Broker::start(options);
    kafka::create_topic(&mut broker.connect(), TOPIC, PARTITIONS);
    let work = tempfile::tempdir().expect("temp dir");
    let seen_path = work.path().join("seen.txt");
    let client_log = std::fs::File::create(work.path().join("clients.log")).expect("client log");
    let summary_path = work.path().join("summary.txt");
    let summary = std::fs::File::create(&summary_path).expect("client summary file");
    let child = Command::new(&python)
        .current_dir(clients::python_scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("tail_while_broker_crashes.py")
        .args(["--bootstrap", &broker.bootstrap(), "--topic", TOPIC])
        .args(["--partitions", &PARTITIONS.to_string()])
        .args(["--seconds", &CLIENT_RUN_S.to_string()])
        .arg("--seen")
        .arg(&seen_path)
        .stdout(Stdio::from(summary))
        .stderr(client_log)
        .spawn()
        .expect("start the Python clients");
    let mut clients = ChildGuard::new(child);
    let mut rng = TestRng::new(0x7a11);
    for kill in 0..KILLS {
        // A random point in the stream past the minimum, so kills land at different moments.
        let extra = rng.below(SEEN_BETWEEN_KILLS_MIN as u64) as usize;
        let target = (kill + 1) * SEEN_BETWEEN_KILLS_MIN + extra;
        let what = format!("the consumer to see {target} records before kill {kill}");
        wait_until(&what, SEEN_WAIT, || lines_in(&seen_path) >= target);
        eprintln!(
            "kill {kill}: consumer has seen {} records",
            lines_in(&seen_path)
        );
        broker.restart();
    }
    let status = clients.wait(CLIENT_EXIT_WAIT, "the Python clients");
    let output = std::fs::read_to_string(&summary_path).expect("read the client summary");
    assert!(
        status.success(),
        "Python clients failed ({status}): {output}"
    );
    eprintln!("clients: {output}");
    let seen = parse_seen(&std::fs::read_to_string(&seen_path).expect("read seen"));
    assert!(
        seen.len() >= KILLS * SEEN_BETWEEN_KILLS_MIN,
        "too few records seen: {}",
        seen.len()
    );
    assert!(
        !output.contains("offset_resets=") || output.contains("offset_resets=0"),
        "the consumer was ahead of the log after a crash: {output}"
    );
    let mut command = Command::new(&kcat);
    command.args([
        "-C",
        "-b",
        &broker.bootstrap(),
        "-t",
        TOPIC,
        "-o",
        "beginning",
        "-e",
        "-q",
    ]);
    command.args(["-f", "%p %o %s\n"]);
    let finished = run_with_timeout(&mut command, KCAT_TIMEOUT, "kcat read of the whole topic");
    assert!(
        finished.status.success(),
        "kcat failed: {}",
        finished.transcript()
    );
    let stored = parse_seen(&finished.stdout);
    let mut differing = Vec::new();
    for ((partition, offset), value) in &seen {
        match stored.get(&(*partition, *offset)) {
            Some(now) if now == value => {}
            now => differing.push(format!("{partition}/{offset}: saw {value}, now {now:?}")),
        }
    }
    differing.sort();
    assert!(
        differing.is_empty(),
        "{} of {} offsets a consumer saw now hold other data (or none); first: {:?}",
        differing.len(),
        seen.len(),
        &differing[..differing.len().min(10)]
    );
}
