//! The cluster as clients see it: the live brokers with their endpoints, and which replicas
//! of a partition are offline. Shared by Metadata, DescribeCluster and FindCoordinator.

use crate::kafka::dispatch::Conn;
use crate::topics::ClusterMeta;

pub struct BrokerView {
    pub node_id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

/// Every unfenced broker (Kafka lists only those), this one with the address the client
/// reached it on unless an advertised listener is configured.
pub fn live_brokers(conn: &Conn, meta: &ClusterMeta) -> Vec<BrokerView> {
    let me = conn.config.node_id;
    let (my_host, my_port) = conn.advertised();
    let mut brokers: Vec<BrokerView> = meta
        .brokers
        .values()
        .filter(|b| !b.fenced && b.broker_id != me)
        .filter_map(|b| {
            let endpoint = listener_endpoint(conn, &b.endpoints)?;
            Some(BrokerView {
                node_id: b.broker_id,
                host: endpoint.host.clone(),
                port: i32::from(endpoint.port),
                rack: b.rack.clone(),
            })
        })
        .collect();
    brokers.push(BrokerView {
        node_id: me,
        host: my_host,
        port: my_port,
        rack: None,
    });
    brokers.sort_by_key(|b| b.node_id);
    brokers
}

/// Where clients reach broker `node`, if it is live.
pub fn endpoint(conn: &Conn, meta: &ClusterMeta, node: i32) -> Option<(String, i32)> {
    if node == conn.config.node_id {
        return Some(conn.advertised());
    }
    let broker = meta.brokers.get(&node).filter(|b| !b.fenced)?;
    let endpoint = listener_endpoint(conn, &broker.endpoints)?;
    Some((endpoint.host.clone(), i32::from(endpoint.port)))
}

/// A broker's endpoint on the listener the client used: Kafka answers per listener name, and
/// leaves out a broker without that listener (never handing a SASL client a plaintext port).
fn listener_endpoint<'a>(
    conn: &Conn,
    endpoints: &'a [sluice_controller::records::Endpoint],
) -> Option<&'a sluice_controller::records::Endpoint> {
    endpoints.iter().find(|e| e.name == conn.listener.name)
}

/// Replicas whose broker is fenced or unknown.
pub fn offline_replicas(meta: &ClusterMeta, replicas: &[i32]) -> Vec<i32> {
    replicas
        .iter()
        .copied()
        .filter(|id| meta.brokers.get(id).is_none_or(|b| b.fenced))
        .collect()
}
