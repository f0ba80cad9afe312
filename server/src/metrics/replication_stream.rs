//! The follower side's replication streams, per shard (Kafka's `ReplicaFetcherManager` and
//! `FetcherStats`): fetches a leader answered, and the record batches and bytes they brought.
//! Batches per fetch is `batches / fetches` over a window (`rate()` of both); bytes are the
//! record batches as the leader stored them (compressed batches count compressed).
//!
//! And the leader side: the replica fetches a shard received, and how many of them named
//! partitions of another shard (the follower's connection did not land on its own shard
//! number, so the request hopped shards; `shard::steering` keeps this at zero).

use std::fmt;

use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Unit;

use super::cell::Counter;
use super::scrape::ShardReport;

/// Written by the shard's replication streams only.
#[derive(Debug, Default)]
pub struct ReplicationStreamMetrics {
    pub fetches: Counter,
    pub batches: Counter,
    pub bytes: Counter,
    /// Replica fetches this shard received as leader.
    pub served: Counter,
    /// Those of them naming a partition another shard owns.
    pub served_other_shard: Counter,
    /// Those of them continuing an incremental fetch session (KIP-227).
    pub served_incremental: Counter,
    /// Long polls this shard's streams dropped to start fetching a partition at once.
    pub abandoned: Counter,
}

/// A scrape's copy of [`ReplicationStreamMetrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplicationStreamReport {
    pub fetches: u64,
    pub batches: u64,
    pub bytes: u64,
    pub served: u64,
    pub served_other_shard: u64,
    pub served_incremental: u64,
    pub abandoned: u64,
}

impl ReplicationStreamMetrics {
    pub fn report(&self) -> ReplicationStreamReport {
        ReplicationStreamReport {
            fetches: self.fetches.get(),
            batches: self.batches.get(),
            bytes: self.bytes.get(),
            served: self.served.get(),
            served_other_shard: self.served_other_shard.get(),
            served_incremental: self.served_incremental.get(),
            abandoned: self.abandoned.get(),
        }
    }
}

