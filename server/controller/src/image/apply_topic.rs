//! Topic and partition records.

use super::invariants::check_partition;
use super::{ApplyError, MetadataImage, PartitionImage, TopicImage};
use crate::records::{LeaderRecoveryState, TopicId};

/// The fields of a PartitionChange record; `None` keeps the current value.
#[derive(Debug, Clone, Copy)]
pub(super) struct PartitionChange<'a> {
    pub(super) leader: Option<i32>,
    pub(super) isr: Option<&'a [i32]>,
    pub(super) replicas: Option<&'a [i32]>,
    pub(super) leader_recovery_state: Option<LeaderRecoveryState>,
    pub(super) adding_replicas: Option<&'a [i32]>,
    pub(super) removing_replicas: Option<&'a [i32]>,
    pub(super) bump_leader_epoch: bool,
}

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

    /// Every change bumps the partition epoch; a change of leader, or an explicit bump, also
    /// bumps the leader epoch.
    pub(super) fn apply_partition_change(
        &mut self,
        topic_id: TopicId,
        partition: i32,
        change: PartitionChange,
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
        let new_leader = change.leader.filter(|leader| *leader != current.leader);
        if let Some(leader) = new_leader {
            next.leader = leader;
        }
        if new_leader.is_some() || change.bump_leader_epoch {
            next.leader_epoch = next.leader_epoch.checked_add(1).ok_or_else(overflow)?;
        }
        if let Some(isr) = change.isr {
            next.isr = isr.to_vec();
        }
        if let Some(replicas) = change.replicas {
            next.replicas = replicas.to_vec();
        }
        if let Some(state) = change.leader_recovery_state {
            next.leader_recovery_state = state;
        }
        if let Some(adding) = change.adding_replicas {
            next.adding_replicas = adding.to_vec();
        }
        if let Some(removing) = change.removing_replicas {
            next.removing_replicas = removing.to_vec();
        }
        check_partition(&next)
            .map_err(|e| ApplyError::Inconsistent(format!("{name}-{partition}: {e}")))?;
        assert!(next.partition_epoch > current.partition_epoch);
        assert!(next.leader_epoch >= current.leader_epoch);
        assert!(next.leader == current.leader || next.leader_epoch > current.leader_epoch);
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
