//! Crash loop (issue 7): `sluice-loadgen produce --acks all` on 8 partitions while the broker is
//! SIGKILLed at a random moment (0.2–3 s into each cycle) and restarted; every cycle persists
//! its acknowledged history. At the end `sluice-loadgen verify` checks the whole history:
//! 0 lost acknowledged messages, 0 inconsistent offsets, 0 non-monotonic reads, 0 corrupt
//! records. Duplicates (client retries without an idempotent producer) and per-producer
//! reorderings caused by such retries are counted and printed, not failed.
//!
//! The same loop commits consumer-group offsets (OffsetCommit, acknowledged) before each kill
//! and checks after each restart that the last acknowledged commit of every partition survived.
//!
//! Cycles: SLUICE_CRASH_CYCLES (default 20, what CI runs). The documented long run:
//!
//! ```text
//! SLUICE_CRASH_CYCLES=100 cargo test -p sluice-server --test reliability_crash_loop -- --nocapture
//! ```
//!
//! (plain `cargo test`: nextest's slow-timeout would stop a 100-cycle run). The loadgen binary
//! is `target/<profile>/sluice-loadgen` next to `sluice` (built by `cargo nextest run
//! --workspace`), or SLUICE_TEST_LOADGEN.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::broker::{Broker, BrokerOptions};
use common::clients::under_ci;
use common::kafka::{self, error_code};
use common::loadgen::{loadgen_binary, spawn_loadgen};
use common::records::TestRng;
use common::wait::wait_until;
use common::wire::KafkaConnection;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{GroupId, OffsetCommitRequest, OffsetFetchRequest};
use kafka_protocol::protocol::StrBytes;

const CYCLES_ENV: &str = "SLUICE_CRASH_CYCLES";
const CYCLES_DEFAULT: usize = 20;
const SEED_ENV: &str = "SLUICE_CRASH_SEED";
const TOPIC: &str = "crash-loop";
const GROUP: &str = "crash-loop-group";
const PARTITIONS: i32 = 8;
/// Each cycle's produce run; the kill lands 0.2–3 s into it.
const CYCLE_PRODUCE_S: u32 = 3;
const KILL_AFTER_MS_MIN: u64 = 200;
const KILL_AFTER_MS_MAX: u64 = 3_000;
/// Fixed rate keeps the history (and the final verify) a sane size on 2 cores.
const RATE_MSGS_PER_S: u32 = 2_000;
/// A produce run that does not end within this is a hang (its own limit is a few seconds).
const LOADGEN_TIMEOUT: Duration = Duration::from_secs(90);
const VERIFY_TIMEOUT: Duration = Duration::from_secs(600);

/// Kills and reaps the child on drop.
fn commit_offsets(conn: &mut KafkaConnection, offsets: &[i64]) -> Result<(), (i16, String)> {
    let version = conn.version_for::<OffsetCommitRequest>(2, 7);
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str(GROUP)))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(StrBytes::from_static_str(""))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(kafka::topic_name(TOPIC))
            .with_partitions(
                offsets
                    .iter()
                    .enumerate()
                    .map(|(p, offset)| {
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(p as i32)
                            .with_committed_offset(*offset)
                    })
                    .collect(),
            )]);
    let correlation_id = conn
        .send_request(version, &request)
        .map_err(|e| (-1, e.to_string()))?;
    let response = conn
        .receive_response::<OffsetCommitRequest>(version, correlation_id)
        .map_err(|e| (-1, e.to_string()))?;
    for topic in &response.topics {
        for p in &topic.partitions {
            if p.error_code != error_code::NONE {
                return Err((
                    p.error_code,
                    format!("partition {} error {}", p.partition_index, p.error_code),
                ));
            }
        }
    }
    Ok(())
}

/// Group coordinator errors a client retries: COORDINATOR_LOAD_IN_PROGRESS (14),
/// COORDINATOR_NOT_AVAILABLE (15), NOT_COORDINATOR (16). Right after a restart the offsets
/// partitions are still loading.
const COORDINATOR_RETRIABLE: [i16; 3] = [14, 15, 16];
const COORDINATOR_RETRY_TIMEOUT: Duration = Duration::from_secs(60);

/// OffsetFetch, retried while the coordinator is loading.
fn fetch_offsets_after_restart(broker: &Broker) -> Vec<i64> {
    wait_until(
        "the coordinator to answer OffsetFetch after the restart",
        COORDINATOR_RETRY_TIMEOUT,
        || match fetch_offsets(&mut broker.connect()) {
            Ok(offsets) => Some(offsets),
            Err(code) if COORDINATOR_RETRIABLE.contains(&code) => None,
            Err(code) => panic!("OffsetFetch after restart: error {code}"),
        },
    )
}

fn fetch_offsets(conn: &mut KafkaConnection) -> Result<Vec<i64>, i16> {
    let version = conn.version_for::<OffsetFetchRequest>(1, 7);
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str(GROUP)))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(kafka::topic_name(TOPIC))
            .with_partition_indexes((0..PARTITIONS).collect())]));
    let response = conn.request(version, &request);
    if response.error_code != error_code::NONE {
        return Err(response.error_code);
    }
    let mut offsets = vec![-1; PARTITIONS as usize];
    for topic in &response.topics {
        for p in &topic.partitions {
            if p.error_code != error_code::NONE {
                return Err(p.error_code);
            }
            offsets[p.partition_index as usize] = p.committed_offset;
        }
    }
    Ok(offsets)
}

