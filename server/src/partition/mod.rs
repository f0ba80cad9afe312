//! The partition subsystem: every partition a shard owns, as a [`Partition`] (the engine log
//! plus the high watermark, log start, leader epoch, replica, producer and transaction state),
//! and the owner side of Produce, Fetch, ListOffsets and WriteTxnMarkers.
//!
//! Layer: below `kafka`, above `shard` and the engine. It never imports `kafka`; the Kafka
//! handlers call [`PartitionService`] with owner shards, and it answers with Kafka error codes
//! per partition (`kafka_protocol::ResponseError`). Cross-shard work travels on its own mesh
//! with its own message types (`messages`).
//!
//! Must never: read past a partition's high watermark for a consumer (its last stable offset
//! for a read_committed one), or touch a partition another shard owns.

pub mod append;
pub mod background;
pub mod cleaner;
pub mod epoch_end;
pub mod epoch_fence;
#[cfg(test)]
mod flush_round_tests;
pub mod flush_rounds;
pub mod follower;
pub mod leader_fetch;
pub mod list_offsets;
pub mod messages;
pub mod offset_for_leader_epoch;
#[allow(clippy::module_inception)]
pub mod partition;
pub mod producer_append;
pub mod producer_expiry;
#[cfg(test)]
mod producer_recovery_tests;
pub mod producer_state;
pub mod read;
pub mod registry;
pub mod replica;
pub mod replicate;
#[cfg(test)]
mod replication_tests;
pub mod service;
#[cfg(test)]
mod test_support;
pub mod timestamp_lookup;
pub mod txn;
pub mod wait;

pub use partition::Partition;
pub use producer_append::{AppendOrigin, PartitionAppendError};
pub use producer_state::VerificationToken;
pub use registry::Partitions;
pub use service::{PartitionMesh, PartitionService};
