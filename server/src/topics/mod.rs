//! Topic metadata: the cluster's topic list with per-topic configs, persisted in the data dir.
//! Shard 0 changes it ([`crate::shard::metadata`]); every shard holds an immutable snapshot.

pub mod config;
pub mod meta;
pub mod store;

pub use config::{ConfigError, TopicConfigs};
pub use meta::{ClusterMeta, TopicMeta};
