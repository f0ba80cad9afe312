//! Writing transaction markers on this broker: the partition side of a marker plus what the
//! group coordinator must learn of it. Shared by the two ways a marker arrives here: a
//! coordinator of this broker (in process, `markers`) and a coordinator of another broker
//! (the WriteTxnMarkers handler). Authorization and the leader check against the metadata are
//! the caller's: the handler checks the requester's CLUSTER_ACTION; the local coordinator
//! acts as the broker itself, and the partition refuses a marker when it is not the leader.

use std::rc::Rc;

use crate::error_code::NONE;
use crate::group::service::GroupService;
use crate::partition::messages::TxnMarkerWrite;
use crate::partition::PartitionService;
use crate::topics::OFFSETS_TOPIC;

/// How long the markers wait for the in-sync replicas: Kafka's `request.timeout.ms` default,
/// which is what it gives marker appends.
pub const MARKER_REPLICATION_TIMEOUT_MS: u64 = 30_000;

/// Writes `writes`, each on its partition's owner shard (message passing), waits until they
/// are durable on the in-sync replicas, then tells the group coordinator about the
/// transactions that ended in its offsets partitions. One Kafka error code per write, in order.
pub async fn write_markers(
    partitions: &PartitionService,
    groups: &Rc<GroupService>,
    writes: Vec<TxnMarkerWrite>,
) -> Vec<i16> {
    if writes.is_empty() {
        return Vec::new();
    }
    let codes = partitions
        .write_txn_markers(writes.clone(), MARKER_REPLICATION_TIMEOUT_MS)
        .await;
    assert_eq!(codes.len(), writes.len());
    let offsets_ends = writes
        .iter()
        .zip(&codes)
        .filter(|(write, code)| **code == NONE && write.topic == OFFSETS_TOPIC)
        .map(|(write, _)| write);
    for end in offsets_ends {
        // The marker is durable in the offsets partition: a coordinator that cannot apply it
        // now (not loaded here, shutting down) replays it from the log when it loads.
        let applied = groups
            .complete_txn_offsets(end.partition, end.producer_id, end.commit)
            .await;
        if let Err(error) = applied {
            tracing::debug!(
                partition = end.partition,
                producer_id = end.producer_id,
                "transaction end left to the offsets partition's replay: {error:?}"
            );
        }
    }
    codes
}
