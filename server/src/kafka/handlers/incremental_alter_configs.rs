//! IncrementalAlterConfigs (key 44): SET and DELETE of topic configs, validated as a whole per
//! resource before anything changes. Broker configs are static (file and flags) and refused.
//!
//! Authorization first (Kafka's `authorizeAlterResource`): ALTER_CONFIGS on the topic
//! (TOPIC_AUTHORIZATION_FAILED) or, for a broker, on the cluster (CLUSTER_AUTHORIZATION_FAILED).

use std::rc::Rc;

use kafka_protocol::messages::incremental_alter_configs_request::AlterConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use sluice_security::acl::AclOperation;

use super::describe_configs::{RESOURCE_BROKER, RESOURCE_TOPIC};
use crate::error_code::ResponseError;
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::{AdminOp, MetadataService};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 1 };

const OP_SET: i8 = 0;
const OP_DELETE: i8 = 1;

pub async fn handle(
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: IncrementalAlterConfigsRequest = request.decode()?;
    let mut response = IncrementalAlterConfigsResponse::default();
    for resource in &body.resources {
        let mut result = AlterConfigsResourceResponse::default();
        result.resource_type = resource.resource_type;
        result.resource_name = resource.resource_name.clone();
        let outcome = match refusal(authz, resource) {
            Some(error) => Err((error.code(), "Authorization failed.".to_string())),
            None => alter(metadata, resource, body.validate_only).await,
        };
        if let Err((code, message)) = outcome {
            result.error_code = code;
            result.error_message = Some(StrBytes::from_string(message));
        }
        response.responses.push(result);
    }
    Ok(request.respond(&response)?.into())
}

fn refusal(authz: &Authz, resource: &AlterConfigsResource) -> Option<ResponseError> {
    match resource.resource_type {
        RESOURCE_TOPIC => {
            let name = resource.resource_name.as_str();
            let allowed = authz.topic(AclOperation::AlterConfigs, name);
            (!allowed).then_some(ResponseError::TopicAuthorizationFailed)
        }
        RESOURCE_BROKER => {
            let allowed = authz.cluster(AclOperation::AlterConfigs);
            (!allowed).then_some(ResponseError::ClusterAuthorizationFailed)
        }
        _ => None,
    }
}

async fn alter(
    metadata: &Rc<MetadataService>,
    resource: &AlterConfigsResource,
    validate_only: bool,
) -> Result<(), (i16, String)> {
    if resource.resource_type != RESOURCE_TOPIC {
        let message = "only topic configs can be altered; broker settings are static";
        return Err((ResponseError::InvalidRequest.code(), message.to_string()));
    }
    let name = resource.resource_name.to_string();
    let meta = metadata.meta();
    let Some(topic) = meta.topic(&name) else {
        let message = format!("topic '{name}' does not exist");
        return Err((ResponseError::UnknownTopicOrPartition.code(), message));
    };
    let mut configs = topic.configs.clone();
    let invalid =
        |err: crate::topics::ConfigError| (ResponseError::InvalidConfig.code(), err.to_string());
    for alteration in &resource.configs {
        let key = alteration.name.as_str();
        match (alteration.config_operation, &alteration.value) {
            (OP_SET, Some(value)) => configs.set(key, value.as_str()).map_err(invalid)?,
            (OP_SET, None) | (OP_DELETE, _) => configs.remove(key).map_err(invalid)?,
            (op, _) => {
                let message =
                    format!("operation {op} (APPEND/SUBTRACT) is not supported for {key}");
                return Err((ResponseError::InvalidConfig.code(), message));
            }
        }
    }
    let op = AdminOp::SetConfigs {
        name: name.clone(),
        configs,
        validate_only,
    };
    metadata.admin(op).await?;
    if !validate_only {
        tracing::info!(topic = %name, "altered topic configs");
    }
    Ok(())
}
