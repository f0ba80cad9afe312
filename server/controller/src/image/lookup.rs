//! Questions the server (Metadata, leadership checks, FindCoordinator) and the controller ask
//! of an image. All of them read only.

use super::{BrokerImage, MetadataImage, PartitionImage, TopicImage};
use crate::records::{AclEntry, AclId, Endpoint, ScramCredential, TopicId, NO_LEADER};

/// One partition of a topic, as the lookups hand it out.
#[derive(Debug, Clone, Copy)]
pub struct PartitionView<'a> {
    pub topic: &'a TopicImage,
    pub partition: i32,
    pub image: &'a PartitionImage,
}

impl MetadataImage {
    pub fn topic(&self, name: &str) -> Option<&TopicImage> {
        self.topics.get(name)
    }

    /// A scan over the topics: ids are not indexed.
    pub fn topic_by_id(&self, id: TopicId) -> Option<&TopicImage> {
        self.topics.values().find(|t| t.topic_id == id)
    }

    pub fn partition(&self, topic: &str, partition: i32) -> Option<&PartitionImage> {
        let index = usize::try_from(partition).ok()?;
        self.topics.get(topic)?.partitions.get(index)
    }

    pub fn broker(&self, broker_id: i32) -> Option<&BrokerImage> {
        self.brokers.get(&broker_id)
    }

    /// Registered and unfenced, in id order: the brokers a Metadata response lists (KRaft
    /// lists a broker in controlled shutdown too, since it still serves until it stops).
    pub fn alive_brokers(&self) -> impl Iterator<Item = &BrokerImage> {
        self.brokers.values().filter(|b| !b.fenced)
    }

    /// Registered, unfenced and not shutting down: a broker that may lead and that placement
    /// may choose (Kafka's "active" broker).
    pub fn is_broker_active(&self, broker_id: i32) -> bool {
        self.brokers
            .get(&broker_id)
            .is_some_and(|b| !b.fenced && !b.shutting_down)
    }

    /// The ids of the active brokers (see [`is_broker_active`](Self::is_broker_active)),
    /// ascending.
    pub fn active_broker_ids(&self) -> Vec<i32> {
        let active = self
            .brokers
            .values()
            .filter(|b| !b.fenced && !b.shutting_down);
        active.map(|b| b.broker_id).collect()
    }

    pub fn fenced_broker_count(&self) -> usize {
        self.brokers.values().filter(|b| b.fenced).count()
    }

    /// Every partition, by topic name then partition number.
    pub fn partitions(&self) -> impl Iterator<Item = PartitionView<'_>> {
        self.topics.values().flat_map(|topic| {
            topic
                .partitions
                .iter()
                .zip(0..)
                .map(move |(image, partition)| PartitionView {
                    topic,
                    partition,
                    image,
                })
        })
    }

    pub fn partitions_led_by(&self, broker_id: i32) -> impl Iterator<Item = PartitionView<'_>> {
        assert!(broker_id != NO_LEADER);
        self.partitions()
            .filter(move |p| p.image.leader == broker_id)
    }

    /// Partitions whose leader is [`NO_LEADER`].
    pub fn offline_partitions(&self) -> impl Iterator<Item = PartitionView<'_>> {
        self.partitions().filter(|p| p.image.leader == NO_LEADER)
    }

    /// Partitions with a reassignment in progress (KIP-455).
    pub fn reassigning_partitions(&self) -> impl Iterator<Item = PartitionView<'_>> {
        self.partitions().filter(|p| p.image.is_reassigning())
    }

    /// The endpoint of the partition's leader on listener `listener_name`; `None` when the
    /// partition or its leader is unknown, offline, or does not advertise that listener.
    pub fn leader_endpoint(
        &self,
        topic: &str,
        partition: i32,
        listener_name: &str,
    ) -> Option<&Endpoint> {
        let leader = self.partition(topic, partition)?.leader;
        self.broker_endpoint(leader, listener_name)
    }

    pub fn broker_endpoint(&self, broker_id: i32, listener_name: &str) -> Option<&Endpoint> {
        let broker = self.brokers.get(&broker_id)?;
        broker.endpoints.iter().find(|e| e.name == listener_name)
    }

    /// The replicas a Metadata response reports offline: not registered, or fenced.
    pub fn offline_replicas(&self, partition: &PartitionImage) -> Vec<i32> {
        let offline = |id: &&i32| self.brokers.get(id).is_none_or(|b| b.fenced);
        partition.replicas.iter().filter(offline).copied().collect()
    }

    /// `user`'s credential for `mechanism` (1 SCRAM-SHA-256, 2 SCRAM-SHA-512).
    pub fn scram_credential(&self, user: &str, mechanism: i8) -> Option<&ScramCredential> {
        self.scram_credentials.get(user)?.get(&mechanism)
    }

    /// The users with at least one SCRAM credential, by name.
    pub fn scram_users(&self) -> impl Iterator<Item = &str> {
        self.scram_credentials.keys().map(String::as_str)
    }

    /// Every ACL, by id.
    pub fn acls(&self) -> impl Iterator<Item = (AclId, &AclEntry)> {
        self.acls.iter()
    }

    /// The id of the live ACL identical to `entry`.
    pub fn acl_id_of(&self, entry: &AclEntry) -> Option<AclId> {
        self.acls.id_of(entry)
    }
}
