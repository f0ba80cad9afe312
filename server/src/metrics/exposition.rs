//! A [`Scrape`] as OpenMetrics text (what Prometheus scrapes), encoded by `prometheus-client`.
//!
//! The crate's own metric types are not used: its histogram takes a lock per observation, and
//! our shards record into single-writer atomics instead (see `cell`). The crate's encoder is
//! used through a `Collector` over the finished scrape, so the format details (names, suffixes,
//! label escaping, `# EOF`) come from a maintained implementation and cost nothing between
//! scrapes.
//!
//! Cardinality is bounded: per-partition offsets and per-group lag are limited to
//! [`PARTITION_SERIES_MAX`] and [`GROUP_SERIES_MAX`] series (in topic/partition and group
//! order); what is left out is counted in `sluice_metrics_series_omitted{family}`.

use std::collections::BTreeMap;
use std::fmt;

use kafka_protocol::messages::ApiKey;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::cell::{HistogramSnapshot, LATENCY_BOUNDS_US};
use super::scrape::{Scrape, ShardReport};
use super::shard_metrics::Stage;
use super::state::RuntimeTotals;

/// Most `sluice_log_{start,end}_offset` series (partitions) in one scrape.
pub const PARTITION_SERIES_MAX: usize = 1000;
/// Most `sluice_group_{committed_offset,lag}` series (group, topic, partition) in one scrape.
pub const GROUP_SERIES_MAX: usize = 1000;
/// Most `sluice_follower_lag_{offsets,ms}` series (topic, partition, follower) in one scrape:
/// every follower of the capped partitions at replication factor 3.
pub const FOLLOWER_LAG_SERIES_MAX: usize = 2 * PARTITION_SERIES_MAX;

const _: () = assert!(FOLLOWER_LAG_SERIES_MAX >= PARTITION_SERIES_MAX);

/// The Content-Type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(super) type Labels = Vec<(&'static str, String)>;

/// Encodes a scrape as OpenMetrics text, `# EOF` included.
pub fn encode(scrape: Scrape) -> Result<String, fmt::Error> {
    let mut registry = Registry::with_prefix("sluice");
    registry.register_collector(Box::new(ScrapeCollector(scrape)));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}

#[derive(Debug)]
struct ScrapeCollector(Scrape);

impl Collector for ScrapeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let shards = &self.0.shards;
        encode_requests(&mut encoder, shards)?;
        encode_bytes(&mut encoder, shards)?;
        encode_stages(&mut encoder, shards)?;
        encode_long_polls(&mut encoder, shards)?;
        encode_shard_state(&mut encoder, shards)?;
        encode_cluster(&mut encoder, shards)?;
        let mut omitted = encode_offsets(&mut encoder, shards)?;
        omitted.extend(super::replication::encode(&mut encoder, shards)?);
        super::replication_stream::encode(&mut encoder, shards)?;
        super::cleaner::encode(&mut encoder, shards)?;
        super::security::encode(&mut encoder, shards)?;
        encode_runtime(&mut encoder, shards)?;
        // One family, one descriptor: every cap's omissions together.
        gauges(
            &mut encoder,
            "metrics_series_omitted",
            "Series left out of this scrape by the cardinality caps.",
            None,
            &omitted,
        )
    }
}

fn shard_label(shard: usize) -> Labels {
    vec![("shard", shard.to_string())]
}

pub fn api_name(api_key: i16) -> String {
    match ApiKey::try_from(api_key) {
        Ok(api) => format!("{api:?}"),
        Err(_) => format!("key{api_key}"),
    }
}

pub(super) fn counters(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    rows: &[(Labels, f64)],
) -> fmt::Result {
    if rows.is_empty() {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, unit, MetricType::Counter)?;
    for (labels, value) in rows {
        metric
            .encode_family(labels)?
            .encode_counter::<NoLabelSet, f64, f64>(value, None)?;
    }
    Ok(())
}

pub(super) fn gauges(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    rows: &[(Labels, i64)],
) -> fmt::Result {
    if rows.is_empty() {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, unit, MetricType::Gauge)?;
    for (labels, value) in rows {
        metric.encode_family(labels)?.encode_gauge(value)?;
    }
    Ok(())
}

/// One unlabelled gauge: a broker-wide figure (the scrape's target says which broker).
pub(super) fn broker_gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: i64,
) -> fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    metric.encode_gauge(&value)
}

