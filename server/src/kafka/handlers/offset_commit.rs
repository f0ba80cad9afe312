//! OffsetCommit (key 8): commits are appended to the group's `__consumer_offsets` partition and
//! fdatasync'd before the answer (deferred while the flush runs).
//!
//! Authorization (Kafka's): READ on the group, else every partition gets
//! GROUP_AUTHORIZATION_FAILED; then READ on each topic (TOPIC_AUTHORIZATION_FAILED per
//! partition, before whether the topic exists).

use std::rc::Rc;

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::AclOperation;

use crate::group::offsets::{CommitEntry, CommitRequest};
use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp};
use crate::group::wire::{code, opt_string, string, unexpected};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;

/// v9 switches to KIP-848 member epochs; classic groups are served through v8.
pub const VERSIONS: VersionRange = VersionRange { min: 2, max: 8 };

pub fn handle(
    groups: &Rc<GroupService>,
    metadata: &MetadataService,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: OffsetCommitRequest = request.decode()?;
    let group_refused = !authz.group(AclOperation::Read, body.group_id.0.as_str());
    let meta = metadata.meta();
    let known = |topic: &str, partition: i32| {
        meta.topic(topic)
            .is_some_and(|t| partition >= 0 && partition < t.partitions)
    };
    // Answers in request order; None = decided by the coordinator.
    let mut answers: Vec<(String, i32, Option<Option<ResponseError>>)> = Vec::new();
    let mut entries = Vec::new();
    for topic in &body.topics {
        let name = string(&topic.name.0);
        let refused = if group_refused {
            Some(ResponseError::GroupAuthorizationFailed)
        } else if !authz.topic(AclOperation::Read, &name) {
            Some(ResponseError::TopicAuthorizationFailed)
        } else {
            None
        };
        for p in &topic.partitions {
            if let Some(error) = refused {
                answers.push((name.clone(), p.partition_index, Some(Some(error))));
            } else if known(&name, p.partition_index) {
                answers.push((name.clone(), p.partition_index, None));
                entries.push(CommitEntry {
                    topic: name.clone(),
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: opt_string(&p.committed_metadata),
                });
            } else {
                answers.push((
                    name.clone(),
                    p.partition_index,
                    Some(Some(ResponseError::UnknownTopicOrPartition)),
                ));
            }
        }
    }
    let req = CommitRequest {
        group_id: string(&body.group_id.0),
        generation_id: body.generation_id_or_member_epoch,
        member_id: string(&body.member_id),
        group_instance_id: opt_string(&body.group_instance_id),
        entries,
    };
    let groups = groups.clone();
    Ok(Outcome::Deferred(Box::pin(async move {
        let group_id = req.group_id.clone();
        let count = req.entries.len();
        let results = if count == 0 {
            Vec::new()
        } else {
            match groups.call(&group_id, GroupOp::Commit(req)).await {
                Ok(GroupAnswer::Commit(results)) => results.into_iter().map(|r| r.2).collect(),
                Ok(other) => vec![Some(unexpected(&other)); count],
                Err(e) => vec![Some(e); count],
            }
        };
        assert_eq!(results.len(), count);
        let mut decided = results.into_iter();
        let mut response = OffsetCommitResponse::default();
        for (topic, partition, answer) in answers {
            let error = match answer {
                Some(error) => error,
                None => decided.next().flatten(),
            };
            if response
                .topics
                .last()
                .is_none_or(|t| t.name.0.as_str() != topic)
            {
                let mut t = OffsetCommitResponseTopic::default();
                t.name = kafka_protocol::messages::TopicName(crate::group::wire::str_bytes(topic));
                response.topics.push(t);
            }
            let mut p = OffsetCommitResponsePartition::default();
            p.partition_index = partition;
            p.error_code = code(error);
            response
                .topics
                .last_mut()
                .expect("pushed above")
                .partitions
                .push(p);
        }
        Ok(Some(request.respond(&response)?))
    })))
}
