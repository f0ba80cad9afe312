//! `sluice cluster info`: cluster id, controller, every broker (fenced or not, broker epoch,
//! metadata offset), the controller quorum's state, and the APIs the broker serves.

use clap::{Args, Subcommand};
use std::collections::BTreeMap;

use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
use kafka_protocol::messages::{DescribeClusterRequest, DescribeQuorumRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use sluice_kafka_client::api_name;

use super::error::AdminError;
use super::pool::BrokerPool;
use super::render::table;
use super::{versions, ConnectArgs};

/// Inspect the cluster over the Kafka protocol.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(subcommand)]
    pub command: ClusterCommand,
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Cluster id, controller, brokers and the API versions the bootstrap broker serves.
    Info,
}

/// What `cluster info` shows, from DescribeCluster or (older brokers) Metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterView {
    pub cluster_id: Option<String>,
    pub controller_id: i32,
    /// (id, host, port, rack)
    pub brokers: Vec<(i32, String, i32, Option<String>)>,
    /// (api key, min, max) served by the bootstrap broker.
    pub apis: Vec<(i16, i16, i16)>,
    /// What a Sluice broker adds, by broker id.
    pub details: BTreeMap<i32, BrokerDetails>,
    pub quorum: Option<QuorumInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerDetails {
    pub fenced: bool,
    pub broker_epoch: Option<i64>,
    /// The metadata offset the quorum leader knows this node has.
    pub metadata_offset: Option<i64>,
}

/// The controller quorum (DescribeQuorum).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumInfo {
    pub leader: i32,
    pub epoch: i32,
    pub high_watermark: i64,
}

pub fn render_cluster(view: &ClusterView) -> String {
    let mut out = format!(
        "CLUSTER     {}\nCONTROLLER  {}\n",
        view.cluster_id.as_deref().unwrap_or("-"),
        view.controller_id
    );
    if let Some(quorum) = &view.quorum {
        out.push_str(&format!(
            "QUORUM      leader {}, epoch {}, high watermark {}\n",
            quorum.leader, quorum.epoch, quorum.high_watermark
        ));
    }
    out.push('\n');
    let mut brokers = view.brokers.clone();
    brokers.sort();
    let rows: Vec<Vec<String>> = brokers
        .iter()
        .map(|(id, host, port, rack)| {
            let details = view.details.get(id).cloned().unwrap_or_default();
            let number = |n: Option<i64>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
            let lag = match (&view.quorum, details.metadata_offset) {
                (Some(quorum), Some(offset)) => (quorum.high_watermark - offset).max(0).to_string(),
                _ => "-".to_string(),
            };
            vec![
                id.to_string(),
                host.clone(),
                port.to_string(),
                rack.clone().unwrap_or_else(|| "-".into()),
                if details.fenced { "yes" } else { "no" }.to_string(),
                number(details.broker_epoch),
                number(details.metadata_offset),
                lag,
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "BROKER",
            "HOST",
            "PORT",
            "RACK",
            "FENCED",
            "EPOCH",
            "METADATA-OFFSET",
            "LAG",
        ],
        &rows,
    ));
    let apis: Vec<String> = view
        .apis
        .iter()
        .map(|(key, min, max)| format!("{}({min}-{max})", api_name(*key)))
        .collect();
    out.push_str(&format!("\nAPIS  {}\n", apis.join(" ")));
    out
}