/// Latency histograms in seconds; per-bucket counts become cumulative in the encoder.
fn histograms(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Labels, &HistogramSnapshot)],
) -> fmt::Result {
    if rows.is_empty() {
        return Ok(());
    }
    let unit = Unit::Seconds;
    let mut metric = encoder.encode_descriptor(name, help, Some(&unit), MetricType::Histogram)?;
    for (labels, histogram) in rows {
        let buckets: Vec<(f64, u64)> = LATENCY_BOUNDS_US
            .iter()
            .map(|&bound_us| bound_us as f64 / 1e6)
            .chain(std::iter::once(f64::INFINITY))
            .zip(histogram.buckets)
            .collect();
        let sum_seconds = histogram.sum_us as f64 / 1e6;
        metric
            .encode_family(labels)?
            .encode_histogram::<NoLabelSet>(sum_seconds, histogram.count(), &buckets, None)?;
    }
    Ok(())
}

fn encode_requests(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    let mut requests = Vec::new();
    let mut failures = Vec::new();
    let mut latency = Vec::new();
    for shard in shards {
        for api in &shard.apis {
            let labels = vec![
                ("shard", shard.shard.to_string()),
                ("api", api_name(api.api_key)),
            ];
            requests.push((labels.clone(), api.requests as f64));
            failures.push((labels.clone(), api.failures as f64));
            latency.push((labels, &api.latency));
        }
    }
    counters(
        encoder,
        "requests",
        "Kafka requests dispatched, by shard and API.",
        None,
        &requests,
    )?;
    counters(
        encoder,
        "request_failures",
        "Requests whose handling closed the connection (malformed, acks=0 failure, ...).",
        None,
        &failures,
    )?;
    histograms(
        encoder,
        "request_latency",
        "From dispatch to response ready, deferred work (acks=all flush, fetch long poll) included.",
        &latency,
    )
}

fn encode_bytes(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    let bytes = Unit::Bytes;
    type Row = (&'static str, &'static str, fn(&ShardReport) -> u64);
    let families: [Row; 4] = [
        ("received", "Request frames read from clients.", |s| {
            s.received_bytes
        }),
        ("sent", "Response bytes handed to client sockets.", |s| {
            s.sent_bytes
        }),
        (
            "appended",
            "Record-batch bytes appended to partitions owned by the shard.",
            |s| s.appended_bytes,
        ),
        (
            "fetch_read",
            "Record-batch bytes read for fetches from partitions owned by the shard.",
            |s| s.read_bytes,
        ),
    ];
    for (name, help, value) in families {
        let rows: Vec<(Labels, f64)> = shards
            .iter()
            .map(|s| (shard_label(s.shard), value(s) as f64))
            .collect();
        counters(encoder, name, help, Some(&bytes), &rows)?;
    }
    Ok(())
}

fn encode_stages(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    for (family, help) in [
        (
            "produce_stage",
            "Produce latency parts: queue (sent to the owner shard -> started), append (per partition), flush (acks=all: the wait for the shard's flush round, per request).",
        ),
        (
            "storage_stage",
            "Storage work of the shard: flush_round (one group commit: every partition with appended data written and fdatasynced; the count is the number of rounds).",
        ),
        (
            "fetch_stage",
            "Fetch latency parts: queue (sent to the owner shard -> started), read (per partition), wait (long poll for min_bytes).",
        ),
        (
            "replication",
            "acks=all until the high watermark passed the batch, per partition: since_append (from the append, the local fdatasync included), since_flush (from the local fdatasync done).",
        ),
    ] {
        let mut rows = Vec::new();
        for shard in shards {
            for (stage, histogram) in Stage::ALL.iter().zip(&shard.stages) {
                let (name, label) = stage.names();
                if name == family {
                    let labels = vec![("shard", shard.shard.to_string()), ("stage", label.to_string())];
                    rows.push((labels, histogram));
                }
            }
        }
        histograms(encoder, &format!("{family}_latency"), help, &rows)?;
    }
    Ok(())
}

fn encode_long_polls(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    let waiting: Vec<(Labels, i64)> = shards
        .iter()
        .map(|s| (shard_label(s.shard), s.fetch_long_polls_waiting))
        .collect();
    gauges(
        encoder,
        "fetch_long_polls_waiting",
        "Fetches of the shard's connections now waiting in their long poll (max_wait_ms, min_bytes).",
        None,
        &waiting,
    )
}

