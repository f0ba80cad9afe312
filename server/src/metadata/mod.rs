//! The metadata subsystem: CreateTopics, DeleteTopics, CreatePartitions and config changes,
//! made on the metadata shard, persisted, and applied on every shard (which opens, reconfigures
//! or deletes the partitions it owns). `change` is the pure part; `service` does the I/O.
//! Later the cluster controller takes its place as the source of metadata.
//!
//! Layer: a subsystem (below `kafka`, above `partition` and `shard`).

pub mod change;
pub mod messages;
pub mod service;

pub use messages::{AdminOp, AdminResult};
pub use service::{MetadataMesh, MetadataService, METADATA_SHARD};
