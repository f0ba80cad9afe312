//! Consumer groups: Kafka's classic group protocol and committed offsets.
//!
//! The coordinator of a group lives on the shard owning the group's `__consumer_offsets`
//! partition (`placement`: Kafka's own `abs(hashCode) % offsets.topic.num.partitions`).
//! `GroupCoordinator` is pure: it takes requests and the time, and hands back replies and
//! records to persist; it is unit-tested with a manual clock (`tests`). The glue on a live
//! shard (`runtime`, `persist`, `loader`, `service`, `route`) owns the I/O, the timers and the
//! cross-shard routing; the API handlers are in `kafka/handlers/`.
//!
//! Durability: every state change that must survive a restart is a record in
//! `__consumer_offsets`, in Kafka's own key/value formats (`records`) inside RecordBatch v2
//! (`batch`), appended through the engine and fdatasync'd before the request that caused it is
//! answered (OffsetCommit, the leader's SyncGroup, DeleteGroups, OffsetDelete). On start each
//! shard replays its offsets partitions (`loader`, `load`) and answers
//! COORDINATOR_LOAD_IN_PROGRESS for their groups until it has.
//!
//! Transactions (Kafka's exactly-once offsets): TxnOffsetCommit writes its offsets in a
//! transactional batch of the producer; they stay pending, invisible to OffsetFetch, until the
//! producer's commit or abort marker is durable in the same partition (`txn_offsets`). Replay
//! keeps them pending until it meets that marker (`load`).
//!
//! Bounded size: `__consumer_offsets` is compacted (`cleanup.policy=compact`, as in Kafka;
//! `loader::offsets_log_config` forces it even on a topic created before, whatever its stored
//! config). The key of an offset record is group+topic+partition and of a group record the
//! group, so the shard's cleaner shrinks each group's history to its latest commit per
//! partition; OffsetDelete, DeleteGroups and offset expiration write tombstones (null values)
//! for the keys they remove, which the cleaner drops `delete.retention.ms` after it first
//! passes them. Transactional offsets of aborted transactions go with the cleaner's
//! transaction rules. A load replays the cleaned segments plus the active one (at most
//! `sluice.offsets.segment.bytes`).
//!
//! Must never: block the shard, trust a record read back from disk without decoding checks,
//! or answer as coordinator for a partition it hasn't finished loading.

pub mod admin;
pub mod batch;
pub mod classic_group;
pub mod config;
pub mod consumer_protocol;
pub mod coordinator;
pub mod heartbeat;
pub mod join;
pub mod load;
pub mod loader;
pub mod member;
pub mod offsets;
pub mod persist;
pub mod placement;
mod rebalance;
pub mod records;
pub mod route;
pub mod runtime;
pub mod service;
pub mod state;
pub mod sync;
pub mod timers;
pub mod txn_offsets;
pub mod wire;

#[cfg(test)]
mod tests;

pub use config::GroupConfig;
