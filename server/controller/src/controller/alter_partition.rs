//! AlterPartition (KIP-497): a partition leader asks the controller to change its ISR, since
//! only the leader sees which followers keep up. Kafka's
//! `ReplicationControlManager.alterPartition` and its checks, in Kafka's order:
//!
//! 1. the requester's broker epoch is its registered one, else STALE_BROKER_EPOCH;
//! 2. the topic id and partition exist, else UNKNOWN_TOPIC_OR_PARTITION;
//! 3. neither epoch is newer than the image's, else NOT_CONTROLLER (this controller is behind,
//!    so likely deposed);
//! 4. the leader epoch is current, else FENCED_LEADER_EPOCH;
//! 5. the requester leads, else NOT_LEADER_OR_FOLLOWER (Kafka: INVALID_REQUEST);
//! 6. the partition epoch is current, else INVALID_UPDATE_VERSION: of two requests made from
//!    the same state, the second loses;
//! 7. the new ISR is distinct, within the replicas and holds the leader, and a leader still
//!    recovering from an unclean election keeps it to itself, else INVALID_REQUEST (the
//!    controller never removes the leader: the leader decides, by lag, whom to drop);
//! 8. every broker the ISR gains is registered, unfenced and not shutting down, else
//!    INELIGIBLE_REPLICA (KIP-841).
//!
//! Success writes one PartitionChange (a new partition epoch, the same leader epoch), or none
//! when nothing changes. An ISR that now holds every target replica of a reassignment finishes
//! it, which may move the leadership away from the requester (Kafka answers
//! NEW_LEADER_ELECTED; ours answers success with the new, higher leader epoch, which tells the
//! requester it no longer leads that epoch).

use std::collections::BTreeSet;

use super::batch::BatchBuilder;
use super::error::{ControllerError, ErrorKind};
use super::partition_change::PartitionTarget;
use super::Controller;
use crate::image::{MetadataImage, PartitionImage, PartitionView};
use crate::records::{LeaderRecoveryState, RecordBatch, TopicId, NO_LEADER};

/// One partition's AlterPartition entry, with the requesting broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterPartition {
    pub broker_id: i32,
    pub broker_epoch: i64,
    pub topic_id: TopicId,
    pub partition: i32,
    /// The requester's leader epoch and partition epoch: the state it decided on.
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    pub new_isr: Vec<i32>,
    /// Kafka's `LeaderRecoveryState`: true = RECOVERED (0), the normal case; false =
    /// RECOVERING (1), only from a leader elected uncleanly that has not finished recovering.
    /// RECOVERED never goes back to RECOVERING.
    pub leader_recovered: bool,
}

/// The partition's state once the change is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterPartitionReply {
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    pub isr: Vec<i32>,
}

impl Controller {
    pub fn alter_partition(
        &mut self,
        image: &MetadataImage,
        _now_ms: u64,
        request: AlterPartition,
    ) -> Result<(RecordBatch, AlterPartitionReply), ControllerError> {
        check_broker_epoch(image, request.broker_id, request.broker_epoch)?;
        let view = find_partition(image, request.topic_id, request.partition)?;
        check_epochs_and_leader(view, &request)?;
        check_new_isr(image, view.image, &request)?;

        let mut target = PartitionTarget::of(view.image);
        target.isr = request.new_isr.clone();
        if request.leader_recovered {
            target.leader_recovery_state = LeaderRecoveryState::Recovered;
        }
        let completed = target.complete_reassignment(image);
        let mut batch = BatchBuilder::new(image);
        if let Some(record) = target.record(view) {
            batch.push(record);
        }
        let after = find_partition(batch.image(), request.topic_id, request.partition)
            .expect("a PartitionChange keeps its partition")
            .image;
        assert!(after.isr.contains(&after.leader) || after.leader == NO_LEADER);
        assert!(batch.is_empty() || after.partition_epoch == view.image.partition_epoch + 1);
        let reply = AlterPartitionReply {
            leader_epoch: after.leader_epoch,
            partition_epoch: after.partition_epoch,
            isr: after.isr.clone(),
        };
        tracing::debug!(
            topic = %view.topic.name,
            partition = request.partition,
            broker_id = request.broker_id,
            isr = ?reply.isr,
            completed_reassignment = completed,
            "AlterPartition"
        );
        Ok((batch.finish(), reply))
    }
}