pub fn encode(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    let rows = |f: fn(&ReplicationStreamReport) -> u64| -> Vec<_> {
        shards
            .iter()
            .map(|s| {
                (
                    vec![("shard", s.shard.to_string())],
                    f(&s.replication) as f64,
                )
            })
            .collect()
    };
    super::exposition::counters(
        encoder,
        "replication_fetches",
        "Replica fetches (Fetch with this broker's ReplicaId) a leader answered, empty ones included.",
        None,
        &rows(|r| r.fetches),
    )?;
    super::exposition::counters(
        encoder,
        "replication_fetched_batches",
        "Record batches the shard's replication streams received from leaders.",
        None,
        &rows(|r| r.batches),
    )?;
    super::exposition::counters(
        encoder,
        "replication_fetched",
        "Record-batch bytes the shard's replication streams received from leaders.",
        Some(&Unit::Bytes),
        &rows(|r| r.bytes),
    )?;
    super::exposition::counters(
        encoder,
        "replica_fetches_served",
        "Replica fetches (from followers) this shard received as leader.",
        None,
        &rows(|r| r.served),
    )?;
    super::exposition::counters(
        encoder,
        "replica_fetches_served_other_shard",
        "Replica fetches this shard received that named partitions of another shard: the follower's connection landed on another shard than its own number, and the request hopped.",
        None,
        &rows(|r| r.served_other_shard),
    )?;
    super::exposition::counters(
        encoder,
        "replica_fetches_served_incremental",
        "Replica fetches this shard received in an incremental fetch session (KIP-227): the follower named only the partitions whose position moved, and the answer held only those with news.",
        None,
        &rows(|r| r.served_incremental),
    )?;
    super::exposition::counters(
        encoder,
        "replication_fetches_abandoned",
        "Replica fetches the shard's replication streams dropped unanswered (with their connection) because the shard began following another partition from that leader: the new partition is fetched at once instead of after the long poll.",
        None,
        &rows(|r| r.abandoned),
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::metrics::exposition::encode;
    use crate::metrics::scrape::{read_cells, Scrape};
    use crate::metrics::shard_metrics::ShardMetrics;
    use crate::metrics::{hooks, shard_metrics, Stage};

    fn sample<'a>(text: &'a str, series: &str) -> &'a str {
        let line = text
            .lines()
            .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
            .unwrap_or_else(|| panic!("no series {series} in\n{text}"));
        line[series.len()..].trim()
    }

    #[test]
    fn stream_counters_give_batches_per_fetch_and_bytes() {
        let metrics = ShardMetrics::new(2);
        metrics.replication.fetches.add(4);
        metrics.replication.batches.add(10);
        metrics.replication.bytes.add(655_360);
        metrics.replication.served.add(7);
        metrics.replication.served_other_shard.add(2);
        metrics.replication.served_incremental.add(5);
        metrics.replication.abandoned.add(3);
        let text = encode(Scrape {
            shards: vec![read_cells(&metrics)],
        })
        .expect("a scrape encodes");
        let get = |series: &str| sample(&text, series).parse::<f64>().expect("a number");
        let fetches = get(r#"sluice_replication_fetches_total{shard="2"}"#);
        let batches = get(r#"sluice_replication_fetched_batches_total{shard="2"}"#);
        assert_eq!(batches / fetches, 2.5);
        assert_eq!(
            get(r#"sluice_replication_fetched_bytes_total{shard="2"}"#),
            655_360.0
        );
        assert_eq!(
            get(r#"sluice_replica_fetches_served_total{shard="2"}"#),
            7.0
        );
        assert_eq!(
            get(r#"sluice_replica_fetches_served_other_shard_total{shard="2"}"#),
            2.0
        );
        assert_eq!(
            get(r#"sluice_replica_fetches_served_incremental_total{shard="2"}"#),
            5.0
        );
        assert_eq!(
            get(r#"sluice_replication_fetches_abandoned_total{shard="2"}"#),
            3.0
        );
    }

    #[test]
    fn hooks_record_stream_counts_and_replication_latency_on_this_shard() {
        // Unit-test threads record into a private instance: read it back the same way.
        let before = shard_metrics::with_local(read_cells);
        hooks::replica_fetch_answered();
        hooks::replica_batches_fetched(3_000, 3);
        let started = Instant::now();
        let flushed = started + Duration::from_millis(1);
        std::thread::sleep(Duration::from_millis(3));
        hooks::replicated(started, flushed);
        let after = shard_metrics::with_local(read_cells);
        assert_eq!(after.replication.fetches - before.replication.fetches, 1);
        assert_eq!(after.replication.batches - before.replication.batches, 3);
        assert_eq!(after.replication.bytes - before.replication.bytes, 3_000);
        let observed = |stage: Stage| {
            let index = Stage::ALL
                .iter()
                .position(|s| *s == stage)
                .expect("a stage");
            let (before, after) = (&before.stages[index], &after.stages[index]);
            (after.count() - before.count(), after.sum_us - before.sum_us)
        };
        let (count, since_append_us) = observed(Stage::ReplicationSinceAppend);
        assert_eq!(count, 1);
        let (count, since_flush_us) = observed(Stage::ReplicationSinceFlush);
        assert_eq!(count, 1);
        assert!(since_append_us >= 3_000, "{since_append_us}");
        // The flush ended 1 ms after the wait started: 1 ms less since then.
        assert!(
            since_append_us - since_flush_us >= 999,
            "{since_append_us} {since_flush_us}"
        );
        assert!(
            since_append_us - since_flush_us <= 1_001,
            "{since_append_us} {since_flush_us}"
        );
    }

    #[test]
    fn replication_latency_is_a_histogram_family_with_both_stages() {
        let metrics = ShardMetrics::new(1);
        metrics
            .stage(Stage::ReplicationSinceAppend)
            .observe(Duration::from_micros(1_800));
        metrics
            .stage(Stage::ReplicationSinceFlush)
            .observe(Duration::from_micros(700));
        let text = encode(Scrape {
            shards: vec![read_cells(&metrics)],
        })
        .expect("a scrape encodes");
        let name = "sluice_replication_latency_seconds";
        assert!(
            text.contains(&format!("# TYPE {name} histogram\n")),
            "{text}"
        );
        let bucket = |stage: &str, le: &str| {
            sample(
                &text,
                &format!("{name}_bucket{{le=\"{le}\",shard=\"1\",stage=\"{stage}\"}}"),
            )
            .to_string()
        };
        assert_eq!(bucket("since_append", "0.001"), "0");
        assert_eq!(bucket("since_append", "0.002"), "1");
        assert_eq!(bucket("since_flush", "0.001"), "1");
        assert_eq!(
            sample(
                &text,
                &format!("{name}_count{{shard=\"1\",stage=\"since_flush\"}}")
            ),
            "1"
        );
    }
}