fn encode_cluster(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    let Some(cluster) = shards
        .iter()
        .filter_map(|s| s.state.as_ref())
        .find_map(|s| s.cluster.as_ref())
    else {
        return Ok(());
    };
    let node = || vec![("node", cluster.node_id.to_string())];
    let lag = cluster
        .committed_offset
        .saturating_sub(cluster.applied_offset);
    let rows: [(&str, &str, i64); 6] = [
        (
            "cluster_controller_id",
            "The active controller as this node knows it (-1: none).",
            i64::from(cluster.controller_id),
        ),
        (
            "cluster_brokers",
            "Brokers registered in the metadata image.",
            cluster.brokers as i64,
        ),
        (
            "cluster_fenced_brokers",
            "Registered brokers that are fenced (missed heartbeats or shut down).",
            cluster.fenced_brokers as i64,
        ),
        (
            "cluster_metadata_offset",
            "Metadata offset every shard of this broker applied.",
            cluster.applied_offset as i64,
        ),
        (
            "cluster_metadata_offset_lag",
            "Committed metadata offset minus the offset this broker applied.",
            lag as i64,
        ),
        (
            "cluster_broker_fenced",
            "1 while the controller keeps this broker fenced.",
            i64::from(cluster.broker_fenced),
        ),
    ];
    for (name, help, value) in rows {
        gauges(encoder, name, help, None, &[(node(), value)])?;
    }
    counters(
        encoder,
        "cluster_controller_elections",
        "Controller quorum leaders this node has seen elected since it started.",
        None,
        &[(node(), cluster.elections as f64)],
    )
}

fn encode_shard_state(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    let collected: Vec<(Labels, i64)> = shards
        .iter()
        .map(|s| (shard_label(s.shard), i64::from(s.state.is_some())))
        .collect();
    gauges(
        encoder,
        "shard_state_collected",
        "1 if the shard answered this scrape's state query in time (partitions, offsets, runtime).",
        None,
        &collected,
    )?;
    let states = || shards.iter().filter_map(|s| s.state.as_ref());
    let partitions: Vec<(Labels, i64)> = states()
        .map(|s| (shard_label(s.shard), s.partitions.len() as i64))
        .collect();
    gauges(
        encoder,
        "partitions",
        "Partition logs open on the shard.",
        None,
        &partitions,
    )?;
    let log_bytes: Vec<(Labels, i64)> = states()
        .map(|s| {
            let total: u64 = s.partitions.iter().map(|p| p.bytes).sum();
            (
                shard_label(s.shard),
                i64::try_from(total).unwrap_or(i64::MAX),
            )
        })
        .collect();
    gauges(
        encoder,
        "log",
        "Bytes in the shard's partition logs.",
        Some(&Unit::Bytes),
        &log_bytes,
    )
}

/// Internal topics (`__consumer_offsets`) count in the shard totals, not as partition series.
pub(super) fn is_internal(topic: &str) -> bool {
    topic.starts_with("__")
}

