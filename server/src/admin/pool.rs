//! Connections to the brokers of one cluster, opened on demand. Requests that must go to a
//! partition leader or a group coordinator pick their connection here.

use std::collections::HashMap;
use std::time::Duration;

use kafka_protocol::messages::{MetadataRequest, MetadataResponse};

use super::client::AdminClient;
use super::error::AdminError;
use super::versions;

pub struct BrokerPool {
    bootstrap: AdminClient,
    /// node id -> `host:port` as the cluster advertises it.
    addrs: HashMap<i32, String>,
    connections: HashMap<i32, AdminClient>,
    timeout: Duration,
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
    pub fn connect(bootstrap: &str, timeout: Duration) -> Result<Self, AdminError> {
        Ok(Self {
            bootstrap: AdminClient::connect(bootstrap, timeout)?,
            addrs: HashMap::new(),
            connections: HashMap::new(),
            timeout,
        })
    }

    pub fn bootstrap(&mut self) -> &mut AdminClient {
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
    pub fn node(&mut self, node: i32) -> Result<&mut AdminClient, AdminError> {
        if self.addrs.len() <= 1 {
            return Ok(&mut self.bootstrap);
        }
        let addr = self.addrs.get(&node).cloned().ok_or_else(|| {
            AdminError::Usage(format!("broker {node} is not in the cluster metadata"))
        })?;
        if !self.connections.contains_key(&node) {
            let client = AdminClient::connect(&addr, self.timeout)?;
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
