//! Partition reassignment (KIP-455, Kafka's `ReplicationControlManager`
//! `changePartitionReassignment` / `cancelPartitionReassignment`).
//!
//! A reassignment to target replicas T of a partition with replicas R runs in two steps:
//!
//! 1. one PartitionChange sets replicas = T followed by R \ T, `adding_replicas` = T \ R and
//!    `removing_replicas` = R \ T. The added replicas start fetching as followers;
//! 2. once every replica of T is in the ISR (the leader's AlterPartition says so, or the tick
//!    sees it), a second change sets replicas = T, ISR = ISR ∩ T, clears adding and removing,
//!    bumps the leader epoch if replicas left, and elects a new leader from T if the leader
//!    was removed.
//!
//! A reassignment that only reorders replicas, or whose targets are all in sync already,
//! takes one step. A new target replaces a running reassignment (from the partition's current
//! replicas, as Kafka does). Cancelling (no target) restores the replicas without the added
//! ones; if only added replicas are in sync that needs an unclean election, refused unless the
//! topic allows one.

use std::collections::BTreeSet;

use super::batch::BatchBuilder;
use super::election::unclean_election_enabled;
use super::error::{ControllerError, ErrorKind};
use super::limits::REASSIGNMENTS_PER_REQUEST_MAX;
use super::partition_change::PartitionTarget;
use super::Controller;
use crate::image::{MetadataImage, PartitionView};
use crate::records::{LeaderRecoveryState, MetadataRecord, RecordBatch, NO_LEADER};

/// One partition of an AlterPartitionReassignments request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionReassignment {
    pub topic: String,
    pub partition: i32,
    /// The target replicas, preferred leader first; `None` cancels the running reassignment.
    pub replicas: Option<Vec<i32>>,
    /// KIP-860 (AlterPartitionReassignments v1): false refuses a target of another length
    /// than the partition's current target replicas (INVALID_REPLICATION_FACTOR).
    pub allow_replication_factor_change: bool,
}

/// What became of one entry.
pub type ReassignmentResult = Result<(), ControllerError>;

impl Controller {
    /// Starts, replaces or cancels reassignments, one result per entry in request order. The
    /// entries that succeed share one batch (Kafka's atomic result); later entries see the
    /// changes of earlier ones. Refused whole only when it names more than
    /// [`REASSIGNMENTS_PER_REQUEST_MAX`] partitions.
    pub fn alter_partition_reassignments(
        &mut self,
        image: &MetadataImage,
        reassignments: &[PartitionReassignment],
    ) -> Result<(RecordBatch, Vec<ReassignmentResult>), ControllerError> {
        if reassignments.len() > REASSIGNMENTS_PER_REQUEST_MAX {
            return Err(ControllerError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "{} reassignments exceed the limit of {REASSIGNMENTS_PER_REQUEST_MAX}",
                    reassignments.len()
                ),
            ));
        }
        let unclean_default = self.config.unclean_leader_election_enable;
        let mut batch = BatchBuilder::new(image);
        let results: Vec<ReassignmentResult> = reassignments
            .iter()
            .map(|entry| {
                let record = reassignment_record(batch.image(), entry, unclean_default)?;
                if let Some(record) = record {
                    batch.push(record);
                }
                tracing::info!(
                    topic = %entry.topic,
                    partition = entry.partition,
                    target = ?entry.replicas,
                    "partition reassignment changed"
                );
                Ok(())
            })
            .collect();
        assert_eq!(results.len(), reassignments.len());
        Ok((batch.finish(), results))
    }
}

/// Finishes every running reassignment whose target replicas are all in the ISR.
pub(super) fn complete_reassignments(batch: &mut BatchBuilder) {
    let image = batch.image();
    let changes: Vec<MetadataRecord> = image
        .reassigning_partitions()
        .filter_map(|p| {
            let mut target = PartitionTarget::of(p.image);
            if !target.complete_reassignment(image) {
                return None;
            }
            tracing::info!(
                topic = %p.topic.name,
                partition = p.partition,
                replicas = ?target.replicas,
                "partition reassignment completed"
            );
            target.record(p)
        })
        .collect();
    for change in changes {
        batch.push(change);
    }
}