fn check_broker_epoch(
    image: &MetadataImage,
    broker_id: i32,
    broker_epoch: i64,
) -> Result<(), ControllerError> {
    let registered = image.broker(broker_id).map(|b| b.broker_epoch);
    if registered != Some(broker_epoch) {
        return Err(ControllerError::new(
            ErrorKind::StaleBrokerEpoch,
            format!(
                "broker {broker_id} sends AlterPartition with epoch {broker_epoch}, registered: \
                 {registered:?}"
            ),
        ));
    }
    Ok(())
}

fn find_partition(
    image: &MetadataImage,
    topic_id: TopicId,
    partition: i32,
) -> Result<PartitionView<'_>, ControllerError> {
    let unknown = || {
        ControllerError::new(
            ErrorKind::UnknownTopicOrPartition,
            format!("no partition {partition} of topic id {:032x}", topic_id.0),
        )
    };
    let topic = image.topic_by_id(topic_id).ok_or_else(unknown)?;
    let index = usize::try_from(partition).map_err(|_| unknown())?;
    let partition_image = topic.partitions.get(index).ok_or_else(unknown)?;
    Ok(PartitionView {
        topic,
        partition,
        image: partition_image,
    })
}

fn check_epochs_and_leader(
    view: PartitionView,
    request: &AlterPartition,
) -> Result<(), ControllerError> {
    let current = view.image;
    let name = format!("{}-{}", view.topic.name, view.partition);
    let refuse = |kind, why: String| Err(ControllerError::new(kind, format!("{name}: {why}")));
    if request.leader_epoch > current.leader_epoch
        || request.partition_epoch > current.partition_epoch
    {
        return refuse(
            ErrorKind::NotController,
            format!(
                "epochs {}/{} are newer than this controller's {}/{}",
                request.leader_epoch,
                request.partition_epoch,
                current.leader_epoch,
                current.partition_epoch
            ),
        );
    }
    if request.leader_epoch < current.leader_epoch {
        return refuse(
            ErrorKind::FencedLeaderEpoch,
            format!(
                "leader epoch {} is older than {}",
                request.leader_epoch, current.leader_epoch
            ),
        );
    }
    if request.broker_id != current.leader {
        return refuse(
            ErrorKind::NotLeaderOrFollower,
            format!(
                "broker {} does not lead it; {} does",
                request.broker_id, current.leader
            ),
        );
    }
    if request.partition_epoch < current.partition_epoch {
        return refuse(
            ErrorKind::InvalidUpdateVersion,
            format!(
                "partition epoch {} is older than {}",
                request.partition_epoch, current.partition_epoch
            ),
        );
    }
    assert_eq!(request.leader_epoch, current.leader_epoch);
    assert_eq!(request.partition_epoch, current.partition_epoch);
    Ok(())
}

fn check_new_isr(
    image: &MetadataImage,
    current: &PartitionImage,
    request: &AlterPartition,
) -> Result<(), ControllerError> {
    let new_isr = &request.new_isr;
    let invalid = |why: String| Err(ControllerError::new(ErrorKind::InvalidRequest, why));
    let distinct: BTreeSet<i32> = new_isr.iter().copied().collect();
    if distinct.len() != new_isr.len() {
        return invalid(format!("new ISR {new_isr:?} repeats a broker"));
    }
    if let Some(outsider) = new_isr.iter().find(|r| !current.replicas.contains(r)) {
        return invalid(format!(
            "new ISR member {outsider} is not among replicas {:?}",
            current.replicas
        ));
    }
    if !new_isr.contains(&current.leader) {
        return invalid(format!(
            "new ISR {new_isr:?} leaves out the leader {}",
            current.leader
        ));
    }
    if !request.leader_recovered && new_isr.len() > 1 {
        return invalid(format!(
            "new ISR {new_isr:?} grows while the leader is still recovering"
        ));
    }
    if current.leader_recovery_state.is_recovered() && !request.leader_recovered {
        return invalid("a recovered leader cannot go back to recovering".into());
    }
    let added = new_isr.iter().filter(|r| !current.isr.contains(r));
    for &broker_id in added {
        let why = match image.broker(broker_id) {
            None => "not registered",
            Some(broker) if broker.shutting_down => "shutting down",
            Some(broker) if broker.fenced => "fenced",
            Some(_) => continue,
        };
        return Err(ControllerError::new(
            ErrorKind::IneligibleReplica,
            format!("broker {broker_id} cannot join the ISR: {why}"),
        ));
    }
    Ok(())
}
