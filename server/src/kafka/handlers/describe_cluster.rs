//! DescribeCluster (key 60): one broker, which is also the controller.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::kafka::dispatch::{Conn, Outcome, Request, RequestError};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };

pub fn handle(conn: &Conn, request: Request) -> Result<Outcome, RequestError> {
    let body: DescribeClusterRequest = request.decode()?;
    let config = &conn.config;
    let (host, port) = conn.advertised();
    let mut broker = DescribeClusterBroker::default();
    broker.broker_id = BrokerId(config.node_id);
    broker.host = StrBytes::from_string(host);
    broker.port = port;
    let mut response = DescribeClusterResponse::default();
    response.endpoint_type = body.endpoint_type;
    response.cluster_id = StrBytes::from_string(config.cluster_id.clone());
    response.controller_id = BrokerId(config.node_id);
    response.brokers = vec![broker];
    Ok(request.respond(&response)?.into())
}
