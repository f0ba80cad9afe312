//! On the controller shard: a partition leader's ISR changes (AlterPartition) and partition
//! reassignments, sent to the active controller (here or on another node) and answered once
//! this broker applied their records, so the caller's metadata already shows them. Any shard
//! reaches these through `MetadataService` (the metadata mesh).

use std::time::Duration;

use super::messages::{AlterPartitionOutcome, AlterPartitionRequest, Refusal};
use crate::cluster::wire::{
    ControllerReply, ControllerRequest, OngoingReassignment, WireReassignment,
};
use crate::cluster::ClusterService;
use crate::error_code::ResponseError;
use crate::limits::METADATA_APPLY_MS_MAX;

/// Fills in this broker's id and epoch and the topic's id (from this node's image: a topic
/// deleted and created again under the same name meanwhile gets the new id, and the
/// controller then judges the request by the new topic's epochs).
pub(super) async fn alter_partition(
    cluster: &ClusterService,
    request: AlterPartitionRequest,
) -> Result<AlterPartitionOutcome, Refusal> {
    let broker_epoch = cluster.broker().epoch();
    if broker_epoch < 0 {
        return Err((
            ResponseError::StaleBrokerEpoch.code(),
            "this broker is not registered with the controller".to_string(),
        ));
    }
    let topic_id = cluster
        .image()
        .topic(&request.topic)
        .map(|topic| topic.topic_id)
        .ok_or_else(|| {
            (
                ResponseError::UnknownTopicOrPartition.code(),
                format!("no topic {}", request.topic),
            )
        })?;
    let controller_request = ControllerRequest::AlterPartition {
        broker_id: cluster.node_id(),
        broker_epoch,
        topic_id,
        partition: request.partition,
        leader_epoch: request.leader_epoch,
        partition_epoch: request.partition_epoch,
        new_isr: request.new_isr,
        leader_recovered: request.leader_recovered,
    };
    match cluster.request(controller_request).await {
        ControllerReply::AlterPartition {
            leader_epoch,
            partition_epoch,
            isr,
            offset,
        } => {
            wait_applied(cluster, offset).await;
            Ok(AlterPartitionOutcome {
                leader_epoch,
                partition_epoch,
                isr,
            })
        }
        reply => Err(refusal(reply)),
    }
}

/// One result per entry, in order (`None`: accepted); the whole request is refused only when
/// no controller answers or it names too many partitions.
pub(super) async fn alter_reassignments(
    cluster: &ClusterService,
    reassignments: Vec<WireReassignment>,
    allow_replication_factor_change: bool,
) -> Result<Vec<Option<Refusal>>, Refusal> {
    let count = reassignments.len();
    let request = ControllerRequest::AlterPartitionReassignments {
        reassignments,
        allow_replication_factor_change,
    };
    match cluster.request(request).await {
        ControllerReply::Reassignments { results, offset } => {
            assert_eq!(results.len(), count, "one result per reassignment");
            wait_applied(cluster, offset).await;
            Ok(results)
        }
        reply => Err(refusal(reply)),
    }
}

pub(super) async fn list_reassignments(
    cluster: &ClusterService,
    partitions: Option<Vec<(String, i32)>>,
) -> Result<Vec<OngoingReassignment>, Refusal> {
    let request = ControllerRequest::ListPartitionReassignments { partitions };
    match cluster.request(request).await {
        ControllerReply::PartitionReassignments(ongoing) => Ok(ongoing),
        reply => Err(refusal(reply)),
    }
}

/// Waits, at most `METADATA_APPLY_MS_MAX`, until every shard of this broker applied `offset`.
pub(super) async fn wait_applied(cluster: &ClusterService, offset: u64) {
    let limit = Duration::from_millis(METADATA_APPLY_MS_MAX);
    if !cluster.broker().applied(offset, limit).await {
        tracing::warn!(
            offset,
            "metadata change committed but not applied here in time"
        );
    }
}

/// A reply that is not the one asked for: its refusal, or UNKNOWN_SERVER_ERROR.
pub(super) fn refusal(reply: ControllerReply) -> Refusal {
    match reply {
        ControllerReply::Refused { code, message } => (code, message),
        other => (
            ResponseError::UnknownServerError.code(),
            format!("unexpected controller answer {other:?}"),
        ),
    }
}
