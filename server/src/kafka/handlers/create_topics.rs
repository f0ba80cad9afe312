//! CreateTopics (key 19). Replication factor must be 1 or -1 (single node); explicit replica
//! assignments are refused. Configs are validated before anything is created.

use std::rc::Rc;

use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::error_code::ResponseError;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::{AdminOp, MetadataService};
use crate::topics::TopicConfigs;

pub const VERSIONS: VersionRange = VersionRange { min: 2, max: 7 };

pub async fn handle(
    metadata: &Rc<MetadataService>,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: CreateTopicsRequest = request.decode()?;
    let mut response = CreateTopicsResponse::default();
    for topic in body.topics {
        let name = topic.name.0.to_string();
        let mut result = CreatableTopicResult::default();
        result.name = topic.name.clone();
        let outcome = create_one(metadata, &name, &topic, body.validate_only).await;
        match outcome {
            Ok(partitions) => {
                result.num_partitions = partitions;
                result.replication_factor = 1;
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

async fn create_one(
    metadata: &Rc<MetadataService>,
    name: &str,
    topic: &kafka_protocol::messages::create_topics_request::CreatableTopic,
    validate_only: bool,
) -> Result<i32, (i16, String)> {
    if topic.replication_factor != 1 && topic.replication_factor != -1 {
        let message = "replication factor must be 1 (or -1): replication is not available yet";
        return Err((
            ResponseError::InvalidReplicationFactor.code(),
            message.to_string(),
        ));
    }
    if !topic.assignments.is_empty() {
        let message = "manual replica assignment is not supported";
        return Err((
            ResponseError::InvalidReplicaAssignment.code(),
            message.to_string(),
        ));
    }
    let mut configs = TopicConfigs::default();
    for config in &topic.configs {
        let key = config.name.as_str();
        let Some(value) = &config.value else { continue };
        configs
            .set(key, value.as_str())
            .map_err(|err| (ResponseError::InvalidConfig.code(), err.to_string()))?;
    }
    let partitions = if topic.num_partitions == -1 {
        metadata.config().num_partitions
    } else {
        topic.num_partitions
    };
    let op = AdminOp::CreateTopic {
        name: name.to_string(),
        partitions,
        configs,
        validate_only,
    };
    metadata.admin(op).await?;
    if !validate_only {
        tracing::info!(topic = %name, partitions, "created topic");
    }
    Ok(partitions)
}
