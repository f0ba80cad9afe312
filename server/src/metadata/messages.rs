//! The metadata subsystem's cross-shard requests and replies (`Send`: they cross executors).

use std::sync::Arc;

use crate::cluster::raft_node::QuorumView;
use crate::topics::{ClusterMeta, TopicConfigs};

/// A topic metadata change; only the metadata shard executes these.
pub enum AdminOp {
    CreateTopic {
        name: String,
        /// -1 with `assignments` (Kafka's rule); otherwise the resolved count.
        partitions: i32,
        /// Replicas per partition; -1: `default.replication.factor` (resolved by the
        /// controller). -1 with `assignments`.
        replication_factor: i16,
        /// Explicit replica lists by partition (CreateTopics' assignments), or None to let the
        /// controller place the replicas.
        assignments: Option<Vec<Vec<i32>>>,
        configs: TopicConfigs,
        validate_only: bool,
    },
    DeleteTopic {
        name: String,
    },
    CreatePartitions {
        name: String,
        count: i32,
        validate_only: bool,
    },
    SetConfigs {
        name: String,
        configs: TopicConfigs,
        validate_only: bool,
    },
}

/// Kafka error code and message of a refused admin op.
pub type AdminResult = Result<(), (i16, String)>;

pub enum MetadataRequest {
    /// Run an admin op (sent to the metadata shard).
    Admin(AdminOp),
    /// Apply a new snapshot (broadcast by the metadata shard to every shard).
    Apply(Arc<ClusterMeta>),
    /// The controller quorum's state (sent to the controller shard).
    DescribeQuorum,
}

pub enum MetadataReply {
    Admin(AdminResult),
    Applied,
    /// None: this node is not the quorum's leader.
    Quorum(Option<QuorumView>),
}
