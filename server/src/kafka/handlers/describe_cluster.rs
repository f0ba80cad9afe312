//! DescribeCluster (key 60): the live brokers and the active controller.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::kafka::cluster_view::live_brokers;
use crate::kafka::dispatch::{Conn, Outcome, Request, RequestError};
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };

pub fn handle(
    conn: &Conn,
    metadata: &MetadataService,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DescribeClusterRequest = request.decode()?;
    let meta = metadata.meta();
    let mut response = DescribeClusterResponse::default();
    response.endpoint_type = body.endpoint_type;
    response.cluster_id = StrBytes::from_string(conn.config.cluster_id.clone());
    response.controller_id = BrokerId(meta.controller_id);
    response.brokers = live_brokers(conn, &meta)
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
    Ok(request.respond(&response)?.into())
}
