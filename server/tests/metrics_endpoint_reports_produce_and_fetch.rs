//! The Prometheus endpoint, scraped after a short produce and consume on a two-shard broker,
//! reports Produce and Fetch request counts and latency buckets, the produce and fetch latency
//! parts, bytes, log end offsets and a group's lag. The exposition is parsed with the reference
//! OpenMetrics parser (Python `prometheus_client`, strict), not by grepping lines.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::OffsetCommitRequest;
use kafka_protocol::protocol::StrBytes;

use common::broker::{Broker, BrokerOptions};
use common::clients::{python_scripts_dir, python_with};
use common::kafka::error_code::ResponseError;
use common::kafka::{create_topic, error_code, fetch, produce, topic_name};
use common::metrics::{listen_config, scrape};
use common::process::run_with_timeout;
use common::records::{encode_batch, now_ms, numbered_record, TestRecord};
use common::wait::wait_until;
use common::wire::KafkaConnection;

const TOPIC: &str = "metered";
const GROUP: &str = "metered-readers";
const PARTITIONS: i32 = 4;
const RECORDS_PER_PARTITION: usize = 5;
/// The group commits this offset on every partition, so its lag is the rest.
const COMMITTED_OFFSET: i64 = 2;
const PARSE_TIMEOUT: Duration = Duration::from_secs(60);
const COORDINATOR_LOAD_IN_PROGRESS: i16 = ResponseError::CoordinatorLoadInProgress.code();
const COORDINATOR_LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// One parsed sample: name (with suffix), labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

struct Exposition {
    families: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

impl Exposition {
    /// Samples named `name` whose labels include every pair of `labels`.
    fn matching<'a>(&'a self, name: &'a str, labels: &'a [(&str, &str)]) -> Vec<&'a Sample> {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .filter(|(_, l, _)| {
                labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The sum over shards of `name` with `labels`.
    fn total(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).iter().map(|(_, _, v)| v).sum()
    }

    fn family_type(&self, family: &str) -> &str {
        self.families.get(family).map_or("absent", String::as_str)
    }
}

fn records(partition: i32) -> Vec<TestRecord> {
    (0..RECORDS_PER_PARTITION)
        .map(|i| numbered_record(&format!("p{partition}"), i, now_ms()))
        .collect()
}

/// A standalone (group-less) commit of `offset` on every partition, retried while the
/// coordinator loads `__consumer_offsets`.
fn commit(conn: &mut KafkaConnection, offset: i64) {
    let version = conn.version_for::<OffsetCommitRequest>(2, 8);
    let mut topic = OffsetCommitRequestTopic::default();
    topic.name = topic_name(TOPIC);
    topic.partitions = (0..PARTITIONS)
        .map(|p| {
            let mut partition = OffsetCommitRequestPartition::default();
            partition.partition_index = p;
            partition.committed_offset = offset;
            partition
        })
        .collect();
    let mut request = OffsetCommitRequest::default();
    request.group_id = StrBytes::from_string(GROUP.to_string()).into();
    request.generation_id_or_member_epoch = -1;
    request.topics = vec![topic];
    wait_until(
        "the coordinator to load and take the commit",
        COORDINATOR_LOAD_TIMEOUT,
        || {
            let response = conn.request(version, &request);
            let codes: Vec<i16> = response.topics[0]
                .partitions
                .iter()
                .map(|p| p.error_code)
                .collect();
            assert!(
                codes
                    .iter()
                    .all(|c| *c == error_code::NONE || *c == COORDINATOR_LOAD_IN_PROGRESS),
                "OffsetCommit errors {codes:?}"
            );
            codes.iter().all(|c| *c == error_code::NONE)
        },
    );
}

fn parse(python: &std::path::Path, text: &str) -> Exposition {
    let dir = tempfile::tempdir().expect("temp dir for the exposition");
    let path = dir.path().join("metrics.txt");
    std::fs::write(&path, text).expect("write exposition");
    let script = python_scripts_dir().join("parse_openmetrics.py");
    let mut command = Command::new(python);
    command.arg(script).arg(&path);
    let finished = run_with_timeout(&mut command, PARSE_TIMEOUT, "parse_openmetrics.py");
    assert!(
        finished.status.success(),
        "the OpenMetrics parser rejected the exposition:\n{}\n--- exposition ---\n{text}",
        finished.transcript()
    );
    let parsed: serde_json::Value =
        serde_json::from_str(&finished.stdout).expect("parser output is JSON");
    let families = parsed["families"]
        .as_object()
        .expect("families")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let samples = parsed["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| {
            let labels = s[1]
                .as_object()
                .expect("labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            let value = s[2].as_f64().expect("numeric value");
            (s[0].as_str().expect("name").to_string(), labels, value)
        })
        .collect();
    Exposition { families, samples }
}

