//! Topic metadata as data: the cluster's topic list with per-topic configs, persisted in the
//! data dir, and the internal topics' names. The metadata subsystem (`crate::metadata`) changes
//! it on shard 0; every shard holds an immutable snapshot in a [`MetaCell`].

pub mod config;
pub mod meta;
pub mod meta_cell;
pub mod store;

pub use config::{ConfigError, TopicConfigs};
pub use meta::{ClusterMeta, TopicMeta};
pub use meta_cell::MetaCell;

/// The internal topic of consumer-group state (Kafka's name).
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";
/// The internal topic of transaction-coordinator state (Kafka's name).
pub const TXN_TOPIC: &str = "__transaction_state";

/// True for the topics the broker's own coordinators own.
pub fn is_internal(name: &str) -> bool {
    name == OFFSETS_TOPIC || name == TXN_TOPIC
}
