//! Replication state at a scrape, Kafka's `ReplicaManager` and `Partition` gauges:
//!
//! - per partition (user topics, capped at [`PARTITION_SERIES_MAX`]): ISR size and replicas
//!   where this broker leads (as Kafka's `InSyncReplicasCount` and `ReplicasCount`, so that
//!   summing over brokers counts each partition once), and the high watermark as this replica
//!   sees it (leaders and followers);
//! - per follower of a partition led here: lag in offsets behind the leader's log end and in ms
//!   since it last caught up (Kafka's `FetcherLagMetrics` and `lastCaughtUpTimeMs`), capped at
//!   [`FOLLOWER_LAG_SERIES_MAX`];
//! - per broker, internal topics included: partitions led, followed, under-replicated, under
//!   and at `min.insync.replicas`, and offline (no leader in the metadata image this broker
//!   applied; every broker reports its own view, Kafka reports it on the controller only).
//!
//! The shard builds [`PartitionReplication`] from the partition's role (the partition
//! subsystem owns that; metrics never imports it).

use std::collections::BTreeMap;
use std::fmt;

use prometheus_client::encoding::DescriptorEncoder;

use super::exposition::{
    broker_gauge, gauges, is_internal, Labels, FOLLOWER_LAG_SERIES_MAX, PARTITION_SERIES_MAX,
};
use super::scrape::ShardReport;

/// One partition's replication as its replica on this broker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionReplication {
    /// This broker leads the partition (or is its only replica, before any metadata).
    Leader(LeaderReplication),
    /// This broker follows `leader`; `high_watermark` is min(the leader's as of the last fetch,
    /// the local log end).
    Follower { leader: i32, high_watermark: i64 },
}

/// What the leader knows of its partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderReplication {
    /// Replicas in the assignment, this broker included.
    pub replicas: usize,
    /// Members of the ISR the controller committed.
    pub isr: usize,
    /// `min.insync.replicas` in force (1 for a sole replica: it has nobody to wait for).
    pub min_insync: usize,
    pub high_watermark: i64,
    /// Followers that fetched from this leader since its election; the others have no lag to
    /// report yet (and leave the ISR after `replica.lag.time.max.ms`).
    pub followers: Vec<FollowerLag>,
}

/// One follower's lag as its leader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowerLag {
    pub replica: i32,
    /// The leader's log end minus the follower's durable log end (0 when caught up).
    pub lag_offsets: i64,
    /// Milliseconds since the follower last reached the leader's log end.
    pub lag_ms: u64,
}

impl LeaderReplication {
    /// Kafka's `UnderReplicatedPartitions`: some replica is out of the ISR.
    pub fn under_replicated(&self) -> bool {
        self.isr < self.replicas
    }

    /// Kafka's `UnderMinIsrPartitionCount`: acks=all produces are refused.
    pub fn under_min_isr(&self) -> bool {
        self.isr < self.min_insync
    }

    /// Kafka's `AtMinIsrPartitionCount`: one more replica lost and acks=all stops.
    pub fn at_min_isr(&self) -> bool {
        self.isr == self.min_insync
    }
}

impl PartitionReplication {
    pub fn high_watermark(&self) -> i64 {
        match self {
            PartitionReplication::Leader(leader) => leader.high_watermark,
            PartitionReplication::Follower { high_watermark, .. } => *high_watermark,
        }
    }

    pub fn leader(&self) -> Option<&LeaderReplication> {
        match self {
            PartitionReplication::Leader(leader) => Some(leader),
            PartitionReplication::Follower { .. } => None,
        }
    }
}

/// Broker-wide counts (every shard, internal topics included).
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    leader: i64,
    follower: i64,
    under_replicated: i64,
    under_min_isr: i64,
    at_min_isr: i64,
}

fn count(shards: &[ShardReport]) -> Counts {
    let mut counts = Counts::default();
    for state in shards.iter().filter_map(|s| s.state.as_ref()) {
        for partition in &state.partitions {
            let Some(leader) = partition.replication.leader() else {
                counts.follower += 1;
                continue;
            };
            counts.leader += 1;
            counts.under_replicated += i64::from(leader.under_replicated());
            counts.under_min_isr += i64::from(leader.under_min_isr());
            counts.at_min_isr += i64::from(leader.at_min_isr());
        }
    }
    counts
}

