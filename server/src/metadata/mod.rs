//! The metadata subsystem: what every shard serves of the cluster's metadata. On the
//! controller shard it follows the metadata image of the cluster subsystem and has every shard
//! apply each change (open the partitions this broker hosts, reconfigure or delete the others,
//! hand the group coordinator its offsets partitions). CreateTopics, DeleteTopics,
//! CreatePartitions and config changes from any shard go through it to the active controller,
//! and so do a partition leader's ISR changes (AlterPartition), reassignments, and security
//! changes (SCRAM credentials, ACLs; `security_control.rs`, which also says how a shard
//! detects that they changed).
//!
//! Layer: a subsystem (below `kafka`, above `cluster`, `group`, `partition` and `shard`).

pub mod messages;
mod partition_control;
pub mod replication_factor;
mod security_control;
pub mod service;

pub use messages::{
    AdminOp, AdminResult, AlterPartitionOutcome, AlterPartitionRequest, DescribedScramUser,
    Refusal, ScramUserResult,
};
pub use service::{MetadataMesh, MetadataService, METADATA_SHARD};
