//! The cluster controller of Sluice, as pure state machines (no I/O but the Raft disk, no
//! clock but the one passed in), so that they can be tested and simulated deterministically.
//!
//! - [`records`]: the metadata log's records, modelled on KRaft's.
//! - [`image`]: the metadata image, the state every node builds by applying the committed
//!   records in order. Every broker serves Metadata from it.
//! - [`controller`]: the active controller's decisions: broker registration, heartbeats,
//!   fencing, placement, leader election, topic changes, SCRAM credentials and ACLs. It turns
//!   commands into records.
//! - [`quorum`]: the Raft quorum (tikv's raft-rs) that agrees on the metadata log, and the
//!   durable log and hard state on disk.
//! - [`active`]: the gate between them: when the Raft leader may let the controller decide
//!   (once its image holds its whole log), one decision at a time, and what became of each.
//!
//! The server crate drives these from one shard of each voter (`server/src/cluster`).

pub mod active;
pub mod controller;
pub mod image;
pub mod quorum;
pub mod records;
