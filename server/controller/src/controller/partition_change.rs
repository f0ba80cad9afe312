//! One partition's next state, as a command wants it, and the PartitionChange record that
//! takes the partition there (Kafka's `PartitionChangeBuilder`): start from the current state,
//! set what changes, finish a reassignment whose target replicas are all in sync, and write
//! only the fields that differ. A change that changes nothing writes no record, since every
//! record bumps the partition epoch.

use crate::image::{MetadataImage, PartitionImage, PartitionView};
use crate::records::{LeaderRecoveryState, MetadataRecord, NO_LEADER};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PartitionTarget {
    pub(super) leader: i32,
    pub(super) isr: Vec<i32>,
    pub(super) replicas: Vec<i32>,
    pub(super) leader_recovery_state: LeaderRecoveryState,
    pub(super) adding_replicas: Vec<i32>,
    pub(super) removing_replicas: Vec<i32>,
    /// Bump the leader epoch even if the leader stays: replicas leave the partition, and the
    /// followers removed must be fenced (Kafka's `triggerLeaderEpochBumpForReplicaReassignment`).
    pub(super) bump_leader_epoch: bool,
}

impl PartitionTarget {
    pub(super) fn of(current: &PartitionImage) -> PartitionTarget {
        PartitionTarget {
            leader: current.leader,
            isr: current.isr.clone(),
            replicas: current.replicas.clone(),
            leader_recovery_state: current.leader_recovery_state,
            adding_replicas: current.adding_replicas.clone(),
            removing_replicas: current.removing_replicas.clone(),
            bump_leader_epoch: false,
        }
    }

    /// Finishes the reassignment in progress if every target replica is in the target ISR
    /// (Kafka's `PartitionReassignmentReplicas.maybeCompleteReassignment`): the replicas become
    /// the target, the ISR loses the removed replicas, and if the leader was one of them the
    /// first active target replica in the ISR leads. Returns whether it finished.
    pub(super) fn complete_reassignment(&mut self, image: &MetadataImage) -> bool {
        if self.adding_replicas.is_empty() && self.removing_replicas.is_empty() {
            return false;
        }
        let removing = &self.removing_replicas;
        let isr: Vec<i32> = self
            .isr
            .iter()
            .copied()
            .filter(|r| !removing.contains(r))
            .collect();
        let replicas: Vec<i32> = self
            .replicas
            .iter()
            .copied()
            .filter(|r| !removing.contains(r))
            .collect();
        assert!(
            !replicas.is_empty(),
            "a reassignment keeps a target replica"
        );
        if isr.is_empty() || !replicas.iter().all(|r| isr.contains(r)) {
            return false;
        }
        self.bump_leader_epoch |= !self.removing_replicas.is_empty();
        self.replicas = replicas;
        self.isr = isr;
        self.adding_replicas.clear();
        self.removing_replicas.clear();
        if !self.isr.contains(&self.leader) {
            let active = |r: &i32| image.is_broker_active(*r);
            self.leader = self
                .replicas
                .iter()
                .copied()
                .find(active)
                .unwrap_or(NO_LEADER);
            assert!(self.leader == NO_LEADER || self.isr.contains(&self.leader));
        }
        true
    }

    /// The record that takes `partition` to this target, or `None` if it is there already.
    pub(super) fn record(&self, partition: PartitionView) -> Option<MetadataRecord> {
        let current = partition.image;
        let leader_changes = self.leader != current.leader;
        let isr = differs(&self.isr, &current.isr);
        let replicas = differs(&self.replicas, &current.replicas);
        let state = differs(&self.leader_recovery_state, &current.leader_recovery_state);
        let adding = differs(&self.adding_replicas, &current.adding_replicas);
        let removing = differs(&self.removing_replicas, &current.removing_replicas);
        let nothing = !leader_changes
            && !self.bump_leader_epoch
            && isr.is_none()
            && replicas.is_none()
            && state.is_none()
            && adding.is_none()
            && removing.is_none();
        if nothing {
            return None;
        }
        Some(MetadataRecord::PartitionChange {
            topic_id: partition.topic.topic_id,
            partition: partition.partition,
            leader: leader_changes.then_some(self.leader),
            isr,
            replicas,
            leader_recovery_state: state,
            adding_replicas: adding,
            removing_replicas: removing,
            bump_leader_epoch: self.bump_leader_epoch && !leader_changes,
        })
    }
}

/// `target` if it differs from `current`: a field the record sets.
fn differs<T: PartialEq + Clone>(target: &T, current: &T) -> Option<T> {
    (target != current).then(|| target.clone())
}
