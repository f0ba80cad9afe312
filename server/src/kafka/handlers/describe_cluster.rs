//! DescribeCluster (key 60): the live brokers (v2: and the fenced ones, if asked) and the
//! active controller.
//!
//! Kafka refuses nobody here (`AuthHelper.computeDescribeClusterResponse`): DESCRIBE on the
//! cluster only decides `cluster_authorized_operations` when asked (0 without it).

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::kafka::cluster_view::live_brokers;
use sluice_security::acl::{AclOperation, ResourceType};

use crate::kafka::authz::{Authz, CLUSTER_NAME};
use crate::kafka::dispatch::{Conn, Outcome, Request, RequestError};
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 2 };

/// A Sluice tagged field of each broker: its broker epoch (i64, big-endian). Kafka clients
/// skip tagged fields they do not know; `sluice cluster info` shows it.
pub const BROKER_EPOCH_TAG: i32 = 10_000;

pub fn handle(
    conn: &Conn,
    metadata: &MetadataService,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DescribeClusterRequest = request.decode()?;
    let meta = metadata.meta();
    let mut response = DescribeClusterResponse::default();
    if body.include_cluster_authorized_operations {
        response.cluster_authorized_operations = if authz.cluster(AclOperation::Describe) {
            authz.authorized_operations(ResourceType::Cluster, CLUSTER_NAME)
        } else {
            0
        };
    }
    response.endpoint_type = body.endpoint_type;
    response.cluster_id = StrBytes::from_string(conn.config.cluster_id.clone());
    response.controller_id = BrokerId(meta.controller_id);
    let mut brokers: Vec<DescribeClusterBroker> = live_brokers(conn, &meta)
        .into_iter()
        .map(|b| {
            let mut broker = DescribeClusterBroker::default();
            broker.broker_id = BrokerId(b.node_id);
            broker.host = StrBytes::from_string(b.host);
            broker.port = b.port;
            broker.rack = b.rack.map(StrBytes::from_string);
            broker
        })
        .collect();
    // v2 (KIP-1073): fenced brokers too, when asked.
    if body.include_fenced_brokers {
        for fenced in meta.brokers.values().filter(|b| b.fenced) {
            let Some(endpoint) = fenced.endpoints.first() else {
                continue;
            };
            let mut broker = DescribeClusterBroker::default();
            broker.broker_id = BrokerId(fenced.broker_id);
            broker.host = StrBytes::from_string(endpoint.host.clone());
            broker.port = i32::from(endpoint.port);
            broker.rack = fenced.rack.clone().map(StrBytes::from_string);
            broker.is_fenced = true;
            brokers.push(broker);
        }
        brokers.sort_by_key(|b| b.broker_id.0);
    }
    for broker in &mut brokers {
        if let Some(registered) = meta.brokers.get(&broker.broker_id.0) {
            let epoch = bytes::Bytes::copy_from_slice(&registered.broker_epoch.to_be_bytes());
            broker.unknown_tagged_fields.insert(BROKER_EPOCH_TAG, epoch);
        }
    }
    response.brokers = brokers;
    Ok(request.respond(&response)?.into())
}
