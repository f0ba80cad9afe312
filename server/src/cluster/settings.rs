//! What the cluster subsystem needs of the broker's configuration, resolved once at start.

use std::net::SocketAddr;
use std::path::PathBuf;

use sluice_controller::controller::ControllerConfig;
use sluice_controller::quorum::QuorumConfig;

use crate::limits::{PARTITIONS_PER_TOPIC_MAX, RAFT_TICK_MS};

/// Raft heartbeats per election timeout: a leader is heard several times before followers
/// give up on it.
const HEARTBEATS_PER_ELECTION_TIMEOUT: u64 = 5;

#[derive(Debug, Clone)]
pub struct ClusterSettings {
    pub node_id: i32,
    pub cluster_id: String,
    /// Every voter with its controller address; a single voter without a controller listener
    /// (the one-node default) has none.
    pub voters: Vec<(i32, Option<SocketAddr>)>,
    /// Each voter's host as written in `controller.quorum.voters`: the name its controller
    /// certificate must carry when `controller_tls` is on.
    pub voter_hosts: Vec<(i32, String)>,
    /// Some: the controller listener maps to SSL (mutual TLS between controllers).
    pub controller_tls: Option<crate::config::security::TlsSettings>,
    pub controller_listen: Option<SocketAddr>,
    /// What this broker registers: its client listener as clients should reach it.
    pub advertised_host: String,
    pub advertised_port: u16,
    /// The other client listeners, advertised as (name, host, port, security protocol):
    /// registered after the inter-broker one above, so clients of any listener find every
    /// broker on the listener they use.
    /// The inter-broker listener's name and protocol (`advertised_host`/`port` are its).
    pub inter_broker_listener: String,
    pub inter_broker_protocol: String,
    pub other_listeners: Vec<(String, String, u16, String)>,
    pub heartbeat_interval_ms: u64,
    pub session_timeout_ms: u64,
    pub election_timeout_ms: u64,
    pub default_partitions: i32,
    pub default_replication_factor: i16,
    /// `unclean.leader.election.enable`, the broker default (topics may override it).
    pub unclean_leader_election_enable: bool,
    /// `auto.leader.rebalance.enable` and `leader.imbalance.check.interval.seconds` (in ms).
    pub auto_leader_rebalance_enable: bool,
    pub leader_imbalance_check_interval_ms: u64,
    pub offsets_topic_partitions: i32,
    pub offsets_topic_replication_factor: i16,
    pub data_dir: PathBuf,
}

impl ClusterSettings {
    pub fn is_voter(&self) -> bool {
        self.voters.iter().any(|(id, _)| *id == self.node_id)
    }

    pub fn voter_address(&self, node_id: i32) -> Option<SocketAddr> {
        self.voters
            .iter()
            .find(|(id, _)| *id == node_id)
            .and_then(|(_, address)| *address)
    }

    /// The host a voter's certificate must name: as written, else its address.
    pub fn voter_host(&self, node_id: i32, address: SocketAddr) -> String {
        self.voter_hosts
            .iter()
            .find(|(id, _)| *id == node_id)
            .map(|(_, host)| host.clone())
            .unwrap_or_else(|| address.ip().to_string())
    }

    pub fn voters_with_addresses(&self) -> Vec<(i32, SocketAddr)> {
        self.voters
            .iter()
            .filter_map(|(id, address)| address.map(|a| (*id, a)))
            .collect()
    }

    pub fn quorum_config(&self) -> QuorumConfig {
        let election_ticks = (self.election_timeout_ms / RAFT_TICK_MS).max(2) as usize;
        let heartbeat_ticks = ((self.election_timeout_ms / RAFT_TICK_MS)
            / HEARTBEATS_PER_ELECTION_TIMEOUT)
            .max(1) as usize;
        QuorumConfig {
            node_id: self.node_id,
            voters: self.voters.iter().map(|(id, _)| *id).collect(),
            election_ticks,
            heartbeat_ticks,
            // Voters must not time out in step: seed each differently.
            election_seed: election_seed(self.node_id),
        }
    }

    pub fn controller_config(&self) -> ControllerConfig {
        ControllerConfig {
            session_timeout_ms: self.session_timeout_ms,
            default_partitions: self.default_partitions,
            default_replication_factor: self.default_replication_factor,
            partitions_per_topic_max: PARTITIONS_PER_TOPIC_MAX,
            unclean_leader_election_enable: self.unclean_leader_election_enable,
            auto_leader_rebalance_enable: self.auto_leader_rebalance_enable,
            leader_imbalance_check_interval_ms: self.leader_imbalance_check_interval_ms,
        }
    }
}

fn election_seed(node_id: i32) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (node_id as u64).rotate_left(32) ^ u64::from(std::process::id())
}
