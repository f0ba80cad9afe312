//! CreateTopics (Kafka's `ReplicationControlManager.createTopic`).

use std::collections::BTreeMap;

use super::assignment::{partition_record, validate_assignments};
use super::batch::BatchBuilder;
use super::error::{ControllerError, ErrorKind};
use super::limits::{
    CONFIGS_PER_TOPIC_MAX, CONFIG_NAME_BYTES_MAX, CONFIG_VALUE_BYTES_MAX, TOPIC_ID_DRAWS_MAX,
};
use super::placement::place_replicas;
use super::topic_name::{colliding_topic, validate_topic_name};
use super::{Controller, CreateTopic};
use crate::image::MetadataImage;
use crate::records::{ConfigResource, MetadataRecord, RecordBatch, TopicId};

/// The topic id Kafka reserves for the metadata log itself (`Uuid.METADATA_TOPIC_ID`).
const METADATA_TOPIC_ID: u128 = 1;

impl Controller {
    /// Checks in Kafka's order (name, existence, collision, then partitions and replicas) and
    /// returns the Topic, Partition and Config records, or an empty batch when
    /// `validate_only`.
    pub fn create_topic(
        &mut self,
        image: &MetadataImage,
        command: CreateTopic,
    ) -> Result<RecordBatch, ControllerError> {
        let name = command.name.as_str();
        validate_topic_name(name, command.internal)?;
        if image.topic(name).is_some() {
            return Err(ControllerError::new(
                ErrorKind::TopicAlreadyExists,
                format!("topic {name} already exists"),
            ));
        }
        if let Some(existing) = colliding_topic(image, name) {
            return Err(ControllerError::new(
                ErrorKind::InvalidTopic,
                format!("topic {name} collides with existing topic {existing} ('.' and '_' clash)"),
            ));
        }
        validate_configs(&command.configs)?;
        let assignments = match command.assignments.filter(|a| !a.is_empty()) {
            Some(assignments) => {
                if command.partitions != -1 || command.replication_factor != -1 {
                    return Err(ControllerError::new(
                        ErrorKind::InvalidRequest,
                        "an explicit assignment needs partitions and replication factor -1",
                    ));
                }
                self.check_partition_count(assignments.len())?;
                validate_assignments(image, &assignments, 0, None)?;
                assignments
            }
            None => {
                let partition_count = self.resolve_partition_count(command.partitions)?;
                let replication_factor =
                    self.resolve_replication_factor(command.replication_factor)?;
                let brokers = image.active_broker_ids();
                place_replicas(
                    &brokers,
                    0,
                    partition_count,
                    replication_factor,
                    &mut self.rng,
                )?
            }
        };
        if command.validate_only {
            return Ok(RecordBatch::default());
        }
        let topic_id = self.fresh_topic_id(image);
        let mut batch = BatchBuilder::new(image);
        batch.push(MetadataRecord::Topic {
            name: name.to_owned(),
            topic_id,
        });
        for (partition, replicas) in (0..).zip(assignments) {
            batch.push(partition_record(image, topic_id, partition, replicas));
        }
        for (config_name, value) in command.configs {
            batch.push(MetadataRecord::Config {
                resource: ConfigResource::Topic,
                resource_name: name.to_owned(),
                name: config_name,
                value: Some(value),
            });
        }
        tracing::info!(
            topic = name,
            topic_id = format!("{:032x}", topic_id.0),
            "topic created"
        );
        Ok(batch.finish())
    }

    /// -1 means `num.partitions`; otherwise 1 ..= `partitions_per_topic_max`.
    fn resolve_partition_count(&self, partitions: i32) -> Result<usize, ControllerError> {
        let count = match partitions {
            -1 => self.config.default_partitions,
            count if count >= 1 => count,
            count => {
                return Err(ControllerError::new(
                    ErrorKind::InvalidPartitions,
                    format!(
                        "a topic needs at least one partition, or -1 for the default; got {count}"
                    ),
                ))
            }
        };
        let count = usize::try_from(count).map_err(|_| {
            ControllerError::new(
                ErrorKind::InvalidPartitions,
                format!("bad partition count {count}"),
            )
        })?;
        self.check_partition_count(count)?;
        Ok(count)
    }

    pub(super) fn check_partition_count(&self, count: usize) -> Result<(), ControllerError> {
        let max = self.config.partitions_per_topic_max;
        if count > max as usize {
            return Err(ControllerError::new(
                ErrorKind::InvalidPartitions,
                format!("{count} partitions exceed the limit of {max} per topic"),
            ));
        }
        Ok(())
    }

    /// -1 means `default.replication.factor`; otherwise at least 1.
    fn resolve_replication_factor(
        &self,
        replication_factor: i16,
    ) -> Result<usize, ControllerError> {
        let factor = match replication_factor {
            -1 => self.config.default_replication_factor,
            factor => factor,
        };
        usize::try_from(factor)
            .ok()
            .filter(|f| *f >= 1)
            .ok_or_else(|| {
                ControllerError::new(
                    ErrorKind::InvalidReplicationFactor,
                    format!(
                        "replication factor must be at least 1, or -1 for the default: {factor}"
                    ),
                )
            })
    }

    /// A random id that no topic has, and that Kafka would accept: not zero, not the metadata
    /// topic's, and not one whose base64 form starts with '-' (the top six bits 62), which
    /// command-line tools would read as an option.
    fn fresh_topic_id(&mut self, image: &MetadataImage) -> TopicId {
        for _ in 0..TOPIC_ID_DRAWS_MAX {
            let id = TopicId(self.rng.next_u128());
            let reserved = id.0 == 0 || id.0 == METADATA_TOPIC_ID || id.0 >> 122 == 62;
            if !reserved && image.topic_by_id(id).is_none() {
                return id;
            }
        }
        panic!("no unused topic id in {TOPIC_ID_DRAWS_MAX} random draws: the generator is broken");
    }
}

/// Names and values within bounds; the values themselves were validated by the broker.
pub(super) fn validate_configs(configs: &BTreeMap<String, String>) -> Result<(), ControllerError> {
    let invalid = |why: String| Err(ControllerError::new(ErrorKind::InvalidRequest, why));
    if configs.len() > CONFIGS_PER_TOPIC_MAX {
        return invalid(format!(
            "{} config overrides exceed the limit of {CONFIGS_PER_TOPIC_MAX}",
            configs.len()
        ));
    }
    for (name, value) in configs {
        if name.is_empty() || name.len() > CONFIG_NAME_BYTES_MAX {
            return invalid(format!("config name {name:?} is empty or too long"));
        }
        if value.len() > CONFIG_VALUE_BYTES_MAX {
            return invalid(format!(
                "config {name} has a value of {} bytes, above {CONFIG_VALUE_BYTES_MAX}",
                value.len()
            ));
        }
    }
    Ok(())
}
