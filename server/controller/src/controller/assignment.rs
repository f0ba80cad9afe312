//! Replica lists for new partitions, explicit (from the request) or placed, and the Partition
//! records that create them.

use std::collections::BTreeSet;

use super::error::{ControllerError, ErrorKind};
use crate::image::MetadataImage;
use crate::records::{LeaderRecoveryState, MetadataRecord, TopicId};

/// Checks explicit replica lists for partitions numbered from `first_partition`, as Kafka
/// does: each list non-empty, without repeats, of registered brokers only, at least one of
/// them active, and all lists of one length (`replication_factor` when the topic has one).
pub(super) fn validate_assignments(
    image: &MetadataImage,
    assignments: &[Vec<i32>],
    first_partition: usize,
    replication_factor: Option<usize>,
) -> Result<(), ControllerError> {
    let invalid = |why: String| {
        Err(ControllerError::new(
            ErrorKind::InvalidReplicaAssignment,
            why,
        ))
    };
    let expected_length = replication_factor.or(assignments.first().map(Vec::len));
    for (partition, replicas) in (first_partition..).zip(assignments) {
        if replicas.is_empty() {
            return invalid(format!("partition {partition} is assigned no replica"));
        }
        if Some(replicas.len()) != expected_length {
            return invalid(format!(
                "partition {partition} is assigned {} replica(s), the others {}",
                replicas.len(),
                expected_length.unwrap_or_default()
            ));
        }
        let distinct: BTreeSet<i32> = replicas.iter().copied().collect();
        if distinct.len() != replicas.len() {
            return invalid(format!(
                "partition {partition} repeats a broker in {replicas:?}"
            ));
        }
        if let Some(unknown) = replicas.iter().find(|r| image.broker(**r).is_none()) {
            return invalid(format!(
                "partition {partition} is assigned to unregistered broker {unknown}"
            ));
        }
        if !replicas.iter().any(|r| image.is_broker_active(*r)) {
            return invalid(format!(
                "every broker assigned to partition {partition} is fenced or shutting down"
            ));
        }
    }
    Ok(())
}

/// The record creating partition `partition` on `replicas`: the ISR is the active replicas
/// (in replica order) and the first of them leads, epochs start at 0 (Kafka's choice).
pub(super) fn partition_record(
    image: &MetadataImage,
    topic_id: TopicId,
    partition: i32,
    replicas: Vec<i32>,
) -> MetadataRecord {
    let isr: Vec<i32> = replicas
        .iter()
        .copied()
        .filter(|r| image.is_broker_active(*r))
        .collect();
    // Placement chooses active brokers only and explicit lists were validated to hold one.
    assert!(!isr.is_empty(), "no active replica among {replicas:?}");
    MetadataRecord::Partition {
        topic_id,
        partition,
        leader: isr[0],
        replicas,
        isr,
        leader_epoch: 0,
        partition_epoch: 0,
        leader_recovery_state: LeaderRecoveryState::Recovered,
    }
}
