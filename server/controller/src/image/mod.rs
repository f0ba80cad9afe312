//! The metadata image: what every node knows of the cluster after applying the committed
//! records in log order. Built the same way on every node, so every broker serves identical
//! metadata. Immutable to readers: the server clones it into an `Arc` per change.
//!
//! - [`apply`](MetadataImage::apply): one committed entry at a time, whole or not at all, with
//!   the image's invariants checked after every entry (`invariants.rs`).
//! - `lookup.rs`: the questions the server and the controller ask of an image (live brokers,
//!   leaders and their endpoints, offline replicas, credentials and ACLs).
//! - `apply_security.rs`: SCRAM credentials and ACLs. They sit behind an `Arc`, so the copy
//!   that `apply` makes of the image for every entry shares them unless the entry changes
//!   them, and a reader learns whether they changed from `scram_offset` / `acls_offset`
//!   alone (or `Arc::ptr_eq`).

mod acl_table;
mod apply;
mod apply_broker;
mod apply_config;
mod apply_producer_ids;
mod apply_security;
mod apply_topic;
mod invariants;
mod lookup;
#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod tests;

pub use acl_table::AclTable;
pub use lookup::PartitionView;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::records::{Endpoint, LeaderRecoveryState, ScramCredential, TopicId};

/// SCRAM credentials: user name → mechanism code (1 SCRAM-SHA-256, 2 SCRAM-SHA-512) →
/// credential. A user with no credential left is not in the map.
pub type ScramCredentials = BTreeMap<String, BTreeMap<i8, ScramCredential>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerImage {
    pub broker_id: i32,
    #[serde(with = "crate::records::hex_u128")]
    pub incarnation_id: u128,
    pub broker_epoch: i64,
    pub endpoints: Vec<Endpoint>,
    pub rack: Option<String>,
    pub fenced: bool,
    pub shutting_down: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionImage {
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    /// `records::NO_LEADER` when offline.
    pub leader: i32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    /// `Recovering` after an unclean election, until the leader's AlterPartition says it
    /// recovered. Absent from images written before unclean elections existed.
    #[serde(default, skip_serializing_if = "LeaderRecoveryState::is_recovered")]
    pub leader_recovery_state: LeaderRecoveryState,
    /// A reassignment in progress (KIP-455): the replicas it adds. While one runs, `replicas`
    /// is the target followed by `removing_replicas`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adding_replicas: Vec<i32>,
    /// The replicas the reassignment in progress removes once every target replica is in
    /// the ISR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removing_replicas: Vec<i32>,
}

impl PartitionImage {
    pub fn is_reassigning(&self) -> bool {
        !self.adding_replicas.is_empty() || !self.removing_replicas.is_empty()
    }

    /// The replicas the partition is to have: all of them unless a reassignment is removing
    /// some (Kafka's target replicas).
    pub fn target_replicas(&self) -> Vec<i32> {
        let kept = self.replicas.iter().copied();
        kept.filter(|r| !self.removing_replicas.contains(r))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicImage {
    pub name: String,
    pub topic_id: TopicId,
    /// Index = partition number.
    pub partitions: Vec<PartitionImage>,
    /// Topic config overrides, Kafka's keys and string values.
    pub configs: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataImage {
    /// Raft index of the last applied entry (0: nothing applied). The broker's "metadata
    /// offset".
    pub offset: u64,
    pub brokers: BTreeMap<i32, BrokerImage>,
    pub topics: BTreeMap<String, TopicImage>,
    /// Broker-level and cluster-level (key "") config overrides.
    pub broker_configs: BTreeMap<String, BTreeMap<String, String>>,
    /// Largest broker epoch ever handed out; the next registration gets a larger one.
    pub broker_epoch_max: i64,
    /// The first producer id of the next block (every id below it was handed out). Absent from
    /// images written before producer ids existed: 0.
    #[serde(default)]
    pub next_producer_id_block_start: i64,
    /// SCRAM credentials (see [`ScramCredentials`]). Absent from images written before
    /// security existed: none.
    #[serde(default, with = "shared")]
    pub scram_credentials: Arc<ScramCredentials>,
    /// The ACLs, by id and by fields; no two have identical fields.
    #[serde(default, with = "shared")]
    pub acls: Arc<AclTable>,
    /// The offset of the last entry that changed a SCRAM credential (0: none ever). A reader
    /// that saw this offset has seen the current credentials.
    #[serde(default)]
    pub scram_offset: u64,
    /// The offset of the last entry that changed the ACLs (0: none ever). An authorizer that
    /// built its index at this offset needs no rebuild.
    #[serde(default)]
    pub acls_offset: u64,
}

/// Serde for a shared map: as the map itself.
mod shared {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Arc<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        T::serialize(value, serializer)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Arc<T>, D::Error> {
        T::deserialize(deserializer).map(Arc::new)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApplyError {
    #[error("record refers to unknown topic id {0:032x}")]
    UnknownTopicId(u128),
    #[error("record refers to unknown broker {0}")]
    UnknownBroker(i32),
    #[error("record refers to unknown ACL id {0:032x}")]
    UnknownAclId(u128),
    #[error(
        "record removes a SCRAM credential that {user:?} does not have (mechanism {mechanism})"
    )]
    UnknownScramCredential { user: String, mechanism: i8 },
    #[error("record is inconsistent with the image: {0}")]
    Inconsistent(String),
}