/// Encodes the replication families; returns rows of `sluice_metrics_series_omitted` (the
/// caller emits that family once, with every other family's rows).
pub fn encode(
    encoder: &mut DescriptorEncoder,
    shards: &[ShardReport],
) -> Result<Vec<(Labels, i64)>, fmt::Error> {
    let counts = count(shards);
    let broker_rows: [(&str, &str, i64); 5] = [
        ("partitions_leader_count", "Partitions this broker leads.", counts.leader),
        ("partitions_follower_count", "Partitions this broker follows.", counts.follower),
        (
            "partitions_under_replicated",
            "Partitions led here whose ISR is smaller than their replicas.",
            counts.under_replicated,
        ),
        (
            "partitions_under_min_isr",
            "Partitions led here whose ISR is below min.insync.replicas (acks=all refused).",
            counts.under_min_isr,
        ),
        (
            "partitions_at_min_isr",
            "Partitions led here whose ISR equals min.insync.replicas (one loss from refusing acks=all).",
            counts.at_min_isr,
        ),
    ];
    // Only with the shards' state: a scrape that reached no shard says nothing, not zero.
    if shards.iter().any(|s| s.state.is_some()) {
        for (name, help, value) in broker_rows {
            broker_gauge(encoder, name, help, value)?;
        }
    }
    encode_offline(encoder, shards)?;
    let partitions_omitted = encode_partitions(encoder, shards)?;
    let lags_omitted = encode_follower_lags(encoder, shards)?;
    let family = |name: &str| vec![("family", name.to_string())];
    Ok(vec![
        (family("replication_partitions"), partitions_omitted as i64),
        (family("follower_lag"), lags_omitted as i64),
    ])
}

/// From the metadata image of the controller shard (every broker has one).
fn encode_offline(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    let Some(cluster) = shards
        .iter()
        .filter_map(|s| s.state.as_ref())
        .find_map(|s| s.cluster.as_ref())
    else {
        return Ok(());
    };
    broker_gauge(
        encoder,
        "partitions_offline",
        "Partitions without a leader in the metadata image this broker applied.",
        i64::try_from(cluster.offline_partitions).unwrap_or(i64::MAX),
    )
}

/// The user-topic partitions hosted here, in topic/partition order (a partition lives on one
/// shard; the map also orders them across shards).
fn user_partitions(shards: &[ShardReport]) -> BTreeMap<(&str, i32), &PartitionReplication> {
    let mut partitions = BTreeMap::new();
    for state in shards.iter().filter_map(|s| s.state.as_ref()) {
        for p in &state.partitions {
            if !is_internal(&p.topic) {
                partitions.insert((p.topic.as_str(), p.partition), &p.replication);
            }
        }
    }
    partitions
}

fn partition_labels(topic: &str, partition: i32) -> Labels {
    vec![
        ("topic", topic.to_string()),
        ("partition", partition.to_string()),
    ]
}

/// Returns how many partitions the cap left out.
fn encode_partitions(
    encoder: &mut DescriptorEncoder,
    shards: &[ShardReport],
) -> Result<usize, fmt::Error> {
    let partitions = user_partitions(shards);
    let mut high_watermarks = Vec::new();
    let mut isr_sizes = Vec::new();
    let mut replicas = Vec::new();
    for ((topic, partition), replication) in partitions.iter().take(PARTITION_SERIES_MAX) {
        let labels = partition_labels(topic, *partition);
        high_watermarks.push((labels.clone(), replication.high_watermark()));
        if let Some(leader) = replication.leader() {
            isr_sizes.push((labels.clone(), leader.isr as i64));
            replicas.push((labels, leader.replicas as i64));
        }
    }
    gauges(
        encoder,
        "partition_high_watermark",
        "High watermark as this replica sees it (a follower's lags the leader's by a fetch).",
        None,
        &high_watermarks,
    )?;
    gauges(
        encoder,
        "partition_isr_size",
        "In-sync replicas the controller committed, on the partition's leader.",
        None,
        &isr_sizes,
    )?;
    gauges(
        encoder,
        "partition_replicas",
        "Assigned replicas, on the partition's leader.",
        None,
        &replicas,
    )?;
    Ok(partitions.len().saturating_sub(PARTITION_SERIES_MAX))
}

