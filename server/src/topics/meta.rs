//! What every shard serves of the cluster: brokers, topics, and each partition's replicas and
//! leader. Built on the controller shard from the metadata image for every change, broadcast as
//! an `Arc`, so shards read metadata without locks.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sluice_controller::image::{
    AclTable, BrokerImage, MetadataImage, PartitionImage, ScramCredentials,
};
use sluice_controller::records::NO_LEADER;

use super::config::TopicConfigs;
use crate::error_code::ResponseError;
use crate::limits::TOPIC_NAME_BYTES_MAX;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMeta {
    pub name: String,
    /// Kafka topic id (a UUID), as 32 hex digits.
    pub id_hex: String,
    pub partitions: i32,
    pub configs: TopicConfigs,
    /// Replicas, ISR, leader and epochs of each partition (index = partition).
    #[serde(default)]
    pub states: Vec<PartitionImage>,
}

impl TopicMeta {
    pub fn state(&self, partition: i32) -> Option<&PartitionImage> {
        usize::try_from(partition)
            .ok()
            .and_then(|index| self.states.get(index))
    }

    pub fn id(&self) -> uuid::Uuid {
        u128::from_str_radix(&self.id_hex, 16)
            .map(uuid::Uuid::from_u128)
            .unwrap_or(uuid::Uuid::nil())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterMeta {
    /// Bumped on every change; shards apply snapshots in this order.
    pub version: u64,
    pub topics: BTreeMap<String, TopicMeta>,
    /// Every registered broker.
    #[serde(default)]
    pub brokers: BTreeMap<i32, BrokerImage>,
    /// The active controller when this was built (-1: none known).
    #[serde(default)]
    pub controller_id: i32,
    /// SCRAM credentials, shared with the image they came from (not copied per change).
    /// Never persisted with the legacy topic list.
    #[serde(skip)]
    pub scram_credentials: Arc<ScramCredentials>,
    /// The ACLs, shared the same way.
    #[serde(skip)]
    pub acls: Arc<AclTable>,
    /// The metadata offset of the last change of `scram_credentials` (0: none ever): a shard
    /// that cached something derived from them at this offset is current.
    #[serde(skip)]
    pub scram_offset: u64,
    /// The metadata offset of the last change of `acls` (0: none ever): an authorizer that
    /// built its index at this offset needs no rebuild.
    #[serde(skip)]
    pub acls_offset: u64,
}

impl ClusterMeta {
    /// What shards serve of `image`, with the active controller known at the time.
    pub fn from_image(image: &MetadataImage, controller_id: Option<i32>) -> ClusterMeta {
        let topics = image
            .topics
            .values()
            .map(|topic| {
                let meta = TopicMeta {
                    name: topic.name.clone(),
                    id_hex: format!("{:032x}", topic.topic_id.0),
                    partitions: topic.partitions.len() as i32,
                    configs: TopicConfigs {
                        overrides: topic.configs.clone(),
                    },
                    states: topic.partitions.clone(),
                };
                (topic.name.clone(), meta)
            })
            .collect();
        ClusterMeta {
            version: image.offset,
            topics,
            brokers: image.brokers.clone(),
            controller_id: controller_id.unwrap_or(-1),
            scram_credentials: image.scram_credentials.clone(),
            acls: image.acls.clone(),
            scram_offset: image.scram_offset,
            acls_offset: image.acls_offset,
        }
    }

    /// The leader of a partition; None when the partition is unknown or offline.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        let leader = self.topic(topic)?.state(partition)?.leader;
        (leader != NO_LEADER).then_some(leader)
    }

    /// Whether broker `node` may serve Produce, Fetch and ListOffsets for the partition: Ok, or
    /// Kafka's error (unknown partition; not the leader, including an offline partition).
    pub fn check_leader(&self, node: i32, topic: &str, partition: i32) -> Result<(), i16> {
        let Some(state) = self.topic(topic).and_then(|t| t.state(partition)) else {
            return Err(ResponseError::UnknownTopicOrPartition.code());
        };
        if state.leader != node {
            return Err(ResponseError::NotLeaderOrFollower.code());
        }
        Ok(())
    }

    /// True when `node` holds a replica of the partition.
    pub fn hosts(&self, node: i32, topic: &str, partition: i32) -> bool {
        self.topic(topic)
            .and_then(|t| t.state(partition))
            .is_some_and(|state| state.replicas.contains(&node))
    }

    /// The client endpoint of broker `node` (the first it registered).
    pub fn endpoint(&self, node: i32) -> Option<(String, u16)> {
        let broker = self.brokers.get(&node)?;
        let endpoint = broker.endpoints.first()?;
        Some((endpoint.host.clone(), endpoint.port))
    }

    pub fn topic(&self, name: &str) -> Option<&TopicMeta> {
        self.topics.get(name)
    }

    pub fn topic_by_id(&self, id: uuid::Uuid) -> Option<&TopicMeta> {
        self.topics.values().find(|t| t.id() == id)
    }
}

/// A fresh topic id: 128 bits from the clock, the name and the process; unique enough for one
/// broker, never nil.
pub fn new_topic_id(name: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(name.as_bytes());
    hasher.write_u128(nanos);
    let high = hasher.finish() as u128;
    let id = (high << 64) | (nanos as u64 as u128) | 1;
    format!("{id:032x}")
}

/// Kafka's topic name rule: 1..=249 of [a-zA-Z0-9._-], not "." or "..".
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > TOPIC_NAME_BYTES_MAX {
        return Err(format!(
            "topic name must be 1 to {TOPIC_NAME_BYTES_MAX} characters"
        ));
    }
    if name == "." || name == ".." {
        return Err("topic name cannot be '.' or '..'".to_string());
    }
    let legal = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-';
    if !name.chars().all(legal) {
        return Err(format!(
            "topic name '{name}' has characters other than [a-zA-Z0-9._-]"
        ));
    }
    // The group coordinator owns these partition directories; a user topic of the same name
    // would share (and corrupt) them.
    if super::is_internal(name) {
        return Err(format!(
            "'{name}' is an internal topic and cannot be created"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_internal_offsets_topic_cannot_be_created() {
        assert!(validate_topic_name("__consumer_offsets").is_err());
        assert!(validate_topic_name("__consumer_offsets_copy").is_ok());
        assert!(validate_topic_name("__transaction_state").is_err());
    }

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(validate_topic_name("orders.v1_x-2").is_ok());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(validate_topic_name("a/b").is_err());
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
    }

    #[test]
    fn topic_ids_round_trip_and_are_not_nil() {
        let meta = TopicMeta {
            name: "t".into(),
            id_hex: new_topic_id("t"),
            partitions: 1,
            configs: TopicConfigs::default(),
            states: Vec::new(),
        };
        assert!(!meta.id().is_nil());
        assert_eq!(format!("{:032x}", meta.id().as_u128()), meta.id_hex);
    }
}
