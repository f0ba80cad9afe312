//! `sluice cluster info`: cluster id, controller, brokers, and the APIs the broker serves.

use clap::{Args, Subcommand};
use kafka_protocol::messages::DescribeClusterRequest;

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
}

pub fn render_cluster(view: &ClusterView) -> String {
    let mut out = format!(
        "CLUSTER     {}\nCONTROLLER  {}\n\n",
        view.cluster_id.as_deref().unwrap_or("-"),
        view.controller_id
    );
    let mut brokers = view.brokers.clone();
    brokers.sort();
    let rows: Vec<Vec<String>> = brokers
        .iter()
        .map(|(id, host, port, rack)| {
            vec![
                id.to_string(),
                host.clone(),
                port.to_string(),
                rack.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    out.push_str(&table(&["BROKER", "HOST", "PORT", "RACK"], &rows));
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
        let response = pool.bootstrap().call(versions::DESCRIBE_CLUSTER, |_| {
            DescribeClusterRequest::default()
        })?;
        AdminError::check(
            response.error_code,
            response.error_message.as_deref(),
            || "describe cluster".into(),
        )?;
        ClusterView {
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
        };
        let text = render_cluster(&view);
        assert!(
            text.starts_with("CLUSTER     abc\nCONTROLLER  1\n"),
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
