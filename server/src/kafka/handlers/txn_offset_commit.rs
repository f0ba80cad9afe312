//! TxnOffsetCommit (key 28): a transactional producer's `send_offsets_to_transaction`. The
//! offsets are appended to the group's `__consumer_offsets` partition in a transactional batch
//! of the producer and made durable (acks=all) before the answer; they stay pending, invisible
//! to OffsetFetch, until the transaction's marker ends them (`group::txn_offsets`).
//!
//! Authorization (Kafka's order): WRITE on the transactional id, then READ on the group, each
//! refusal answered on every partition (TRANSACTIONAL_ID_ / GROUP_AUTHORIZATION_FAILED); then
//! READ on each topic (TOPIC_AUTHORIZATION_FAILED per partition, before whether it exists).

use std::rc::Rc;

use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{TopicName, TxnOffsetCommitRequest, TxnOffsetCommitResponse};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::AclOperation;

use crate::group::offsets::{CommitEntry, CommitRequest, TxnProducer};
use crate::group::service::{GroupAnswer, GroupOp, GroupService};
use crate::group::txn_offsets::TxnCommitRequest;
use crate::group::wire::{code, opt_string, str_bytes, string, unexpected};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;

/// v3 adds the member fields (KIP-447); v4 is KIP-890's verification, not served yet.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 3 };

pub fn handle(
    groups: &Rc<GroupService>,
    metadata: &MetadataService,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: TxnOffsetCommitRequest = request.decode()?;
    let meta = metadata.meta();
    let known = |topic: &str, partition: i32| {
        meta.topic(topic)
            .is_some_and(|t| partition >= 0 && partition < t.partitions)
    };
    // Request-wide refusals: authorization first (of the transactional id, then the group);
    // Kafka's producer checks come after each topic's authorization.
    let transactional_id = body.transactional_id.0.as_str();
    let unauthorized = if !authz.transactional_id(AclOperation::Write, transactional_id) {
        Some(ResponseError::TransactionalIdAuthorizationFailed)
    } else if !authz.group(AclOperation::Read, body.group_id.0.as_str()) {
        Some(ResponseError::GroupAuthorizationFailed)
    } else {
        None
    };
    let producer_refused = if body.producer_id.0 < 0 {
        Some(ResponseError::InvalidProducerIdMapping)
    } else if body.producer_epoch < 0 {
        Some(ResponseError::InvalidProducerEpoch)
    } else {
        None
    };
    // Answers in request order; None = decided by the coordinator.
    let mut answers: Vec<(String, i32, Option<Option<ResponseError>>)> = Vec::new();
    let mut entries = Vec::new();
    for topic in &body.topics {
        let name = string(&topic.name.0);
        let refused = unauthorized
            .or_else(|| {
                let readable = authz.topic(AclOperation::Read, &name);
                (!readable).then_some(ResponseError::TopicAuthorizationFailed)
            })
            .or(producer_refused);
        for p in &topic.partitions {
            let decided = if let Some(error) = refused {
                Some(Some(error))
            } else if !known(&name, p.partition_index) {
                Some(Some(ResponseError::UnknownTopicOrPartition))
            } else {
                entries.push(CommitEntry {
                    topic: name.clone(),
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: opt_string(&p.committed_metadata),
                });
                None
            };
            answers.push((name.clone(), p.partition_index, decided));
        }
    }
    let req = TxnCommitRequest {
        transactional_id: string(&body.transactional_id.0),
        producer: TxnProducer {
            producer_id: body.producer_id.0,
            producer_epoch: body.producer_epoch,
        },
        commit: CommitRequest {
            group_id: string(&body.group_id.0),
            generation_id: body.generation_id,
            member_id: string(&body.member_id),
            group_instance_id: opt_string(&body.group_instance_id),
            entries,
        },
    };
    let groups = groups.clone();
    Ok(Outcome::Deferred(Box::pin(async move {
        let group_id = req.commit.group_id.clone();
        let count = req.commit.entries.len();
        let results = if count == 0 {
            Vec::new()
        } else {
            match groups.call(&group_id, GroupOp::TxnCommit(req)).await {
                Ok(GroupAnswer::TxnCommit(results)) => results.into_iter().map(|r| r.2).collect(),
                Ok(other) => vec![Some(unexpected(&other)); count],
                Err(e) => vec![Some(e); count],
            }
        };
        assert_eq!(results.len(), count);
        let mut decided = results.into_iter();
        let mut response = TxnOffsetCommitResponse::default();
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
                let mut t = TxnOffsetCommitResponseTopic::default();
                t.name = TopicName(str_bytes(topic));
                response.topics.push(t);
            }
            let mut p = TxnOffsetCommitResponsePartition::default();
            p.partition_index = partition;
            p.error_code = code(error);
            response
                .topics
                .last_mut()
                .expect("pushed above")
                .partitions
                .push(p);
        }
        assert!(decided.next().is_none());
        Ok(Some(request.respond(&response)?))
    })))
}
