//! Kafka's partition replication (not Raft per partition) as pure state, so that it can be
//! unit-tested and driven by a seeded simulation:
//!
//! - [`epochs`]: the leader-epoch lookups both sides use (Kafka's `endOffsetFor`), the
//!   leader's divergence check on a follower's fetch (KIP-279's DivergingEpoch) and the
//!   follower's truncation offset (KIP-101).
//! - [`leader`]: what the leader of a partition knows about its followers: their durable log
//!   ends, when each last caught up, the ISR (as committed by the controller and as proposed),
//!   the high watermark, and which ISR change to propose (and what to do with the answer).
//!
//! `README.md` lists what the broker must keep to use them safely; the simulation in
//! `tests/replication_simulation.rs` drives them through crashes, pauses and partitions.
//!
//! Offsets are Kafka offsets (i64). A follower's fetch offset is what it has made durable
//! (fdatasynced): that is its acknowledgement, so the high watermark is the minimum durable log
//! end over the ISR, and acks=all means durable on every ISR member.
//!
//! Must never: do I/O, read a clock, or let the high watermark go back.

pub mod epochs;
pub mod leader;

pub use epochs::{diverging_epoch, end_offset_for, truncation_offset, EpochEnd};
pub use leader::{AcksAllState, Assignment, FollowerRefusal, IsrAnswer, LeaderState};

/// Kafka's "no epoch" (`UNDEFINED_EPOCH`).
pub const UNDEFINED_EPOCH: i32 = -1;
/// Kafka's "no offset" (`UNDEFINED_EPOCH_OFFSET`).
pub const UNDEFINED_OFFSET: i64 = -1;
