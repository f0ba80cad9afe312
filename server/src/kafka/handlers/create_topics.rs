//! CreateTopics (key 19): partitions and replication factor (-1: the broker defaults), or an
//! explicit replica assignment per partition; the active controller places and validates
//! replicas (a factor above the brokers alive is INVALID_REPLICATION_FACTOR). Configs are
//! validated before anything is created. A created topic reports the partitions and factor
//! it got.
//!
//! Authorization (Kafka's): CREATE on the cluster (asked quietly) allows every topic; otherwise
//! each topic needs CREATE on itself, else TOPIC_AUTHORIZATION_FAILED. A topic whose configs
//! the principal may not DESCRIBE_CONFIGS answers `topic_config_error_code`
//! TOPIC_AUTHORIZATION_FAILED.

use std::rc::Rc;

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use sluice_security::acl::{AclOperation, ResourceType};

use crate::error_code::ResponseError;
use crate::kafka::authz::{Authz, CLUSTER_NAME};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::replication_factor::{self, DEFAULT_REPLICATION_FACTOR};
use crate::metadata::{AdminOp, MetadataService};
use crate::topics::TopicConfigs;

pub const VERSIONS: VersionRange = VersionRange { min: 2, max: 7 };

/// CreateTopics' "use `num.partitions`".
const DEFAULT_PARTITIONS: i32 = -1;

pub async fn handle(
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: CreateTopicsRequest = request.decode()?;
    let on_cluster = authz.can_see(AclOperation::Create, ResourceType::Cluster, CLUSTER_NAME);
    let mut response = CreateTopicsResponse::default();
    for topic in body.topics {
        let name = topic.name.0.to_string();
        let mut result = CreatableTopicResult::default();
        result.name = topic.name.clone();
        if !authz.can_see(AclOperation::DescribeConfigs, ResourceType::Topic, &name) {
            result.topic_config_error_code = ResponseError::TopicAuthorizationFailed.code();
        }
        let outcome = if on_cluster || authz.topic(AclOperation::Create, &name) {
            create_one(metadata, &name, &topic, body.validate_only).await
        } else {
            let message = "Authorization failed.".to_string();
            Err((ResponseError::TopicAuthorizationFailed.code(), message))
        };
        match outcome {
            Ok((partitions, factor)) => {
                result.num_partitions = partitions;
                result.replication_factor = factor;
                if let Some(meta) = metadata.meta().topic(&name) {
                    result.topic_id = meta.id();
                }
            }
            Err((code, message)) => {
                result.error_code = code;
                result.error_message = Some(StrBytes::from_string(message));
                result.num_partitions = -1;
                result.replication_factor = -1;
            }
        }
        response.topics.push(result);
    }
    Ok(request.respond(&response)?.into())
}

/// Creates one topic; its partition count and replication factor.
async fn create_one(
    metadata: &Rc<MetadataService>,
    name: &str,
    topic: &CreatableTopic,
    validate_only: bool,
) -> Result<(i32, i16), (i16, String)> {
    let assignments = assignments(topic)?;
    replication_factor::check_requested(topic.replication_factor)?;
    let mut configs = TopicConfigs::default();
    for config in &topic.configs {
        let key = config.name.as_str();
        let Some(value) = &config.value else { continue };
        configs
            .set(key, value.as_str())
            .map_err(|err| (ResponseError::InvalidConfig.code(), err.to_string()))?;
    }
    let config = metadata.config();
    let partitions = match (&assignments, topic.num_partitions) {
        (Some(_), _) => DEFAULT_PARTITIONS,
        (None, DEFAULT_PARTITIONS) => config.num_partitions,
        (None, count) => count,
    };
    // What a validate-only request reports: the values the topic would get.
    let planned = match &assignments {
        Some(lists) => (lists.len() as i32, lists[0].len() as i16),
        None => (
            partitions,
            replication_factor::resolve(
                topic.replication_factor,
                config.default_replication_factor,
            ),
        ),
    };
    let op = AdminOp::CreateTopic {
        name: name.to_string(),
        partitions,
        replication_factor: topic.replication_factor,
        assignments,
        configs,
        validate_only,
    };
    metadata.admin(op).await?;
    if validate_only {
        return Ok(planned);
    }
    // What the controller created, as this broker applied it.
    let created = metadata.meta().topic(name).map(|meta| {
        let factor = meta.states.first().map_or(0, |state| state.replicas.len());
        (meta.partitions, factor as i16)
    });
    let (partitions, factor) = created.unwrap_or(planned);
    tracing::info!(topic = %name, partitions, replication_factor = factor, "created topic");
    Ok((partitions, factor))
}

