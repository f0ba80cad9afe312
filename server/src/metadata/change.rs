//! The pure part of a topic metadata change: the metadata after an admin op, or Kafka's error
//! code and message for refusing it. No I/O; shard 0's metadata service persists and
//! broadcasts what this returns.

use super::messages::AdminOp;
use crate::config::BrokerConfig;
use crate::error_code::ResponseError;
use crate::limits::PARTITIONS_PER_TOPIC_MAX;
use crate::topics::meta::{new_topic_id, validate_topic_name};
use crate::topics::{ClusterMeta, TopicMeta};

/// The metadata after `op`, or None for a successful validate-only op. Pure: no I/O.
pub fn change(
    current: &ClusterMeta,
    broker: &BrokerConfig,
    op: AdminOp,
) -> Result<Option<ClusterMeta>, (i16, String)> {
    let mut next = current.clone();
    next.version = current.version + 1;
    let missing = |name: &str| {
        (
            ResponseError::UnknownTopicOrPartition.code(),
            format!("topic '{name}' does not exist"),
        )
    };
    match op {
        AdminOp::CreateTopic {
            name,
            partitions,
            configs,
            validate_only,
        } => {
            validate_topic_name(&name)
                .map_err(|msg| (ResponseError::InvalidTopicException.code(), msg))?;
            if current.topic(&name).is_some() {
                let msg = format!("topic '{name}' already exists");
                return Err((ResponseError::TopicAlreadyExists.code(), msg));
            }
            let partitions = if partitions == -1 {
                broker.num_partitions
            } else {
                partitions
            };
            check_partition_count(partitions)?;
            if validate_only {
                return Ok(None);
            }
            let id_hex = new_topic_id(&name);
            let topic = TopicMeta {
                name: name.clone(),
                id_hex,
                partitions,
                configs,
            };
            next.topics.insert(name, topic);
        }
        AdminOp::DeleteTopic { name } => {
            next.topics.remove(&name).ok_or_else(|| missing(&name))?;
        }
        AdminOp::CreatePartitions {
            name,
            count,
            validate_only,
        } => {
            let topic = next.topics.get_mut(&name).ok_or_else(|| missing(&name))?;
            if count <= topic.partitions {
                let msg = format!(
                    "topic '{name}' has {} partitions; the new count must be larger, not {count}",
                    topic.partitions
                );
                return Err((ResponseError::InvalidPartitions.code(), msg));
            }
            check_partition_count(count)?;
            if validate_only {
                return Ok(None);
            }
            topic.partitions = count;
        }
        AdminOp::SetConfigs {
            name,
            configs,
            validate_only,
        } => {
            let topic = next.topics.get_mut(&name).ok_or_else(|| missing(&name))?;
            if validate_only {
                return Ok(None);
            }
            topic.configs = configs;
        }
    }
    Ok(Some(next))
}

fn check_partition_count(partitions: i32) -> Result<(), (i16, String)> {
    if !(1..=PARTITIONS_PER_TOPIC_MAX).contains(&partitions) {
        let msg = format!("partition count must be between 1 and {PARTITIONS_PER_TOPIC_MAX}");
        return Err((ResponseError::InvalidPartitions.code(), msg));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::TopicConfigs;

    fn create(name: &str, partitions: i32) -> AdminOp {
        AdminOp::CreateTopic {
            name: name.into(),
            partitions,
            configs: TopicConfigs::default(),
            validate_only: false,
        }
    }

    #[test]
    fn create_then_grow_then_delete() {
        let broker = BrokerConfig::default();
        let meta = change(&ClusterMeta::default(), &broker, create("t", 3))
            .unwrap()
            .unwrap();
        assert_eq!(meta.topic("t").unwrap().partitions, 3);
        assert_eq!(meta.version, 1);
        let dup = change(&meta, &broker, create("t", 3)).unwrap_err();
        assert_eq!(dup.0, ResponseError::TopicAlreadyExists.code());
        let shrink = AdminOp::CreatePartitions {
            name: "t".into(),
            count: 2,
            validate_only: false,
        };
        assert_eq!(
            change(&meta, &broker, shrink).unwrap_err().0,
            ResponseError::InvalidPartitions.code()
        );
        let grow = AdminOp::CreatePartitions {
            name: "t".into(),
            count: 5,
            validate_only: false,
        };
        let meta = change(&meta, &broker, grow).unwrap().unwrap();
        assert_eq!(meta.topic("t").unwrap().partitions, 5);
        let delete = AdminOp::DeleteTopic { name: "t".into() };
        let meta = change(&meta, &broker, delete).unwrap().unwrap();
        assert!(meta.topics.is_empty());
    }

    #[test]
    fn bad_names_and_counts_are_refused() {
        let broker = BrokerConfig::default();
        let empty = ClusterMeta::default();
        let bad_name = change(&empty, &broker, create("a/b", 1)).unwrap_err();
        assert_eq!(bad_name.0, ResponseError::InvalidTopicException.code());
        let zero = change(&empty, &broker, create("t", 0)).unwrap_err();
        assert_eq!(zero.0, ResponseError::InvalidPartitions.code());
        let default = change(&empty, &broker, create("t", -1)).unwrap().unwrap();
        assert_eq!(
            default.topic("t").unwrap().partitions,
            broker.num_partitions
        );
    }
}
