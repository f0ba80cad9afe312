//! CreatePartitions (key 37): grows a topic; manual assignments are refused. Each topic needs
//! ALTER (else TOPIC_AUTHORIZATION_FAILED, before whether it exists), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use sluice_security::acl::AclOperation;

use crate::error_code::ResponseError;
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::{AdminOp, MetadataService};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 3 };

pub async fn handle(
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: CreatePartitionsRequest = request.decode()?;
    let mut response = CreatePartitionsResponse::default();
    for topic in body.topics {
        let name = topic.name.0.to_string();
        let mut result = CreatePartitionsTopicResult::default();
        result.name = topic.name.clone();
        let outcome = if !authz.topic(AclOperation::Alter, &name) {
            let message = "The topic authorization is failed.".to_string();
            Err((ResponseError::TopicAuthorizationFailed.code(), message))
        } else if topic.assignments.is_some() {
            let message = "manual replica assignment is not supported".to_string();
            Err((ResponseError::InvalidReplicaAssignment.code(), message))
        } else {
            let op = AdminOp::CreatePartitions {
                name: name.clone(),
                count: topic.count,
                validate_only: body.validate_only,
            };
            metadata.admin(op).await
        };
        match outcome {
            Ok(()) if !body.validate_only => {
                tracing::info!(topic = %name, count = topic.count, "grew topic")
            }
            Ok(()) => {}
            Err((code, message)) => {
                result.error_code = code;
                result.error_message = Some(StrBytes::from_string(message));
            }
        }
        response.results.push(result);
    }
    Ok(request.respond(&response)?.into())
}
