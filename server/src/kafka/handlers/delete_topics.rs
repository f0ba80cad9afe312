//! DeleteTopics (key 20): by name, or by topic id from v6.

use std::rc::Rc;

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use crate::error_code::ResponseError;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::{AdminOp, MetadataService};

pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 6 };

pub async fn handle(
    metadata: &Rc<MetadataService>,
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
    let mut response = DeleteTopicsResponse::default();
    for (name, id) in targets {
        let mut result = DeletableTopicResult::default();
        result.topic_id = id;
        let Some(name) = name else {
            result.error_code = ResponseError::UnknownTopicId.code();
            response.responses.push(result);
            continue;
        };
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
