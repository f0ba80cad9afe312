//! Debian 12's kcat (librdkafka 2.0.2, picky about tagged fields) lists the broker, produces
//! 10,000 keyed messages with headers per codec into a 6-partition topic through its default
//! partitioner, consumes every partition back from offset 0 with CRC checks on, and queries
//! ListOffsets earliest, latest and by time (`kcat -Q`).
//!
//! kcat reports no per-message offsets, so the check is: every message comes back exactly
//! once, byte-exact, in the order it was produced within its partition, at dense offsets.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients::{self, ALL_CODECS, ROUND_TRIP_MESSAGES, ROUND_TRIP_PARTITIONS};
use common::process::{run_with_timeout, Finished};
use common::records::{now_ms, TestRng};
use common::wait::wait_until;

const KCAT_TIMEOUT: Duration = Duration::from_secs(180);
/// The wall clock must tick a millisecond in this time.
const CLOCK_TIMEOUT: Duration = Duration::from_secs(5);
const HEADERS: [(&str, &str); 2] = [("origin", "kcat"), ("note", "same-for-every-message")];
/// Printable, and never the key delimiter (tab) or a line break.
const CHARSET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-:/";

struct Produced {
    key: String,
    value: String,
}

struct Consumed {
    offset: i64,
    timestamp_ms: i64,
    key: String,
    value: String,
    headers: String,
}

#[test]
fn kcat_round_trips_every_codec() {
    let Some(kcat) = clients::kcat() else {
        return;
    };
    let mut broker = Broker::start(BrokerOptions::default());
    let work = tempfile::tempdir().expect("temp dir for kcat input");
    for codec in ALL_CODECS {
        round_trip(&mut broker, &kcat, work.path(), codec);
    }
    broker.assert_alive();
}

fn round_trip(broker: &mut Broker, kcat: &Path, work: &Path, codec: &str) {
    let topic = format!("kcat-{codec}");
    let mut conn = broker.connect();
    common::kafka::create_topic(&mut conn, &topic, ROUND_TRIP_PARTITIONS as i32);
    list_metadata(broker, kcat, &topic);

    let messages = generate(codec);
    let half = messages.len() / 2;
    let before_ms = now_ms();
    produce(
        broker,
        kcat,
        work,
        &topic,
        codec,
        &messages[..half],
        "first",
    );
    // The by-time lookup splits the halves at `middle_ms`: the first half is stamped before
    // it (kcat has exited), the second at or after it (kcat starts later).
    let first_done_ms = now_ms();
    let middle_ms = wait_until("the clock to pass the first half", CLOCK_TIMEOUT, || {
        let now = now_ms();
        (now > first_done_ms).then_some(now)
    });
    produce(
        broker,
        kcat,
        work,
        &topic,
        codec,
        &messages[half..],
        "second",
    );
    let after_ms = now_ms();

    let mut index_of_key = BTreeMap::new();
    for (i, m) in messages.iter().enumerate() {
        assert!(
            index_of_key.insert(m.key.clone(), i).is_none(),
            "keys are unique"
        );
    }
    let mut seen = vec![false; messages.len()];
    let mut first_half_per_partition = Vec::new();
    for partition in 0..ROUND_TRIP_PARTITIONS as i32 {
        let earliest = query_offset(broker, kcat, &topic, partition, -2);
        let latest = query_offset(broker, kcat, &topic, partition, -1);
        assert_eq!(earliest, 0, "{topic}/{partition}: earliest offset");
        assert!(
            latest > 0,
            "{topic}/{partition}: the partitioner left it empty"
        );
        let consumed = consume(broker, kcat, &topic, partition, latest);
        assert_eq!(
            consumed.len() as i64,
            latest,
            "{topic}/{partition}: consumed count"
        );
        let mut previous_index = None;
        let mut first_half = 0;
        for (expected_offset, c) in consumed.iter().enumerate() {
            let where_ = format!("{topic}/{partition}@{}", c.offset);
            assert_eq!(
                c.offset, expected_offset as i64,
                "{where_}: offsets are dense"
            );
            let index = *index_of_key
                .get(&c.key)
                .unwrap_or_else(|| panic!("{where_}: unknown key {:?}", c.key));
            assert!(!seen[index], "{where_}: message {index} consumed twice");
            seen[index] = true;
            assert!(
                previous_index < Some(index),
                "{where_}: message {index} after {previous_index:?} breaks produce order"
            );
            previous_index = Some(index);
            assert_eq!(c.value, messages[index].value, "{where_}: value");
            assert_eq!(c.headers, expected_headers(), "{where_}: headers");
            assert!(
                (before_ms..=after_ms).contains(&c.timestamp_ms),
                "{where_}: timestamp {} outside the produce window {before_ms}..={after_ms}",
                c.timestamp_ms
            );
            if index < half {
                first_half += 1;
                assert!(
                    c.timestamp_ms < middle_ms,
                    "{where_}: first half after the gap"
                );
            } else {
                assert!(
                    c.timestamp_ms >= middle_ms,
                    "{where_}: second half before the gap"
                );
            }
        }
        first_half_per_partition.push(first_half);
        let by_time = query_offset(broker, kcat, &topic, partition, middle_ms);
        assert_eq!(
            by_time, first_half,
            "{topic}/{partition}: offset for time {middle_ms}"
        );
        let before_all = query_offset(broker, kcat, &topic, partition, before_ms - 60_000);
        assert_eq!(
            before_all, 0,
            "{topic}/{partition}: offset for a time before all"
        );
        // A time inside a batch: Kafka answers the first record at or after it, not the
        // start of its batch.
        let probe_ms = consumed[consumed.len() * 3 / 4].timestamp_ms;
        let first_at_or_after = consumed
            .iter()
            .position(|c| c.timestamp_ms >= probe_ms)
            .expect("the probe is a consumed timestamp") as i64;
        let inside = query_offset(broker, kcat, &topic, partition, probe_ms);
        assert_eq!(
            inside, first_at_or_after,
            "{topic}/{partition}: offset for time {probe_ms} (a record's own timestamp)"
        );
    }
    let missing: Vec<usize> = (0..messages.len()).filter(|&i| !seen[i]).collect();
    assert!(
        missing.is_empty(),
        "{topic}: messages never consumed: {missing:?}"
    );
    eprintln!(
        "kcat {codec}: {} messages verified; first half per partition {first_half_per_partition:?}",
        messages.len()
    );
}