/// The request's replica lists in partition order, or None without any; Kafka's checks and
/// messages (`ReplicationControlManager.createTopic`) for their shape. Which brokers they name
/// is the controller's check.
fn assignments(topic: &CreatableTopic) -> Result<Option<Vec<Vec<i32>>>, (i16, String)> {
    if topic.assignments.is_empty() {
        return Ok(None);
    }
    let invalid_request =
        |message: &str| (ResponseError::InvalidRequest.code(), message.to_string());
    if topic.replication_factor != DEFAULT_REPLICATION_FACTOR {
        return Err(invalid_request(
            "A manual partition assignment was specified, but replication factor was not set to -1.",
        ));
    }
    if topic.num_partitions != DEFAULT_PARTITIONS {
        return Err(invalid_request(
            "A manual partition assignment was specified, but numPartitions was not set to -1.",
        ));
    }
    let invalid_assignment =
        |message: String| (ResponseError::InvalidReplicaAssignment.code(), message);
    let count = topic.assignments.len();
    let mut lists: Vec<Option<Vec<i32>>> = vec![None; count];
    for assignment in &topic.assignments {
        let index = assignment.partition_index;
        let slot = usize::try_from(index).ok().and_then(|i| lists.get_mut(i));
        match slot {
            Some(Some(_)) => {
                return Err(invalid_assignment(format!(
                    "Found multiple manual partition assignments for partition {index}"
                )))
            }
            Some(slot) => *slot = Some(assignment.broker_ids.iter().map(|b| b.0).collect()),
            // An index outside 0..count leaves a hole below count.
            None => {
                return Err(invalid_assignment(
                    "partitions should be a consecutive 0-based integer sequence".to_string(),
                ))
            }
        }
    }
    let lists: Vec<Vec<i32>> = lists.into_iter().flatten().collect();
    assert_eq!(lists.len(), count, "every slot below count is filled");
    Ok(Some(lists))
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::create_topics_request::CreatableReplicaAssignment;
    use kafka_protocol::messages::BrokerId;

    use super::*;

    fn topic(partitions: i32, factor: i16, lists: &[(i32, &[i32])]) -> CreatableTopic {
        let mut topic = CreatableTopic::default();
        topic.num_partitions = partitions;
        topic.replication_factor = factor;
        topic.assignments = lists
            .iter()
            .map(|(index, brokers)| {
                CreatableReplicaAssignment::default()
                    .with_partition_index(*index)
                    .with_broker_ids(brokers.iter().map(|b| BrokerId(*b)).collect())
            })
            .collect();
        topic
    }

    #[test]
    fn no_assignment_lets_the_controller_place() {
        assert_eq!(assignments(&topic(3, 2, &[])), Ok(None));
    }

    #[test]
    fn assignments_come_back_in_partition_order() {
        let lists = assignments(&topic(-1, -1, &[(1, &[2, 3]), (0, &[3, 1])]));
        assert_eq!(lists, Ok(Some(vec![vec![3, 1], vec![2, 3]])));
    }

    #[test]
    fn assignments_need_minus_one_partitions_and_factor() {
        let invalid_request = ResponseError::InvalidRequest.code();
        let (code, message) = assignments(&topic(-1, 2, &[(0, &[1])])).expect_err("refused");
        assert_eq!(code, invalid_request);
        assert!(
            message.contains("replication factor was not set to -1"),
            "{message}"
        );
        let (code, message) = assignments(&topic(1, -1, &[(0, &[1])])).expect_err("refused");
        assert_eq!(code, invalid_request);
        assert!(
            message.contains("numPartitions was not set to -1"),
            "{message}"
        );
    }

    #[test]
    fn assignments_cover_each_partition_once_from_zero() {
        let invalid = ResponseError::InvalidReplicaAssignment.code();
        let repeated = assignments(&topic(-1, -1, &[(0, &[1]), (0, &[2])]));
        assert_eq!(repeated.map_err(|(code, _)| code), Err(invalid));
        let gap = assignments(&topic(-1, -1, &[(0, &[1]), (2, &[2])]));
        assert_eq!(gap.map_err(|(code, _)| code), Err(invalid));
        let negative = assignments(&topic(-1, -1, &[(-1, &[1])]));
        assert_eq!(negative.map_err(|(code, _)| code), Err(invalid));
    }
}
