//! The producer-id subsystem: where InitProducerId gets new producer ids. The controller hands
//! this broker blocks of ids (AllocateProducerIds, a metadata record, so every id is unique in
//! the cluster and none is reused after a restart or a controller change); the controller
//! shard keeps the current block and asks for the next one before it runs out. One node is
//! its own controller, so the same path is its persisted counter.
//!
//! Layer: above `cluster` (it sends controller requests) and `shard` (its mesh); the Kafka
//! handler calls [`ProducerIdService::generate`] on any shard.

mod blocks;
mod service;

pub use blocks::{ProducerIdBlocks, PREFETCH_REMAINING_IDS};
pub use service::{ProducerIdMesh, ProducerIdReply, ProducerIdRequest, ProducerIdService};
