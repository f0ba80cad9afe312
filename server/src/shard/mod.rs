//! The thread-per-core runtime: one glommio executor per shard, pinned to its core
//! (`executors`, on the CPUs `cpus` picks); what a shard knows of itself (`context`: id,
//! partition ownership, stopping); cross-shard calls without locks (`mesh`, `reply_slots`);
//! wake-ups (`notify`).
//!
//! Layer: the bottom of the broker, above the engine. It imports no subsystem: each subsystem
//! brings its own message types to its own mesh. Nothing on the data path is shared between
//! shards but the lock-free rings of glommio's shared channels.
//!
//! A cross-shard call costs a round trip of two wake-ups (an eventfd write and an io_uring
//! wait on each side: tens of microseconds, more when the other shard is busy), not a lock, an
//! allocation or a copy: requests and replies move by value through the rings, reply slots are
//! reused, and record batches travel as shared `Bytes`. So the produce path sends its
//! appends (`Mesh::send`) in order and awaits the replies later, rather than make a client
//! wait one round trip per request; with that, the default of one shard per core is at least as fast as one
//! shard even for one client on two cores (benches/results/shards-2026-12-03.md).

pub mod context;
pub mod cpus;
pub mod executors;
pub mod mesh;
pub mod notify;
pub mod ownership;
pub mod reply_slots;
pub mod steering;
