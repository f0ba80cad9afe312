//! Connections to the brokers of one cluster, opened on demand. Requests that must go to a
//! partition leader or a group coordinator pick their connection here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::{MetadataRequest, MetadataResponse};
use sluice_kafka_client::{Client, ClientSecurity, ConnectOptions};

use super::error::AdminError;
use super::versions;

/// Sent in every request header; brokers log it.
const CLIENT_ID: &str = "sluice-admin";
/// Largest response frame accepted (Kafka's socket.request.max.bytes default).
const RESPONSE_BYTES_MAX: usize = 100 * 1024 * 1024;

pub struct BrokerPool {
    bootstrap: Client,
    /// node id -> `host:port` as the cluster advertises it.
    addrs: HashMap<i32, String>,
    connections: HashMap<i32, Client>,
    options: ConnectOptions,
}

/// Metadata for `topics` (`None`: every topic), never auto-creating one.
pub fn metadata_request(version: i16, topics: Option<&[String]>) -> MetadataRequest {
    let mut request = MetadataRequest::default();
    request.topics = topics.map(|names| {
        names
            .iter()
            .map(|name| {
                let mut topic =
                    kafka_protocol::messages::metadata_request::MetadataRequestTopic::default();
                topic.name =
                    Some(kafka_protocol::protocol::StrBytes::from_string(name.clone()).into());
                topic
            })
            .collect()
    });
    if version >= versions::METADATA_AUTO_CREATE_VERSION {
        request.allow_auto_topic_creation = false;
    }
    request
}

impl BrokerPool {
    /// Connects to `bootstrap` in the clear; `timeout` bounds every connect, read and write.
    pub fn connect(bootstrap: &str, timeout: Duration) -> Result<Self, AdminError> {
        Self::connect_secured(bootstrap, timeout, None)
    }

    /// As [`Self::connect`], with TLS and SASL (`--command-config`) on every connection.
    pub fn connect_secured(
        bootstrap: &str,
        timeout: Duration,
        security: Option<Arc<ClientSecurity>>,
    ) -> Result<Self, AdminError> {
        let mut options = ConnectOptions::new(CLIENT_ID)
            .with_timeout(timeout)
            .with_frame_bytes_max(RESPONSE_BYTES_MAX);
        if let Some(security) = security {
            options = options.with_security(security);
        }
        Ok(Self {
            bootstrap: Client::connect(bootstrap, &options)?,
            addrs: HashMap::new(),
            connections: HashMap::new(),
            options,
        })
    }

    pub fn bootstrap(&mut self) -> &mut Client {
        &mut self.bootstrap
    }

    /// Metadata from the bootstrap broker; remembers every broker's address.
    pub fn metadata(&mut self, topics: Option<&[String]>) -> Result<MetadataResponse, AdminError> {
        let response = self
            .bootstrap
            .call(versions::METADATA, |v| metadata_request(v, topics))?;
        for broker in &response.brokers {
            self.addrs.insert(
                broker.node_id.0,
                format!("{}:{}", broker.host.as_str(), broker.port),
            );
        }
        Ok(response)
    }

    /// The connection to `node`. A single-broker cluster is always the bootstrap connection,
    /// so a broker advertising an address the CLI cannot reach still works.
    pub fn node(&mut self, node: i32) -> Result<&mut Client, AdminError> {
        if self.addrs.len() <= 1 {
            return Ok(&mut self.bootstrap);
        }
        let addr = self.addrs.get(&node).cloned().ok_or_else(|| {
            AdminError::Usage(format!("broker {node} is not in the cluster metadata"))
        })?;
        if !self.connections.contains_key(&node) {
            let client = Client::connect(&addr, &self.options)?;
            self.connections.insert(node, client);
        }
        self.connections
            .get_mut(&node)
            .ok_or_else(|| AdminError::Usage(format!("no connection to broker {node}")))
    }

    /// Remembers an address learnt elsewhere (FindCoordinator).
    pub fn learn(&mut self, node: i32, addr: String) {
        self.addrs.entry(node).or_insert(addr);
    }

    /// Node ids of every known broker (the bootstrap's own id is unknown: `None` means it).
    pub fn node_ids(&self) -> Vec<i32> {
        let mut ids: Vec<i32> = self.addrs.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}
