//! The metadata subsystem's cross-shard requests and replies (`Send`: they cross executors).

use std::sync::Arc;

use crate::cluster::raft_node::QuorumView;
use crate::cluster::wire::{
    OngoingReassignment, WireReassignment, WireScramDeletion, WireScramUpsertion,
};
use crate::topics::{ClusterMeta, TopicConfigs};
use sluice_controller::records::{AclEntry, AclId};

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

/// A partition leader's ISR change (Kafka's AlterPartition, KIP-497), made by this broker as
/// the leader of `topic`-`partition` from the state it saw (`leader_epoch`,
/// `partition_epoch`). The controller refuses it if that state is no longer current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterPartitionRequest {
    pub topic: String,
    pub partition: i32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    /// Must hold the leader (this broker); brokers it adds must be unfenced and not shutting
    /// down.
    pub new_isr: Vec<i32>,
    /// KIP-704: true (RECOVERED) normally; false only while a leader elected uncleanly has not
    /// finished recovering, and then `new_isr` is the leader alone.
    pub leader_recovered: bool,
}

/// The partition once the change is applied; this broker's metadata shows it when
/// `alter_partition` returns (unless applying took longer than `METADATA_APPLY_MS_MAX`). A
/// leader epoch above the request's means this broker no longer leads (a reassignment that
/// the change completed moved the leadership).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterPartitionOutcome {
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    pub isr: Vec<i32>,
}

/// Kafka error code and message of a refused request.
pub type Refusal = (i16, String);

/// One user's outcome of an AlterUserScramCredentials (`None`: done).
pub type ScramUserResult = (String, Option<Refusal>);

/// One user as DescribeUserScramCredentials shows it: `(mechanism, iterations)` of each of its
/// credentials, or Kafka's refusal (RESOURCE_NOT_FOUND, DUPLICATE_RESOURCE).
pub type DescribedScramUser = (String, Result<Vec<(i8, i32)>, Refusal>);

pub enum MetadataRequest {
    /// Run an admin op (sent to the metadata shard).
    Admin(AdminOp),
    /// Apply a new snapshot (broadcast by the metadata shard to every shard).
    Apply(Arc<ClusterMeta>),
    /// The controller quorum's state (sent to the controller shard).
    DescribeQuorum,
    /// A leader's ISR change (sent to the controller shard).
    AlterPartition(AlterPartitionRequest),
    /// Start, replace or cancel reassignments (sent to the controller shard).
    AlterReassignments {
        reassignments: Vec<WireReassignment>,
        allow_replication_factor_change: bool,
    },
    /// The reassignments in progress (sent to the controller shard).
    ListReassignments {
        partitions: Option<Vec<(String, i32)>>,
    },
    /// Delete and set SCRAM credentials (sent to the controller shard).
    AlterScramCredentials {
        deletions: Vec<WireScramDeletion>,
        upsertions: Vec<WireScramUpsertion>,
    },
    /// Add ACLs (sent to the controller shard).
    CreateAcls(Vec<AclEntry>),
    /// Remove ACLs by id (sent to the controller shard).
    DeleteAcls(Vec<AclId>),
}

pub enum MetadataReply {
    Admin(AdminResult),
    Applied,
    /// None: this node is not the quorum's leader.
    Quorum(Option<QuorumView>),
    AlterPartition(Result<AlterPartitionOutcome, Refusal>),
    /// One result per reassignment, in request order (`None`: accepted).
    Reassignments(Result<Vec<Option<Refusal>>, Refusal>),
    ReassignmentList(Result<Vec<OngoingReassignment>, Refusal>),
    ScramAlterations(Result<Vec<ScramUserResult>, Refusal>),
    AclsCreated(Result<Vec<Result<AclId, Refusal>>, Refusal>),
    AclsDeleted(Result<Vec<AclId>, Refusal>),
}
