//! CreatePartitions (Kafka's `ReplicationControlManager.createPartitions`).

use super::assignment::{partition_record, validate_assignments};
use super::batch::BatchBuilder;
use super::error::{ControllerError, ErrorKind};
use super::placement::place_replicas;
use super::Controller;
use crate::image::MetadataImage;
use crate::records::RecordBatch;

impl Controller {
    /// Grows topic `name` to `count` partitions. The new ones get the topic's replication factor
    /// (the length of partition 0's replica list), placed as for a new topic, or the explicit
    /// `assignments` (one list per new partition). An empty batch when `validate_only`.
    pub fn create_partitions(
        &mut self,
        image: &MetadataImage,
        name: &str,
        count: i32,
        assignments: Option<Vec<Vec<i32>>>,
        validate_only: bool,
    ) -> Result<RecordBatch, ControllerError> {
        let topic = image.topic(name).ok_or_else(|| {
            ControllerError::new(
                ErrorKind::UnknownTopicOrPartition,
                format!("no topic {name}"),
            )
        })?;
        let current = topic.partitions.len();
        let Some(replication_factor) = topic.partitions.first().map(|p| p.target_replicas().len())
        else {
            return Err(ControllerError::new(
                ErrorKind::InvalidRequest,
                format!("topic {name} has no partition to take a replication factor from"),
            ));
        };
        let requested = usize::try_from(count).unwrap_or(0);
        if requested <= current {
            return Err(ControllerError::new(
                ErrorKind::InvalidPartitions,
                format!(
                    "topic {name} has {current} partitions; the new count {count} must be larger"
                ),
            ));
        }
        self.check_partition_count(requested)?;
        let added = requested - current;
        let assignments = match assignments {
            Some(assignments) => {
                if assignments.len() != added {
                    return Err(ControllerError::new(
                        ErrorKind::InvalidReplicaAssignment,
                        format!(
                            "{added} partitions are added but {} assignments are given",
                            assignments.len()
                        ),
                    ));
                }
                validate_assignments(image, &assignments, current, Some(replication_factor))?;
                assignments
            }
            None => {
                let brokers = image.active_broker_ids();
                place_replicas(&brokers, current, added, replication_factor, &mut self.rng)?
            }
        };
        if validate_only {
            return Ok(RecordBatch::default());
        }
        let topic_id = topic.topic_id;
        let mut batch = BatchBuilder::new(image);
        for (partition, replicas) in (current..).zip(assignments) {
            let partition = i32::try_from(partition).map_err(|_| {
                ControllerError::new(ErrorKind::InvalidPartitions, "partition number overflow")
            })?;
            batch.push(partition_record(image, topic_id, partition, replicas));
        }
        tracing::info!(
            topic = name,
            from = current,
            to = requested,
            "partitions created"
        );
        Ok(batch.finish())
    }
}