/// Returns how many (partition, follower) series the cap left out.
fn encode_follower_lags(
    encoder: &mut DescriptorEncoder,
    shards: &[ShardReport],
) -> Result<usize, fmt::Error> {
    let partitions = user_partitions(shards);
    let lags = partitions
        .iter()
        .flat_map(|((topic, partition), replication)| {
            let followers = replication
                .leader()
                .map(|l| l.followers.as_slice())
                .unwrap_or(&[]);
            followers.iter().map(move |lag| (*topic, *partition, *lag))
        });
    let mut offsets = Vec::new();
    let mut ms = Vec::new();
    for (topic, partition, lag) in lags.clone().take(FOLLOWER_LAG_SERIES_MAX) {
        let mut labels = partition_labels(topic, partition);
        labels.push(("replica", lag.replica.to_string()));
        offsets.push((labels.clone(), lag.lag_offsets));
        ms.push((labels, i64::try_from(lag.lag_ms).unwrap_or(i64::MAX)));
    }
    gauges(
        encoder,
        "follower_lag_offsets",
        "Leader's log end minus the follower's durable log end, on the partition's leader.",
        None,
        &offsets,
    )?;
    gauges(
        encoder,
        "follower_lag_ms",
        "Milliseconds since the follower last caught up with the leader's log end (it leaves the ISR past replica.lag.time.max.ms).",
        None,
        &ms,
    )?;
    Ok(lags.count().saturating_sub(FOLLOWER_LAG_SERIES_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::exposition::encode;
    use crate::metrics::scrape::Scrape;
    use crate::metrics::state::{ClusterState, PartitionState, ShardState};

    fn partition(topic: &str, index: i32, replication: PartitionReplication) -> PartitionState {
        PartitionState {
            topic: topic.to_string(),
            partition: index,
            log_start_offset: 0,
            log_end_offset: 100,
            bytes: 0,
            cleaner: None,
            replication,
        }
    }

    fn leader(
        replicas: usize,
        isr: usize,
        min_insync: usize,
        followers: &[FollowerLag],
    ) -> PartitionReplication {
        PartitionReplication::Leader(LeaderReplication {
            replicas,
            isr,
            min_insync,
            high_watermark: 90,
            followers: followers.to_vec(),
        })
    }

    fn scrape(shards: Vec<ShardState>) -> String {
        let shards = shards
            .into_iter()
            .map(|state| ShardReport {
                shard: state.shard,
                state: Some(state),
                ..ShardReport::default()
            })
            .collect();
        encode(Scrape { shards }).expect("a scrape encodes")
    }

    /// The value of the sample `series` (name and labels exactly), if present.
    fn sample(text: &str, series: &str) -> Option<String> {
        text.lines()
            .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
            .map(|line| line[series.len()..].trim().to_string())
    }

    #[test]
    fn leaders_report_isr_replicas_and_lag_followers_their_high_watermark() {
        let lag = FollowerLag {
            replica: 3,
            lag_offsets: 10,
            lag_ms: 2_500,
        };
        let caught_up = FollowerLag {
            replica: 2,
            lag_offsets: 0,
            lag_ms: 120,
        };
        let shard0 = ShardState {
            shard: 0,
            partitions: vec![
                partition("orders", 0, leader(3, 2, 2, &[caught_up, lag])),
                partition("__consumer_offsets", 7, leader(3, 1, 2, &[])),
            ],
            cluster: Some(ClusterState {
                offline_partitions: 4,
                ..ClusterState::default()
            }),
            ..ShardState::default()
        };
        let follower = PartitionReplication::Follower {
            leader: 2,
            high_watermark: 40,
        };
        let shard1 = ShardState {
            shard: 1,
            partitions: vec![partition("orders", 1, follower)],
            ..ShardState::default()
        };
        let text = scrape(vec![shard0, shard1]);
        let get = |series: &str| {
            sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"))
        };
        let orders0 = r#"topic="orders",partition="0""#;
        let orders1 = r#"topic="orders",partition="1""#;
        assert_eq!(get(&format!("sluice_partition_isr_size{{{orders0}}}")), "2");
        assert_eq!(get(&format!("sluice_partition_replicas{{{orders0}}}")), "3");
        assert_eq!(
            get(&format!("sluice_partition_high_watermark{{{orders0}}}")),
            "90"
        );
        assert_eq!(
            get(&format!("sluice_partition_high_watermark{{{orders1}}}")),
            "40"
        );
        // A follower's ISR is the leader's to report: each partition is counted once.
        assert_eq!(
            sample(&text, &format!("sluice_partition_isr_size{{{orders1}}}")),
            None
        );
        assert_eq!(
            get(&format!(
                "sluice_follower_lag_offsets{{{orders0},replica=\"3\"}}"
            )),
            "10"
        );
        assert_eq!(
            get(&format!(
                "sluice_follower_lag_ms{{{orders0},replica=\"3\"}}"
            )),
            "2500"
        );
        assert_eq!(
            get(&format!(
                "sluice_follower_lag_ms{{{orders0},replica=\"2\"}}"
            )),
            "120"
        );
        // Internal topics count in the totals but get no series of their own.
        assert!(!text.contains("topic=\"__consumer_offsets\""), "{text}");
        assert_eq!(get("sluice_partitions_leader_count"), "2");
        assert_eq!(get("sluice_partitions_follower_count"), "1");
        assert_eq!(get("sluice_partitions_under_replicated"), "2");
        assert_eq!(get("sluice_partitions_under_min_isr"), "1");
        assert_eq!(get("sluice_partitions_at_min_isr"), "1");
        assert_eq!(get("sluice_partitions_offline"), "4");
        assert!(
            text.contains("# TYPE sluice_partitions_under_replicated gauge\n"),
            "{text}"
        );
    }

    #[test]
    fn a_fully_replicated_leader_is_neither_under_replicated_nor_at_min_isr() {
        let shard = ShardState {
            partitions: vec![partition("t", 0, leader(3, 3, 2, &[]))],
            ..ShardState::default()
        };
        let text = scrape(vec![shard]);
        for family in [
            "under_replicated",
            "under_min_isr",
            "at_min_isr",
            "follower_count",
        ] {
            let series = format!("sluice_partitions_{family}");
            assert_eq!(sample(&text, &series).as_deref(), Some("0"), "{series}");
        }
        // No cluster state (not the controller shard): offline is not reported as 0.
        assert_eq!(sample(&text, "sluice_partitions_offline"), None);
    }

    #[test]
    fn replication_series_are_capped_and_the_omissions_counted() {
        let extra = 5;
        let followers = [
            FollowerLag {
                replica: 2,
                lag_offsets: 0,
                lag_ms: 0,
            },
            FollowerLag {
                replica: 3,
                lag_offsets: 0,
                lag_ms: 0,
            },
        ];
        let partitions = (0..(PARTITION_SERIES_MAX + extra) as i32)
            .map(|index| partition("wide", index, leader(3, 3, 2, &followers)))
            .collect();
        let text = scrape(vec![ShardState {
            partitions,
            ..ShardState::default()
        }]);
        let series = |prefix: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(series("sluice_partition_isr_size{"), PARTITION_SERIES_MAX);
        assert_eq!(
            series("sluice_partition_high_watermark{"),
            PARTITION_SERIES_MAX
        );
        assert_eq!(
            series("sluice_follower_lag_offsets{"),
            FOLLOWER_LAG_SERIES_MAX
        );
        let omitted = |family: &str| {
            sample(
                &text,
                &format!("sluice_metrics_series_omitted{{family=\"{family}\"}}"),
            )
            .unwrap_or_else(|| panic!("no omission count for {family} in\n{text}"))
        };
        assert_eq!(omitted("replication_partitions"), extra.to_string());
        let lags = followers.len() * (PARTITION_SERIES_MAX + extra) - FOLLOWER_LAG_SERIES_MAX;
        assert_eq!(omitted("follower_lag"), lags.to_string());
        assert_eq!(omitted("log_offsets"), extra.to_string());
        // Every cap's omissions share one family (a second descriptor would be invalid).
        assert_eq!(series("# TYPE sluice_metrics_series_omitted "), 1);
        // The totals are not capped.
        let leaders = (PARTITION_SERIES_MAX + extra).to_string();
        assert_eq!(
            sample(&text, "sluice_partitions_leader_count"),
            Some(leaders)
        );
    }
}