/// Returns the rows of `sluice_metrics_series_omitted` for its caps.
fn encode_offsets(
    encoder: &mut DescriptorEncoder,
    shards: &[ShardReport],
) -> Result<Vec<(Labels, i64)>, fmt::Error> {
    let mut ends: BTreeMap<(&str, i32), (usize, i64, i64)> = BTreeMap::new();
    let mut committed: BTreeMap<(&str, &str, i32), i64> = BTreeMap::new();
    for state in shards.iter().filter_map(|s| s.state.as_ref()) {
        for p in &state.partitions {
            let entry = (state.shard, p.log_start_offset, p.log_end_offset);
            ends.insert((p.topic.as_str(), p.partition), entry);
        }
        for c in &state.committed {
            committed.insert((c.group.as_str(), c.topic.as_str(), c.partition), c.offset);
        }
    }
    let visible = ends.iter().filter(|((topic, _), _)| !is_internal(topic));
    let mut starts = Vec::new();
    let mut end_rows = Vec::new();
    for ((topic, partition), (shard, start, end)) in visible.clone().take(PARTITION_SERIES_MAX) {
        let labels = vec![
            ("shard", shard.to_string()),
            ("topic", topic.to_string()),
            ("partition", partition.to_string()),
        ];
        starts.push((labels.clone(), *start));
        end_rows.push((labels, *end));
    }
    let partitions_omitted = visible.count().saturating_sub(PARTITION_SERIES_MAX);
    gauges(
        encoder,
        "log_start_offset",
        "First offset of each partition log.",
        None,
        &starts,
    )?;
    gauges(
        encoder,
        "log_end_offset",
        "Next offset to be written, per partition.",
        None,
        &end_rows,
    )?;
    let mut offsets = Vec::new();
    let mut lags = Vec::new();
    for ((group, topic, partition), offset) in committed.iter().take(GROUP_SERIES_MAX) {
        let labels = vec![
            ("group", group.to_string()),
            ("topic", topic.to_string()),
            ("partition", partition.to_string()),
        ];
        if let Some((_, _, end)) = ends.get(&(*topic, *partition)) {
            lags.push((labels.clone(), (end - offset).max(0)));
        }
        offsets.push((labels, *offset));
    }
    let groups_omitted = committed.len().saturating_sub(GROUP_SERIES_MAX);
    gauges(
        encoder,
        "group_committed_offset",
        "Committed offset per group and partition.",
        None,
        &offsets,
    )?;
    gauges(
        encoder,
        "group_lag",
        "Log end offset minus the group's committed offset (records), per partition.",
        None,
        &lags,
    )?;
    Ok(vec![
        (
            vec![("family", "log_offsets".to_string())],
            partitions_omitted as i64,
        ),
        (
            vec![("family", "group_offsets".to_string())],
            groups_omitted as i64,
        ),
    ])
}