fn generate(codec: &str) -> Vec<Produced> {
    let mut rng = TestRng::new(0x5eed_0000 + codec.len() as u64);
    let text = |rng: &mut TestRng, len: usize| -> String {
        (0..len)
            .map(|_| CHARSET[rng.below(CHARSET.len() as u64) as usize] as char)
            .collect()
    };
    (0..ROUND_TRIP_MESSAGES)
        .map(|i| {
            let key_suffix = rng.below(17) as usize;
            let key = format!("k{i:05}-{}", text(&mut rng, key_suffix));
            let value_len = if i % 500 == 0 {
                20_000
            } else {
                1 + rng.below(300) as usize
            };
            // A non-blank first character: kcat must not see an empty value.
            let value = format!("v{}", text(&mut rng, value_len));
            Produced { key, value }
        })
        .collect()
}

fn expected_headers() -> String {
    HEADERS
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn kcat_command(kcat: &Path, broker: &Broker) -> Command {
    let mut command = Command::new(kcat);
    command.arg("-b").arg(broker.bootstrap());
    command
}

fn run_kcat(broker: &Broker, command: &mut Command, what: &str) -> Finished {
    let finished = run_with_timeout(command, KCAT_TIMEOUT, what);
    if !finished.status.success() {
        broker.fail(&format!("{what} failed\n{}", finished.transcript()));
    }
    finished
}

/// `kcat -L`: what a newcomer runs first.
fn list_metadata(broker: &Broker, kcat: &Path, topic: &str) {
    let mut command = kcat_command(kcat, broker);
    command.args(["-L", "-t", topic]);
    let finished = run_kcat(broker, &mut command, "kcat -L");
    let wanted = format!("topic \"{topic}\" with {ROUND_TRIP_PARTITIONS} partitions");
    assert!(
        finished.stdout.contains(&wanted),
        "kcat -L does not show `{wanted}`\n{}",
        finished.transcript()
    );
}

fn produce(
    broker: &Broker,
    kcat: &Path,
    work: &Path,
    topic: &str,
    codec: &str,
    messages: &[Produced],
    part: &str,
) {
    let input: PathBuf = work.join(format!("{topic}-{part}.txt"));
    let mut text = String::new();
    for m in messages {
        text.push_str(&m.key);
        text.push('\t');
        text.push_str(&m.value);
        text.push('\n');
    }
    std::fs::write(&input, text).expect("write kcat input");
    let mut command = kcat_command(kcat, broker);
    command
        .args(["-P", "-t", topic, "-K", "\t"])
        .args(["-X", &format!("compression.codec={codec}")])
        .args(["-X", "acks=all"]);
    for (k, v) in HEADERS {
        command.arg("-H").arg(format!("{k}={v}"));
    }
    command.arg("-l").arg(&input);
    let finished = run_kcat(broker, &mut command, "kcat -P");
    // kcat exits 0 even when some deliveries failed; it reports them on stderr.
    assert!(
        !finished.stderr.contains("Delivery failed") && !finished.stderr.contains("ERROR"),
        "kcat -P reported errors\n{}",
        finished.transcript()
    );
}

/// `kcat -Q -t topic:partition:timestamp`: ListOffsets by time; -1 latest, -2 earliest.
fn query_offset(broker: &Broker, kcat: &Path, topic: &str, partition: i32, timestamp: i64) -> i64 {
    let mut command = kcat_command(kcat, broker);
    command.args(["-Q", "-t", &format!("{topic}:{partition}:{timestamp}")]);
    let finished = run_kcat(broker, &mut command, "kcat -Q");
    // Output line: ` <topic> [<partition>]  offset <offset>`
    let line = finished
        .stdout
        .lines()
        .find(|l| l.contains(&format!("[{partition}]")) && l.contains("offset"))
        .unwrap_or_else(|| panic!("no offset in kcat -Q output\n{}", finished.transcript()));
    let offset = line
        .split_whitespace()
        .last()
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or_else(|| panic!("unparsable kcat -Q line {line:?}"));
    offset
}

fn consume(broker: &Broker, kcat: &Path, topic: &str, partition: i32, count: i64) -> Vec<Consumed> {
    let mut command = kcat_command(kcat, broker);
    command
        .args([
            "-C",
            "-t",
            topic,
            "-p",
            &partition.to_string(),
            "-o",
            "0",
            "-e",
        ])
        .args(["-c", &count.to_string()])
        .args(["-X", "check.crcs=true"])
        .args(["-f", "%o\t%T\t%k\t%s\t%h\n"]);
    let finished = run_kcat(broker, &mut command, "kcat -C");
    finished
        .stdout
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.splitn(5, '\t').collect();
            assert_eq!(fields.len(), 5, "kcat -C line {line:?}");
            Consumed {
                offset: fields[0].parse().expect("offset"),
                timestamp_ms: fields[1].parse().expect("timestamp"),
                key: fields[2].to_string(),
                value: fields[3].to_string(),
                headers: fields[4].to_string(),
            }
        })
        .collect()
}
