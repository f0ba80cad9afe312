//! OffsetDelete (key 47): removes committed offsets of topics the group no longer consumes.

use std::rc::Rc;

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse, TopicName};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;

use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp, TopicPartitions};
use crate::group::wire::{code, str_bytes, string, unexpected};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };

pub async fn handle(
    groups: &Rc<GroupService>,
    metadata: &MetadataService,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: OffsetDeleteRequest = request.decode()?;
    let meta = metadata.meta();
    let group_id = string(&body.group_id.0);
    let mut unknown: Vec<(String, i32)> = Vec::new();
    let mut topics: TopicPartitions = Vec::new();
    for t in &body.topics {
        let name = string(&t.name.0);
        let count = meta.topic(&name).map(|m| m.partitions);
        let mut known = Vec::new();
        for p in &t.partitions {
            if count.is_some_and(|n| p.partition_index >= 0 && p.partition_index < n) {
                known.push(p.partition_index);
            } else {
                unknown.push((name.clone(), p.partition_index));
            }
        }
        topics.push((name, known));
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
            let unknown_rows = unknown
                .into_iter()
                .map(|(t, p)| (t, p, Some(ResponseError::UnknownTopicOrPartition)));
            for (topic, partition, error) in results.into_iter().chain(unknown_rows) {
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