fn encode_runtime(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    type Row = (
        &'static str,
        &'static str,
        Option<Unit>,
        fn(&RuntimeTotals) -> f64,
    );
    let families: [Row; 8] = [
        ("executor_tasks_executed", "glommio tasks run.", None, |t| {
            t.tasks_executed as f64
        }),
        (
            "executor_scheduler_runs",
            "glommio scheduler loop runs.",
            None,
            |t| t.scheduler_runs as f64,
        ),
        (
            "executor_task_runtime",
            "Time spent running tasks.",
            Some(Unit::Seconds),
            |t| t.executor_runtime.as_secs_f64(),
        ),
        (
            "executor_busy",
            "Time spent running tasks and polling I/O.",
            Some(Unit::Seconds),
            |t| t.total_runtime.as_secs_f64(),
        ),
        (
            "io_file_reads",
            "File reads submitted to io_uring.",
            None,
            |t| t.file_reads as f64,
        ),
        (
            "io_file_read",
            "Bytes read from files through io_uring.",
            Some(Unit::Bytes),
            |t| t.file_read_bytes as f64,
        ),
        (
            "io_file_writes",
            "File writes submitted to io_uring.",
            None,
            |t| t.file_writes as f64,
        ),
        (
            "io_file_written",
            "Bytes written to files through io_uring.",
            Some(Unit::Bytes),
            |t| t.file_written_bytes as f64,
        ),
    ];
    for (name, help, unit, value) in families {
        let rows: Vec<(Labels, f64)> = shards
            .iter()
            .filter_map(|s| s.state.as_ref())
            .map(|s| (shard_label(s.shard), value(&s.runtime)))
            .collect();
        counters(encoder, name, help, unit.as_ref(), &rows)?;
    }
    let open: Vec<(Labels, i64)> = shards
        .iter()
        .filter_map(|s| s.state.as_ref())
        .map(|s| {
            let open = s
                .runtime
                .files_opened
                .saturating_sub(s.runtime.files_closed);
            (
                shard_label(s.shard),
                i64::try_from(open).unwrap_or(i64::MAX),
            )
        })
        .collect();
    gauges(
        encoder,
        "io_files_open",
        "Files open through glommio.",
        None,
        &open,
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::cell::Histogram;
    use crate::metrics::scrape::ApiReport;

    fn scrape_with_produce_latencies(latencies_us: &[u64]) -> Scrape {
        let histogram = Histogram::default();
        for us in latencies_us {
            histogram.observe(Duration::from_micros(*us));
        }
        let report = ShardReport {
            shard: 3,
            apis: vec![ApiReport {
                api_key: 0,
                requests: latencies_us.len() as u64,
                failures: 0,
                denials: 0,
                latency: histogram.snapshot(),
            }],
            ..ShardReport::default()
        };
        Scrape {
            shards: vec![report],
        }
    }

    fn sample<'a>(text: &'a str, series: &str) -> &'a str {
        let line = text
            .lines()
            .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
            .unwrap_or_else(|| panic!("no series {series} in\n{text}"));
        line[series.len()..].trim()
    }

    #[test]
    fn histograms_are_exposed_cumulatively_in_seconds_with_inf_equal_to_count() {
        let text = encode(scrape_with_produce_latencies(&[
            40, 120, 120, 3_000, 20_000_000,
        ]))
        .unwrap();
        let name = "sluice_request_latency_seconds";
        assert!(
            text.contains(&format!("# TYPE {name} histogram\n")),
            "{text}"
        );
        assert!(text.contains(&format!("# UNIT {name} seconds\n")), "{text}");
        let bucket = |le: &str| {
            let series = format!("{name}_bucket{{le=\"{le}\",shard=\"3\",api=\"Produce\"}}");
            sample(&text, &series).parse::<u64>().unwrap()
        };
        assert_eq!(bucket("0.00005"), 1);
        assert_eq!(bucket("0.0001"), 1);
        assert_eq!(bucket("0.00025"), 3);
        assert_eq!(bucket("0.002"), 3);
        assert_eq!(bucket("0.003"), 4);
        assert_eq!(bucket("0.005"), 4);
        assert_eq!(bucket("10.0"), 4);
        assert_eq!(bucket("+Inf"), 5);
        let count = sample(
            &text,
            &format!("{name}_count{{shard=\"3\",api=\"Produce\"}}"),
        );
        assert_eq!(count, "5");
        let sum = sample(&text, &format!("{name}_sum{{shard=\"3\",api=\"Produce\"}}"));
        let sum: f64 = sum.parse().unwrap();
        assert!((sum - 20.00328).abs() < 1e-9, "{sum}");
        let requests = sample(&text, "sluice_requests_total{shard=\"3\",api=\"Produce\"}");
        assert_eq!(requests, "5.0");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn every_bucket_bound_appears_once_per_series_in_increasing_order() {
        let text = encode(scrape_with_produce_latencies(&[1])).unwrap();
        let bounds: Vec<f64> = text
            .lines()
            .filter(|line| line.starts_with("sluice_request_latency_seconds_bucket{"))
            .map(|line| {
                let le = line
                    .split("le=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                }
            })
            .collect();
        assert_eq!(bounds.len(), LATENCY_BOUNDS_US.len() + 1);
        assert!(
            bounds.windows(2).all(|pair| pair[0] < pair[1]),
            "{bounds:?}"
        );
        assert_eq!(*bounds.last().unwrap(), f64::INFINITY);
    }

    #[test]
    fn label_values_are_escaped_and_lag_is_end_minus_committed() {
        use crate::metrics::state::{CommittedOffset, PartitionState, ShardState};
        let state = ShardState {
            shard: 0,
            partitions: vec![PartitionState {
                topic: "orders".to_string(),
                partition: 2,
                log_start_offset: 0,
                log_end_offset: 100,
                bytes: 4096,
                cleaner: None,
                replication: crate::metrics::PartitionReplication::Follower {
                    leader: 1,
                    high_watermark: 100,
                },
            }],
            committed: vec![CommittedOffset {
                group: "a \"quoted\" group\n".to_string(),
                topic: "orders".to_string(),
                partition: 2,
                offset: 60,
            }],
            ..ShardState::default()
        };
        let scrape = Scrape {
            shards: vec![ShardReport {
                state: Some(state),
                ..ShardReport::default()
            }],
        };
        let text = encode(scrape).unwrap();
        let labels = r#"group="a \"quoted\" group\n",topic="orders",partition="2""#;
        assert_eq!(
            sample(&text, &format!("sluice_group_lag{{{labels}}}")),
            "40"
        );
        let offset = format!("sluice_group_committed_offset{{{labels}}}");
        assert_eq!(sample(&text, &offset), "60");
        let end = r#"sluice_log_end_offset{shard="0",topic="orders",partition="2"}"#;
        assert_eq!(sample(&text, end), "100");
        assert_eq!(sample(&text, r#"sluice_log_bytes{shard="0"}"#), "4096");
    }
}
