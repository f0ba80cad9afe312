//! Kafka connections from this shard's coordinator to partition leaders (WriteTxnMarkers) and
//! to other coordinators (AddPartitionsToTxn verify-only), kept open between calls: at most one
//! per broker, taken out while a request is in flight. A connection that failed is dropped; the
//! next call opens a new one. This broker is reached the same way, through its own listener.
//! Lives on one shard.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Message};

use crate::replication::connection::{Connection, ConnectionError};
use crate::topics::MetaCell;

use super::config::PEER_CONNECT_TIMEOUT_MS;

/// Idle connections kept per shard; one per broker, so this bounds the cluster size served.
pub const PEER_CONNECTIONS_MAX: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("broker {0} has no known endpoint")]
    NoEndpoint(i32),
    #[error(transparent)]
    Connection(#[from] ConnectionError),
}

pub struct Peers {
    client_id: String,
    idle: RefCell<HashMap<i32, Connection>>,
}

impl Peers {
    pub fn new(node_id: i32, shard_id: usize) -> Peers {
        Peers {
            client_id: format!("sluice-txn-coordinator-{node_id}-{shard_id}"),
            idle: RefCell::new(HashMap::new()),
        }
    }

    /// Sends `request` to broker `node` and decodes its answer.
    pub async fn call<Req, Resp>(
        &self,
        meta: &MetaCell,
        node: i32,
        api_key: ApiKey,
        request: &Req,
        version: i16,
        timeout: Duration,
    ) -> Result<Resp, PeerError>
    where
        Req: Encodable + Message + HeaderVersion,
        Resp: Decodable + HeaderVersion,
    {
        let taken = self.idle.borrow_mut().remove(&node);
        let mut connection = match taken {
            Some(connection) => connection,
            None => {
                let (host, address) = address(meta, node).ok_or(PeerError::NoEndpoint(node))?;
                let timeout = Duration::from_millis(PEER_CONNECT_TIMEOUT_MS);
                Connection::connect(address, &host, self.client_id.clone(), timeout, None).await?
            }
        };
        let response = connection.call(api_key, request, version, timeout).await?;
        let mut idle = self.idle.borrow_mut();
        if idle.len() < PEER_CONNECTIONS_MAX {
            idle.insert(node, connection);
        }
        Ok(response)
    }
}

/// The broker's advertised host (what its TLS certificate names) and its address.
fn address(meta: &MetaCell, node: i32) -> Option<(String, SocketAddr)> {
    let (host, port) = meta.get().endpoint(node)?;
    // Advertised hosts are addresses or names; a name resolves through the system resolver.
    let address = (host.as_str(), port).to_socket_addrs().ok()?.next()?;
    Some((host, address))
}
