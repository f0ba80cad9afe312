//! The cluster subsystem: this node's part of the KRaft-style controller quorum and its life
//! as a broker of the cluster. It runs on the controller shard ([`CONTROLLER_SHARD`]):
//! the Raft member ([`raft_node`]) with its peers and listener, and the broker's registration
//! and heartbeats ([`lifecycle`]). Its output is the metadata image, which the metadata
//! subsystem turns into what every shard serves.
//!
//! The pure parts (records, image, controller decisions, the Raft wrapper and its disk) live
//! in the `sluice-controller` crate; this module gives them a network, a clock and a thread.

pub mod controller_tls;
pub mod lifecycle;
pub mod listener;
mod partition_commands;
pub mod peers;
pub mod raft_node;
pub mod rpc_client;
mod security_commands;
pub mod service;
pub mod settings;
pub mod space_reserve;
pub mod wire;

pub use service::ClusterService;
pub use settings::ClusterSettings;

/// The shard that runs the controller quorum member and the broker lifecycle.
pub const CONTROLLER_SHARD: usize = 0;
/// The metadata log's directory in the data dir (KRaft's name for it).
pub const METADATA_LOG_DIR: &str = "__cluster_metadata-0";
