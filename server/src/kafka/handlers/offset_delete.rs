//! OffsetDelete (key 47): removes committed offsets of topics the group no longer consumes.
//! Needs DELETE on the group (else GROUP_AUTHORIZATION_FAILED at the top) and READ on each
//! topic (else TOPIC_AUTHORIZATION_FAILED per partition, before whether it exists), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse, TopicName};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::AclOperation;

use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp, TopicPartitions};
use crate::group::wire::{code, str_bytes, string, unexpected};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };

pub async fn handle(
    groups: &Rc<GroupService>,
    metadata: &MetadataService,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: OffsetDeleteRequest = request.decode()?;
    let meta = metadata.meta();
    let group_id = string(&body.group_id.0);
    if !authz.group(AclOperation::Delete, &group_id) {
        let mut response = OffsetDeleteResponse::default();
        response.error_code = ResponseError::GroupAuthorizationFailed.code();
        return Ok(request.respond(&response)?.into());
    }
    // Partitions answered here: not authorized, or unknown.
    let mut refused: Vec<(String, i32, ResponseError)> = Vec::new();
    let mut topics: TopicPartitions = Vec::new();
    for t in &body.topics {
        let name = string(&t.name.0);
        let count = meta.topic(&name).map(|m| m.partitions);
        let readable = authz.topic(AclOperation::Read, &name);
        let mut known = Vec::new();
        for p in &t.partitions {
            let index = p.partition_index;
            if !readable {
                refused.push((name.clone(), index, ResponseError::TopicAuthorizationFailed));
            } else if count.is_some_and(|n| index >= 0 && index < n) {
                known.push(index);
            } else {
                refused.push((name.clone(), index, ResponseError::UnknownTopicOrPartition));
            }
        }
        if readable {
            topics.push((name, known));
        }
    }
    let op = GroupOp::DeleteOffsets {
        group_id: group_id.clone(),
        topics,
    };
    let answer = match groups.call(&group_id, op).await {
        Ok(GroupAnswer::DeleteOffsets(answer)) => answer,
        Ok(other) => Err(unexpected(&other)),
        Err(e) => Err(e),
    };
    let mut response = OffsetDeleteResponse::default();
    match answer {
        Err(e) => response.error_code = e.code(),
        Ok(results) => {
            let refused_rows = refused.into_iter().map(|(t, p, e)| (t, p, Some(e)));
            for (topic, partition, error) in results.into_iter().chain(refused_rows) {
                let position = response
                    .topics
                    .iter()
                    .position(|t| t.name.0.as_str() == topic);
                let index = match position {
                    Some(i) => i,
                    None => {
                        let mut t = OffsetDeleteResponseTopic::default();
                        t.name = TopicName(str_bytes(topic));
                        response.topics.push(t);
                        response.topics.len() - 1
                    }
                };
                let mut p = OffsetDeleteResponsePartition::default();
                p.partition_index = partition;
                p.error_code = code(error);
                response.topics[index].partitions.push(p);
            }
        }
    }
    Ok(request.respond(&response)?.into())
}
