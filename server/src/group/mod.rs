//! Consumer groups: Kafka's classic group protocol and committed offsets.
//!
//! The coordinator of a group lives on the shard owning the group's `__consumer_offsets`
//! partition (`placement`). `GroupCoordinator` is pure: it takes requests and the time, and
//! hands back replies and records to persist; the runtime glue (`runtime`) owns the I/O, the
//! timers and the cross-shard routing. State changes that must survive a restart are records
//! in `__consumer_offsets` in Kafka's own formats (`records`, `batch`), and loading replays
//! them (`load`).
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
pub mod wire;

#[cfg(test)]
mod tests;

pub use config::GroupConfig;