fn reassignment_record(
    image: &MetadataImage,
    entry: &PartitionReassignment,
    unclean_default: bool,
) -> Result<Option<MetadataRecord>, ControllerError> {
    let unknown = || {
        ControllerError::new(
            ErrorKind::UnknownTopicOrPartition,
            format!("no partition {}-{}", entry.topic, entry.partition),
        )
    };
    let topic = image.topic(&entry.topic).ok_or_else(unknown)?;
    let index = usize::try_from(entry.partition).map_err(|_| unknown())?;
    let partition = topic.partitions.get(index).ok_or_else(unknown)?;
    let view = PartitionView {
        topic,
        partition: entry.partition,
        image: partition,
    };
    let target = match &entry.replicas {
        Some(replicas) => {
            let factor = partition.target_replicas().len();
            if !entry.allow_replication_factor_change && replicas.len() != factor {
                return Err(ControllerError::new(
                    ErrorKind::InvalidReplicationFactor,
                    format!(
                        "{}-{} has {factor} replicas; the target {replicas:?} changes that",
                        entry.topic, entry.partition
                    ),
                ));
            }
            change_target(image, view, replicas)?
        }
        None => cancel_target(image, view, unclean_default)?,
    };
    Ok(target.record(view))
}

fn change_target(
    image: &MetadataImage,
    view: PartitionView,
    replicas: &[i32],
) -> Result<PartitionTarget, ControllerError> {
    validate_target(image, replicas)?;
    let current = &view.image.replicas;
    let removing: Vec<i32> = current
        .iter()
        .copied()
        .filter(|r| !replicas.contains(r))
        .collect();
    let adding: Vec<i32> = replicas
        .iter()
        .copied()
        .filter(|r| !current.contains(r))
        .collect();
    let mut target = PartitionTarget::of(view.image);
    target.replicas = replicas.iter().chain(&removing).copied().collect();
    target.adding_replicas = adding;
    target.removing_replicas = removing;
    target.complete_reassignment(image);
    Ok(target)
}

/// Kafka's `validateManualPartitionAssignment`: not empty, no repeats, registered brokers
/// (fenced ones too: they may catch up later). The replication factor may change.
fn validate_target(image: &MetadataImage, replicas: &[i32]) -> Result<(), ControllerError> {
    let invalid = |why: String| {
        Err(ControllerError::new(
            ErrorKind::InvalidReplicaAssignment,
            why,
        ))
    };
    if replicas.is_empty() {
        return invalid("the target replica list is empty".into());
    }
    let distinct: BTreeSet<i32> = replicas.iter().copied().collect();
    if distinct.len() != replicas.len() {
        return invalid(format!("target replicas {replicas:?} repeat a broker"));
    }
    if let Some(unknown) = replicas.iter().find(|r| image.broker(**r).is_none()) {
        return invalid(format!("target broker {unknown} is not registered"));
    }
    Ok(())
}

/// Kafka's `PartitionReassignmentRevert`: the replicas and ISR without the added replicas.
fn cancel_target(
    image: &MetadataImage,
    view: PartitionView,
    unclean_default: bool,
) -> Result<PartitionTarget, ControllerError> {
    let current = view.image;
    if !current.is_reassigning() {
        return Err(ControllerError::new(
            ErrorKind::NoReassignmentInProgress,
            format!(
                "{}-{} is not being reassigned",
                view.topic.name, view.partition
            ),
        ));
    }
    let adding = &current.adding_replicas;
    let mut target = PartitionTarget::of(current);
    target.replicas.retain(|r| !adding.contains(r));
    target.isr.retain(|r| !adding.contains(r));
    target.bump_leader_epoch = !adding.is_empty();
    target.adding_replicas.clear();
    target.removing_replicas.clear();
    assert!(
        !target.replicas.is_empty(),
        "adding replicas are never all the replicas"
    );
    let active = |r: &i32| image.is_broker_active(*r);
    if target.isr.is_empty() {
        if !unclean_election_enabled(image, view.topic, unclean_default) {
            return Err(ControllerError::new(
                ErrorKind::InvalidReplicaAssignment,
                format!(
                    "cancelling the reassignment of {}-{} needs an unclean leader election: \
                     only added replicas are in sync",
                    view.topic.name, view.partition
                ),
            ));
        }
        let leader = target.replicas.iter().copied().find(active);
        target.isr = vec![leader.unwrap_or(target.replicas[0])];
        target.leader = leader.unwrap_or(NO_LEADER);
        target.leader_recovery_state = LeaderRecoveryState::Recovering;
    } else if !target.isr.contains(&target.leader) {
        let in_sync = |r: &i32| target.isr.contains(r) && active(r);
        target.leader = target
            .replicas
            .iter()
            .copied()
            .find(in_sync)
            .unwrap_or(NO_LEADER);
    }
    Ok(target)
}
