//! kcat on a compacted topic: keyed overwrites (lz4) and tombstones (`-Z`), then a roll seals
//! them; once the broker's cleaner has run (its metrics say so), a consumer from the beginning
//! sees one record per key at its original offset, tombstones read back as NULL, a keyless
//! record is refused with nothing appended, and the cleaned log survives kill -9.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::broker::{Broker, BrokerOptions};
use common::clients;
use common::metrics::{listen_config, scrape, total};
use common::process::{run_with_timeout, Finished};
use common::records::now_ms;
use common::wait::wait_until;

const TOPIC: &str = "compacted";
const KEYS: usize = 10;
const ROUNDS: usize = 5;
const TOMBSTONED: usize = 3;
const SEGMENT_MS: i64 = 100;
const KCAT_TIMEOUT: Duration = Duration::from_secs(60);
const CLEANER_TIMEOUT: Duration = Duration::from_secs(60);

fn kcat(kcat: &Path, broker: &Broker, args: &[&str], what: &str) -> Finished {
    let finished = kcat_unchecked(kcat, broker, args, what);
    if !finished.status.success() {
        broker.fail(&format!("{what} failed\n{}", finished.transcript()));
    }
    finished
}

fn kcat_unchecked(kcat: &Path, broker: &Broker, args: &[&str], what: &str) -> Finished {
    let mut command = Command::new(kcat);
    command.arg("-b").arg(broker.bootstrap()).args(args);
    run_with_timeout(&mut command, KCAT_TIMEOUT, what)
}

fn produce(
    kcat_path: &Path,
    broker: &Broker,
    work: &Path,
    lines: &str,
    extra: &[&str],
) -> Finished {
    let finished = produce_unchecked(kcat_path, broker, work, lines, extra);
    if !finished.status.success() {
        broker.fail(&format!("kcat -P failed\n{}", finished.transcript()));
    }
    finished
}

fn produce_unchecked(
    kcat_path: &Path,
    broker: &Broker,
    work: &Path,
    lines: &str,
    extra: &[&str],
) -> Finished {
    let input = work.join("input.txt");
    std::fs::write(&input, lines).expect("write kcat input");
    let input = input.to_string_lossy().to_string();
    let mut args = vec![
        "-P",
        "-t",
        TOPIC,
        "-X",
        "compression.codec=lz4",
        "-X",
        "acks=all",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-l", &input]);
    kcat_unchecked(kcat_path, broker, &args, "kcat -P")
}

/// (offset, key, value size: -1 for NULL, value).
fn consume(kcat_path: &Path, broker: &Broker) -> Vec<(i64, String, i64, String)> {
    let args = [
        "-C",
        "-t",
        TOPIC,
        "-p",
        "0",
        "-o",
        "beginning",
        "-e",
        "-Z",
        "-X",
        "check.crcs=true",
        "-f",
        "%o\t%k\t%S\t%s\n",
    ];
    let finished = kcat(kcat_path, broker, &args, "kcat -C");
    finished
        .stdout
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.splitn(4, '\t').collect();
            assert_eq!(fields.len(), 4, "kcat -C line {line:?}");
            let offset = fields[0].parse().expect("offset");
            let size = fields[2].parse().expect("value size");
            (offset, fields[1].to_string(), size, fields[3].to_string())
        })
        .collect()
}

/// The sample of `name` whose labels name our topic.
fn topic_sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| line.starts_with(name) && line.contains(&format!("topic=\"{TOPIC}\"")))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

#[test]
fn kcat_sees_one_record_per_key_and_tombstones_after_the_cleaner_runs() {
    let Some(kcat_path) = clients::kcat() else {
        return;
    };
    let (metrics_addr, metrics_toml) = listen_config();
    let config = format!("{metrics_toml}\"log.cleaner.backoff.ms\" = 20\n");
    let mut broker = Broker::start(BrokerOptions::default().config(&config));
    let work = tempfile::tempdir().expect("work dir");
    let mut conn = broker.connect();
    common::kafka::create_topic_with_configs(
        &mut conn,
        TOPIC,
        1,
        &[
            ("cleanup.policy", "compact"),
            ("min.cleanable.dirty.ratio", "0.01"),
            ("segment.ms", &SEGMENT_MS.to_string()),
            ("delete.retention.ms", "3600000"),
        ],
    );
    let mut lines = String::new();
    for round in 0..ROUNDS {
        for key in 0..KEYS {
            lines.push_str(&format!("k{key}\tr{round}-k{key}\n"));
        }
    }
    produce(&kcat_path, &broker, work.path(), &lines, &["-K", "\t"]);
    let tombstones: String = (0..TOMBSTONED).map(|key| format!("k{key}\t\n")).collect();
    produce(
        &kcat_path,
        &broker,
        work.path(),
        &tombstones,
        &["-K", "\t", "-Z"],
    );
    // The next append rolls the segment once it is segment.ms old: everything above is sealed.
    let sealed_at = now_ms() + SEGMENT_MS;
    wait_until("the segment to age past segment.ms", KCAT_TIMEOUT, || {
        now_ms() > sealed_at
    });
    produce(
        &kcat_path,
        &broker,
        work.path(),
        "k9\tlast\n",
        &["-K", "\t"],
    );

    wait_until(
        "the cleaner to clean the sealed segments",
        CLEANER_TIMEOUT,
        || {
            let (_, text) = scrape(metrics_addr);
            let passes = total(&text, "sluice_log_cleaner_passes_total").unwrap_or(0.0);
            let ratio = topic_sample(&text, "sluice_log_cleaner_dirty_ratio");
            passes >= 1.0 && ratio == Some(0.0)
        },
    );
    let (_, text) = scrape(metrics_addr);
    assert!(total(&text, "sluice_log_cleaner_written_bytes_total").unwrap_or(0.0) > 0.0);
    assert!(total(&text, "sluice_log_cleaner_read_bytes_total").unwrap_or(0.0) > 0.0);

    let tombstones_at = (ROUNDS * KEYS) as i64;
    let last_at = tombstones_at + TOMBSTONED as i64;
    let mut expected = Vec::new();
    for key in TOMBSTONED..KEYS {
        let offset = ((ROUNDS - 1) * KEYS + key) as i64;
        let value = format!("r{}-k{key}", ROUNDS - 1);
        expected.push((offset, format!("k{key}"), value.len() as i64, value));
    }
    for key in 0..TOMBSTONED {
        expected.push((
            tombstones_at + key as i64,
            format!("k{key}"),
            -1,
            "NULL".to_string(),
        ));
    }
    expected.push((last_at, "k9".to_string(), 4, "last".to_string()));
    assert_eq!(
        consume(&kcat_path, &broker),
        expected,
        "one record per key, at its offset"
    );

    let refused = produce_unchecked(&kcat_path, &broker, work.path(), "no key here\n", &[]);
    assert!(
        refused.stderr.contains("Broker failed to validate record"),
        "the keyless record is refused\n{}",
        refused.transcript()
    );
    assert_eq!(
        consume(&kcat_path, &broker),
        expected,
        "nothing of it was appended"
    );

    broker.restart();
    assert_eq!(
        consume(&kcat_path, &broker),
        expected,
        "the cleaned log survives kill -9"
    );
    broker.assert_alive();
}
