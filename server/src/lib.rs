//! `sluice-server`: the Sluice broker as a library; `main.rs` is a thin wrapper around
//! [`cli::main`]. Tests and fuzz targets use the library directly.
//!
//! # Layers
//!
//! Imports point one way, down this list (see README.md for the picture):
//!
//! - `cli` → `broker`: the command line and the composition root, which builds every shard's
//!   subsystems and wires them together. Nothing imports these.
//! - `kafka`: frames, dispatch, one handler per API, connections. Handlers receive the
//!   services they use.
//! - `txn`: the transaction coordinator (placement, `__transaction_state`, markers, timers);
//!   it reaches partition leaders over Kafka connections (`replication::connection`).
//! - `security`: TLS for client listeners, SASL authentication and ACL authorization (over
//!   the credentials and ACLs of the cluster metadata).
//! - `replication`: the follower streams and the leaders' ISR proposals (it asks the
//!   controller through `metadata`).
//! - subsystems: `metadata` and `producer_ids` → `cluster` → `group` → `partition` (each owns
//!   its cross-shard message types; none imports `kafka`).
//! - `shard`: the runtime (executors, context, meshes for cross-shard calls, notifiers). It
//!   imports no subsystem.
//! - `sluice_engine`: partition logs.
//!
//! Leaves that any layer may use: `metrics` (everyone records into it), `topics` (metadata as
//! data), `config`, `cluster_identity` (the data dir's `meta.properties`), `limits`,
//! `error_code`, `util`, `signals`, `fill_only_read` (receiving into unzeroed buffers), `malloc_tuning`.
//! `admin` is the operator CLI's client side and imports nothing of the broker.

pub mod admin;
pub mod broker;
pub mod cli;
pub mod cluster;
pub mod cluster_identity;
pub mod config;
pub mod data_dir_lock;
pub mod error_code;
pub mod fill_only_read;
pub mod group;
pub mod iowq_workers;
pub mod kafka;
mod layers;
pub mod limits;
pub mod logging;
pub mod malloc_tuning;
pub mod memlock;
pub mod metadata;
pub mod metrics;
pub mod partition;
pub mod producer_ids;
pub mod replication;
pub mod security;
pub mod shard;
pub mod signals;
pub mod tls;
pub mod topics;
pub mod txn;
pub mod uring_probe;
pub mod util;