pub fn execute(pool: &mut BrokerPool, command: &ClusterCommand) -> Result<String, AdminError> {
    let ClusterCommand::Info = command;
    let apis = pool.bootstrap().broker_versions();
    let view = if pool
        .bootstrap()
        .supports::<DescribeClusterRequest>(versions::DESCRIBE_CLUSTER)
    {
        // v2 (KIP-1073) lists fenced brokers too, when asked.
        let response = pool
            .bootstrap()
            .call(versions::DESCRIBE_CLUSTER, |version| {
                DescribeClusterRequest::default().with_include_fenced_brokers(version >= 2)
            })?;
        AdminError::check(
            response.error_code,
            response.error_message.as_deref(),
            || "describe cluster".into(),
        )?;
        let mut details = BTreeMap::new();
        for broker in &response.brokers {
            let broker_epoch = broker
                .unknown_tagged_fields
                .get(&BROKER_EPOCH_TAG)
                .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_ref()).ok())
                .map(i64::from_be_bytes);
            details.insert(
                broker.broker_id.0,
                BrokerDetails {
                    fenced: broker.is_fenced,
                    broker_epoch,
                    metadata_offset: None,
                },
            );
        }
        let quorum = describe_quorum(pool, &mut details);
        ClusterView {
            details,
            quorum,
            cluster_id: Some(response.cluster_id.to_string()),
            controller_id: response.controller_id.0,
            brokers: response
                .brokers
                .iter()
                .map(|b| {
                    (
                        b.broker_id.0,
                        b.host.to_string(),
                        b.port,
                        b.rack.as_ref().map(|r| r.to_string()),
                    )
                })
                .collect(),
            apis,
        }
    } else {
        let metadata = pool.metadata(Some(&[]))?;
        ClusterView {
            details: BTreeMap::new(),
            quorum: None,
            cluster_id: metadata.cluster_id.as_ref().map(|c| c.to_string()),
            controller_id: metadata.controller_id.0,
            brokers: metadata
                .brokers
                .iter()
                .map(|b| {
                    (
                        b.node_id.0,
                        b.host.to_string(),
                        b.port,
                        b.rack.as_ref().map(|r| r.to_string()),
                    )
                })
                .collect(),
            apis,
        }
    };
    Ok(render_cluster(&view))
}

/// Sluice's tagged field of a DescribeCluster broker: its broker epoch (i64, big-endian).
const BROKER_EPOCH_TAG: i32 = 10_000;
const METADATA_TOPIC: &str = "__cluster_metadata";

/// The quorum's state, and each voter's metadata offset into `details`; None where the broker
/// does not serve DescribeQuorum (not Sluice, or no quorum leader now).
fn describe_quorum(
    pool: &mut BrokerPool,
    details: &mut BTreeMap<i32, BrokerDetails>,
) -> Option<QuorumInfo> {
    let broker = pool.bootstrap();
    if !broker.supports::<DescribeQuorumRequest>(versions::DESCRIBE_QUORUM) {
        return None;
    }
    let response = broker
        .call(versions::DESCRIBE_QUORUM, |_| {
            DescribeQuorumRequest::default().with_topics(vec![TopicData::default()
                .with_topic_name(TopicName(StrBytes::from_static_str(METADATA_TOPIC)))
                .with_partitions(vec![PartitionData::default().with_partition_index(0)])])
        })
        .ok()?;
    let partition = response.topics.first()?.partitions.first()?;
    if partition.error_code != 0 {
        return None;
    }
    for voter in &partition.current_voters {
        details
            .entry(voter.replica_id.0)
            .or_default()
            .metadata_offset = Some(voter.log_end_offset);
    }
    Some(QuorumInfo {
        leader: partition.leader_id.0,
        epoch: partition.leader_epoch,
        high_watermark: partition.high_watermark,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_brokers_and_apis() {
        let view = ClusterView {
            cluster_id: Some("abc".into()),
            controller_id: 1,
            brokers: vec![
                (2, "h2".into(), 9092, None),
                (1, "h1".into(), 9092, Some("r1".into())),
            ],
            apis: vec![(0, 0, 11), (18, 0, 3)],
            details: BTreeMap::from([(
                2,
                BrokerDetails {
                    fenced: true,
                    broker_epoch: Some(7),
                    metadata_offset: Some(40),
                },
            )]),
            quorum: Some(QuorumInfo {
                leader: 1,
                epoch: 3,
                high_watermark: 42,
            }),
        };
        let text = render_cluster(&view);
        assert!(
            text.starts_with("CLUSTER     abc\nCONTROLLER  1\nQUORUM      leader 1, epoch 3, high watermark 42\n"),
            "{text}"
        );
        let broker_2 = text
            .lines()
            .find(|l| l.starts_with("2 "))
            .unwrap_or_default();
        let cells: Vec<&str> = broker_2.split_whitespace().collect();
        assert_eq!(
            cells,
            ["2", "h2", "9092", "-", "yes", "7", "40", "2"],
            "{text}"
        );
        assert!(
            text.find("\n1       h1").unwrap_or(usize::MAX)
                < text.find("\n2       h2").unwrap_or(0),
            "{text}"
        );
        assert!(
            text.contains("APIS  Produce(0-11) ApiVersions(0-3)"),
            "{text}"
        );
    }
}
