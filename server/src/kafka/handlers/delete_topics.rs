//! DeleteTopics (key 20): by name, or by topic id from v6.
//!
//! Authorization (Kafka's controller rules): DELETE on the cluster (asked quietly) allows every
//! topic; otherwise a topic needs DELETE on itself, and one named needs DESCRIBE before
//! anything says whether it exists (TOPIC_AUTHORIZATION_FAILED). A refused topic asked for by
//! id is named only if the principal may describe it.

use std::rc::Rc;

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use sluice_security::acl::{AclOperation, ResourceType};

use crate::error_code::ResponseError;
use crate::kafka::authz::{Authz, CLUSTER_NAME};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::{AdminOp, MetadataService};

pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 6 };

pub async fn handle(
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DeleteTopicsRequest = request.decode()?;
    let meta = metadata.meta();
    // v0-5 list names; v6 lists (name or id) states.
    let mut targets: Vec<(Option<String>, uuid::Uuid)> = body
        .topic_names
        .iter()
        .map(|name| (Some(name.0.to_string()), uuid::Uuid::nil()))
        .collect();
    for state in &body.topics {
        let name = match &state.name {
            Some(name) => Some(name.0.to_string()),
            None => meta.topic_by_id(state.topic_id).map(|t| t.name.clone()),
        };
        targets.push((name, state.topic_id));
    }
    let on_cluster = authz.can_see(AclOperation::Delete, ResourceType::Cluster, CLUSTER_NAME);
    let mut response = DeleteTopicsResponse::default();
    for (name, id) in targets {
        let mut result = DeletableTopicResult::default();
        result.topic_id = id;
        let Some(name) = name else {
            result.error_code = ResponseError::UnknownTopicId.code();
            response.responses.push(result);
            continue;
        };
        let by_id = !id.is_nil();
        let describable = on_cluster || authz.topic(AclOperation::Describe, &name);
        let deletable = on_cluster || authz.topic(AclOperation::Delete, &name);
        // Kafka's rules: a name the principal may not describe is refused before anything
        // says whether it exists; one asked for by id keeps its name only if describable.
        let refused = if by_id {
            !deletable
        } else {
            !describable || (meta.topic(&name).is_some() && !deletable)
        };
        if refused {
            result.name = (describable || !by_id).then(|| TopicName(StrBytes::from_string(name)));
            result.error_code = ResponseError::TopicAuthorizationFailed.code();
            response.responses.push(result);
            continue;
        }
        result.name = Some(TopicName(StrBytes::from_string(name.clone())));
        if let Some(topic) = meta.topic(&name) {
            result.topic_id = topic.id();
        }
        let op = AdminOp::DeleteTopic { name: name.clone() };
        match metadata.admin(op).await {
            Ok(()) => tracing::info!(topic = %name, "deleted topic"),
            Err((code, message)) => {
                result.error_code = code;
                result.error_message = Some(StrBytes::from_string(message));
            }
        }
        response.responses.push(result);
    }
    Ok(request.respond(&response)?.into())
}
