//! The Raft quorum that agrees on the metadata log: a thin layer over raft-rs's `RawNode`
//! ([`Quorum`]), with the durable log, hard state and snapshot on a [`RaftDisk`] (files in the
//! data dir, or memory for the simulation).
//!
//! What it owns: elections, replication, the durable raft state. What it must never do: look
//! inside entries (they are opaque bytes to it), do I/O itself (the caller runs every
//! [`DiskWrite`]), read a clock (the caller ticks it), or change the voter set.

mod config;
pub mod disk;
mod election_timer;
mod error;
pub mod limits;
mod mirror;
mod node;
mod output;

pub use config::{QuorumConfig, ELECTION_TICKS_DEFAULT, HEARTBEAT_TICKS_DEFAULT};
pub use disk::file::FileDisk;
pub use disk::mem::{MemDisk, TornWrite};
pub use disk::{DiskState, DiskWrite, HardState, LogEntry, RaftDisk, SnapshotData};
pub use error::{DiskError, QuorumError};
pub use node::Quorum;
pub use output::{Applied, Committed, OutMessage, QuorumStatus, Ready, Recovered, Role};
