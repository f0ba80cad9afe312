//! Topic and partition records.

use super::invariants::check_partition;
use super::{ApplyError, MetadataImage, PartitionImage, TopicImage};
use crate::records::TopicId;

impl MetadataImage {
    pub(super) fn apply_topic(&mut self, name: &str, topic_id: TopicId) -> Result<(), ApplyError> {
        if name.is_empty() {
            return Err(ApplyError::Inconsistent("topic with an empty name".into()));
        }
        if topic_id.0 == 0 {
            return Err(ApplyError::Inconsistent(format!(
                "topic {name} has the zero topic id"
            )));
        }
        if self.topics.contains_key(name) {
            return Err(ApplyError::Inconsistent(format!(
                "topic {name} exists already"
            )));
        }
        if let Some(existing) = self.topic_by_id(topic_id) {
            return Err(ApplyError::Inconsistent(format!(
                "topic {name} reuses the id of topic {}",
                existing.name
            )));
        }
        let topic = TopicImage {
            name: name.to_owned(),
            topic_id,
            partitions: Vec::new(),
            configs: Default::default(),
        };
        self.topics.insert(name.to_owned(), topic);
        Ok(())
    }

    /// Partitions are created in order: `partition` is the topic's current partition count.
    pub(super) fn apply_partition(
        &mut self,
        topic_id: TopicId,
        partition: i32,
        image: PartitionImage,
    ) -> Result<(), ApplyError> {
        let topic = self.topic_by_id_mut(topic_id)?;
        let count = topic.partitions.len();
        if usize::try_from(partition).ok() != Some(count) {
            return Err(ApplyError::Inconsistent(format!(
                "partition {partition} of {} created while it has {count} partitions",
                topic.name
            )));
        }
        check_partition(&image)
            .map_err(|e| ApplyError::Inconsistent(format!("{}-{partition}: {e}", topic.name)))?;
        topic.partitions.push(image);
        Ok(())
    }

    /// Every change bumps the partition epoch; a change of leader also bumps the leader epoch.
    pub(super) fn apply_partition_change(
        &mut self,
        topic_id: TopicId,
        partition: i32,
        leader: Option<i32>,
        isr: Option<&[i32]>,
        replicas: Option<&[i32]>,
    ) -> Result<(), ApplyError> {
        let topic = self.topic_by_id_mut(topic_id)?;
        let name = &topic.name;
        let index = usize::try_from(partition)
            .ok()
            .filter(|&index| index < topic.partitions.len())
            .ok_or_else(|| {
                ApplyError::Inconsistent(format!("change of unknown partition {name}-{partition}"))
            })?;
        let current = &topic.partitions[index];
        let overflow = || ApplyError::Inconsistent(format!("{name}-{partition}: epoch overflow"));
        let mut next = current.clone();
        next.partition_epoch = next.partition_epoch.checked_add(1).ok_or_else(overflow)?;
        if let Some(leader) = leader {
            if leader != current.leader {
                next.leader = leader;
                next.leader_epoch = next.leader_epoch.checked_add(1).ok_or_else(overflow)?;
            }
        }
        if let Some(isr) = isr {
            next.isr = isr.to_vec();
        }
        if let Some(replicas) = replicas {
            next.replicas = replicas.to_vec();
        }
        check_partition(&next)
            .map_err(|e| ApplyError::Inconsistent(format!("{name}-{partition}: {e}")))?;
        assert!(next.partition_epoch > current.partition_epoch);
        assert!(next.leader_epoch >= current.leader_epoch);
        topic.partitions[index] = next;
        Ok(())
    }

    pub(super) fn apply_remove_topic(&mut self, topic_id: TopicId) -> Result<(), ApplyError> {
        let name = self.topic_by_id_mut(topic_id)?.name.clone();
        let removed = self.topics.remove(&name);
        assert!(removed.is_some());
        Ok(())
    }

    fn topic_by_id_mut(&mut self, topic_id: TopicId) -> Result<&mut TopicImage, ApplyError> {
        self.topics
            .values_mut()
            .find(|t| t.topic_id == topic_id)
            .ok_or(ApplyError::UnknownTopicId(topic_id.0))
    }
}