fn assert_latency_histogram_filled(exposition: &Exposition, family: &str, labels: &[(&str, &str)]) {
    assert_eq!(exposition.family_type(family), "histogram", "{family}");
    let count = exposition.total(&format!("{family}_count"), labels);
    assert!(count > 0.0, "{family} {labels:?}: no observations");
    let bucket = format!("{family}_bucket");
    let inf: Vec<(&str, &str)> = labels.iter().copied().chain([("le", "+Inf")]).collect();
    assert_eq!(
        exposition.total(&bucket, &inf),
        count,
        "{family} {labels:?}: +Inf == count"
    );
    let finite = exposition
        .matching(&bucket, labels)
        .iter()
        .filter(|(_, l, v)| l["le"] != "+Inf" && *v > 0.0)
        .count();
    assert!(
        finite > 0,
        "{family} {labels:?}: every observation beyond the last finite bucket"
    );
}

#[test]
fn metrics_endpoint_reports_produce_and_fetch() {
    let Some(python) = python_with("prometheus_client") else {
        return;
    };
    let (metrics_addr, config) = listen_config();
    let broker = Broker::start(BrokerOptions::default().cores(2).config(&config));
    let mut conn = broker.connect();
    create_topic(&mut conn, TOPIC, PARTITIONS);
    for partition in 0..PARTITIONS {
        // acks=all on even partitions so the flush part is exercised too.
        let acks = if partition % 2 == 0 { -1 } else { 1 };
        let produced = produce(
            &mut conn,
            TOPIC,
            partition,
            encode_batch(&records(partition)),
            acks,
        );
        assert_eq!(
            produced.error_code,
            error_code::NONE,
            "produce to {partition}"
        );
    }
    for partition in 0..PARTITIONS {
        let data = fetch(&mut conn, TOPIC, partition, 0, 1 << 20);
        assert_eq!(data.error_code, error_code::NONE, "fetch from {partition}");
        assert!(
            data.records.is_some_and(|r| !r.is_empty()),
            "records of {partition}"
        );
    }
    commit(&mut conn, COMMITTED_OFFSET);

    let (content_type, text) = scrape(metrics_addr);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let exposition = parse(&python, &text);

    for api in ["Produce", "Fetch"] {
        let requests = exposition.total("sluice_requests_total", &[("api", api)]);
        assert!(
            requests >= f64::from(PARTITIONS),
            "{api} requests: {requests}"
        );
        assert_latency_histogram_filled(
            &exposition,
            "sluice_request_latency_seconds",
            &[("api", api)],
        );
    }
    for stage in ["queue", "append", "flush"] {
        let labels = [("stage", stage)];
        assert_latency_histogram_filled(
            &exposition,
            "sluice_produce_stage_latency_seconds",
            &labels,
        );
    }
    for stage in ["queue", "read"] {
        let labels = [("stage", stage)];
        assert_latency_histogram_filled(&exposition, "sluice_fetch_stage_latency_seconds", &labels);
    }
    // acks=all waited for flush rounds, so rounds ran and were timed.
    assert_latency_histogram_filled(
        &exposition,
        "sluice_storage_stage_latency_seconds",
        &[("stage", "flush_round")],
    );
    let appended = exposition.total("sluice_appended_bytes_total", &[]);
    let read = exposition.total("sluice_fetch_read_bytes_total", &[]);
    assert!(appended > 0.0, "appended bytes");
    assert_eq!(read, appended, "every appended byte was fetched once");
    assert!(exposition.total("sluice_received_bytes_total", &[]) > appended);
    assert!(exposition.total("sluice_sent_bytes_total", &[]) > read);

    for shard in ["0", "1"] {
        let collected = exposition.total("sluice_shard_state_collected", &[("shard", shard)]);
        assert_eq!(collected, 1.0, "shard {shard} answered the state query");
        assert!(
            exposition.total("sluice_executor_tasks_executed_total", &[("shard", shard)]) > 0.0
        );
        assert_eq!(
            exposition
                .matching("sluice_fetch_long_polls_waiting", &[("shard", shard)])
                .len(),
            1,
            "shard {shard} reports its long polls"
        );
        assert_eq!(
            exposition.total("sluice_fetch_long_polls_waiting", &[("shard", shard)]),
            0.0,
            "shard {shard}: every fetch was answered"
        );
    }
    assert_eq!(
        exposition.family_type("sluice_fetch_long_polls_waiting"),
        "gauge"
    );
    assert!(exposition.total("sluice_partitions", &[]) >= f64::from(PARTITIONS));
    assert!(exposition.total("sluice_log_bytes", &[]) >= appended);
    for partition in 0..PARTITIONS {
        let p = partition.to_string();
        let tp = [("topic", TOPIC), ("partition", p.as_str())];
        let end = exposition.total("sluice_log_end_offset", &tp);
        assert_eq!(
            end, RECORDS_PER_PARTITION as f64,
            "log end offset of {partition}"
        );
        let group_tp = [
            ("group", GROUP),
            ("topic", TOPIC),
            ("partition", p.as_str()),
        ];
        let lag = exposition.total("sluice_group_lag", &group_tp);
        assert_eq!(
            lag,
            RECORDS_PER_PARTITION as f64 - COMMITTED_OFFSET as f64,
            "lag of {partition}"
        );
    }
}
