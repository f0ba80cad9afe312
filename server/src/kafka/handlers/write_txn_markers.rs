//! WriteTxnMarkers (key 27): the transaction coordinator has a transaction end, and every
//! partition of it gets a COMMIT or ABORT control batch. An inter-broker API: a coordinator on
//! another broker sends it; a coordinator on this broker writes
//! its local partitions' markers in process (`txn::marker_write`), which this handler calls
//! too.
//!
//! Each marker goes to its partition's owner shard (like Produce), which checks it against
//! the producer (INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED), appends it, and
//! waits until every in-sync replica has it (Kafka writes markers with acks=all). Answers are
//! per partition: NOT_LEADER_OR_FOLLOWER and UNKNOWN_TOPIC_OR_PARTITION from the metadata,
//! the marker's own refusals, or the replication wait's (NOT_ENOUGH_REPLICAS_AFTER_APPEND,
//! REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR).
//!
//! Version 0 is not served: the protocol crate (Kafka 4.x schemas) has only version 1.
//!
//! Authorization (Kafka's): ALTER on the cluster (asked quietly) or CLUSTER_ACTION, else every
//! partition gets CLUSTER_AUTHORIZATION_FAILED and nothing is written.

use std::rc::Rc;

use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{WriteTxnMarkersRequest, WriteTxnMarkersResponse};
use kafka_protocol::protocol::VersionRange;

use sluice_security::acl::{AclOperation, ResourceType};

use crate::error_code::{ResponseError, NONE};
use crate::group::service::GroupService;
use crate::kafka::authz::{Authz, CLUSTER_NAME};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;
use crate::partition::messages::TxnMarkerWrite;
use crate::partition::PartitionService;
use crate::txn::marker_write::write_markers;

pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 1 };

/// Where each answer goes: (marker, topic, partition) positions in the request.
struct Slot {
    marker: usize,
    topic: usize,
    partition: i32,
    error_code: i16,
    /// Position in the writes sent to the partitions, when the metadata let it through.
    write: Option<usize>,
}

pub async fn handle(
    partitions: &Rc<PartitionService>,
    groups: &Rc<GroupService>,
    metadata: &MetadataService,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: WriteTxnMarkersRequest = request.decode()?;
    let allowed = authz.can_see(AclOperation::Alter, ResourceType::Cluster, CLUSTER_NAME)
        || authz.cluster(AclOperation::ClusterAction);
    let meta = metadata.meta();
    let node = metadata.config().node_id;
    let mut slots = Vec::new();
    let mut writes = Vec::new();
    for (marker_at, marker) in body.markers.iter().enumerate() {
        for (topic_at, topic) in marker.topics.iter().enumerate() {
            let name = topic.name.0.to_string();
            for &partition in &topic.partition_indexes {
                let mut slot = Slot {
                    marker: marker_at,
                    topic: topic_at,
                    partition,
                    error_code: NONE,
                    write: None,
                };
                let checked = if allowed {
                    meta.check_leader(node, &name, partition)
                } else {
                    Err(ResponseError::ClusterAuthorizationFailed.code())
                };
                match checked {
                    Err(code) => slot.error_code = code,
                    Ok(()) => {
                        slot.write = Some(writes.len());
                        writes.push(TxnMarkerWrite {
                            topic: name.clone(),
                            partition,
                            producer_id: marker.producer_id.0,
                            producer_epoch: marker.producer_epoch,
                            coordinator_epoch: marker.coordinator_epoch,
                            commit: marker.transaction_result,
                        });
                    }
                }
                slots.push(slot);
            }
        }
    }
    let partitions = partitions.clone();
    let groups = groups.clone();
    Ok(Outcome::Deferred(Box::pin(async move {
        let codes = write_markers(&partitions, &groups, writes).await;
        for slot in &mut slots {
            if let Some(at) = slot.write {
                slot.error_code = codes[at];
            }
        }
        let response = response(&body, &slots);
        Ok(Some(request.respond(&response)?))
    })))
}

fn response(body: &WriteTxnMarkersRequest, slots: &[Slot]) -> WriteTxnMarkersResponse {
    let mut markers: Vec<WritableTxnMarkerResult> = body
        .markers
        .iter()
        .map(|marker| {
            let mut result = WritableTxnMarkerResult::default();
            result.producer_id = marker.producer_id;
            result.topics = marker
                .topics
                .iter()
                .map(|topic| {
                    let mut topic_result = WritableTxnMarkerTopicResult::default();
                    topic_result.name = topic.name.clone();
                    topic_result
                })
                .collect();
            result
        })
        .collect();
    for slot in slots {
        let mut partition = WritableTxnMarkerPartitionResult::default();
        partition.partition_index = slot.partition;
        partition.error_code = slot.error_code;
        markers[slot.marker].topics[slot.topic]
            .partitions
            .push(partition);
    }
    let mut response = WriteTxnMarkersResponse::default();
    response.markers = markers;
    response
}