#[test]
fn acked_messages_and_committed_offsets_survive_repeated_sigkill() {
    let Some(loadgen) = loadgen_binary() else {
        let why =
            "sluice-loadgen is not built (cargo build -p sluice-loadgen, or run the workspace)";
        assert!(!under_ci(), "{why}");
        eprintln!("SKIPPED: {why}");
        return;
    };
    let cycles: usize = std::env::var(CYCLES_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CYCLES_DEFAULT);
    let seed: u64 = std::env::var(SEED_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xc4a5_4100);
    eprintln!("crash loop: {cycles} cycles, seed {seed} ({SEED_ENV} to replay)");
    let mut rng = TestRng::new(seed);
    let mut broker = Broker::start(BrokerOptions::default());
    kafka::create_topic(&mut broker.connect(), TOPIC, PARTITIONS);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut histories = Vec::new();
    let mut committed = vec![-1i64; PARTITIONS as usize];
    let mut commits_acked = 0usize;
    let started = Instant::now();
    for cycle in 0..cycles {
        let history = dir.path().join(format!("cycle-{cycle:04}.history"));
        let log = dir.path().join(format!("cycle-{cycle:04}.log"));
        let args: Vec<String> = [
            "produce",
            "--bootstrap",
            &broker.bootstrap(),
            "--topic",
            TOPIC,
            "--acks",
            "all",
            "--partitions",
            &PARTITIONS.to_string(),
            "--message-bytes",
            "100",
            "--duration-s",
            &CYCLE_PRODUCE_S.to_string(),
            "--warmup-s",
            "0",
            "--rate",
            &RATE_MSGS_PER_S.to_string(),
            "--quiet",
            "--retries",
            "20",
            "--history-out",
            history.to_str().expect("utf-8 path"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut producer = spawn_loadgen(&loadgen, &args, &log);

        // Commit group offsets (acknowledged) while the producer runs. The pauses are the
        // chaos: they only choose the random moments of the commit and of the kill.
        let kill_after = Duration::from_millis(
            KILL_AFTER_MS_MIN + rng.below(KILL_AFTER_MS_MAX - KILL_AFTER_MS_MIN + 1),
        );
        let kill_at = Instant::now() + kill_after;
        thread::sleep(kill_after / 2);
        let next: Vec<i64> = (0..PARTITIONS as i64)
            .map(|p| (cycle as i64 + 1) * 100 + p)
            .collect();
        wait_until(
            &format!("cycle {cycle}: the coordinator to take the offset commit"),
            COORDINATOR_RETRY_TIMEOUT,
            || match commit_offsets(&mut broker.connect(), &next) {
                Ok(()) => true,
                Err((code, _)) if COORDINATOR_RETRIABLE.contains(&code) => false,
                Err((_, e)) => panic!("cycle {cycle}: offset commit on a live broker failed: {e}"),
            },
        );
        committed = next;
        commits_acked += 1;
        thread::sleep(kill_at.saturating_duration_since(Instant::now()));
        broker.restart(); // SIGKILL, then start on the same port and data dir
        let after = fetch_offsets_after_restart(&broker);
        assert_eq!(
            after, committed,
            "cycle {cycle}: committed offsets lost by the kill"
        );

        let status = producer.wait(LOADGEN_TIMEOUT, "loadgen produce");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            history.exists(),
            "cycle {cycle}: loadgen ({status}) wrote no history\n{text}"
        );
        eprintln!(
            "cycle {cycle}: killed after {kill_after:?}, loadgen {status}, {}",
            text.lines()
                .rev()
                .find(|l| l.contains("acked"))
                .unwrap_or("")
        );
        histories.push(history.to_str().expect("utf-8").to_string());
    }
    let verdict_path = dir.path().join("verdict.json");
    let args: Vec<String> = [
        "verify",
        "--bootstrap",
        &broker.bootstrap(),
        "--topic",
        TOPIC,
        "--history",
        &histories.join(","),
        "--json",
        verdict_path.to_str().expect("utf-8"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let log = dir.path().join("verify.log");
    let status = spawn_loadgen(&loadgen, &args, &log).wait(VERIFY_TIMEOUT, "loadgen verify");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let verdict: serde_json::Value = std::fs::read_to_string(&verdict_path)
        .ok()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_else(|| panic!("verify ({status}) wrote no verdict\n{text}"));
    let field = |name: &str| {
        verdict[name]
            .as_u64()
            .unwrap_or_else(|| panic!("verdict.{name}: {verdict}"))
    };
    eprintln!(
        "crash loop: {cycles} SIGKILL cycles in {:.0?}; acked {} observed {} | lost {} inconsistent {} \
         non-monotonic {} corrupt {} | duplicates {} reordered {} unacked-present {} | \
         group commits acked {commits_acked}, all survived",
        started.elapsed(),
        field("acked"),
        field("observed"),
        field("lost"),
        field("inconsistent_offsets"),
        field("non_monotonic"),
        field("corrupt"),
        field("duplicates"),
        field("reordered"),
        field("unacked_present"),
    );
    for example in verdict["examples"]
        .as_array()
        .into_iter()
        .flatten()
        .take(10)
    {
        eprintln!("  {example}");
    }
    assert!(field("acked") > 0, "nothing was acknowledged\n{text}");
    for name in ["lost", "inconsistent_offsets", "non_monotonic", "corrupt"] {
        assert_eq!(field(name), 0, "{name} in the verdict\n{text}");
    }
}
