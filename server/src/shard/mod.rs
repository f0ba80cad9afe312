//! The thread-per-core runtime: one glommio executor per shard, pinned to its core
//! (`executors`); what a shard knows of itself (`context`: id, partition ownership, stopping);
//! cross-shard calls without locks (`mesh`, `reply_slots`); wake-ups (`notify`).
//!
//! Layer: the bottom of the broker, above the engine. It imports no subsystem: each subsystem
//! brings its own message types to its own mesh. Nothing on the data path is shared between
//! shards but the lock-free rings of glommio's shared channels.

pub mod context;
pub mod executors;
pub mod mesh;
pub mod notify;
pub mod ownership;
pub mod reply_slots;
