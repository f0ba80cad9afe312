//! ListOffsets (key 2): earliest (-2), latest (-1), max timestamp (-3), or the first offset whose
//! timestamp is at least the one given. Partitions are answered by their owner shards. From v4
//! a request names the leader epoch it expects (checked as Kafka does: FENCED_LEADER_EPOCH,
//! UNKNOWN_LEADER_EPOCH) and each answer names the leader epoch of its offset.
//!
//! Authorization: DESCRIBE on each topic (TOPIC_AUTHORIZATION_FAILED per partition, before
//! whether the topic exists), from consumers and replicas alike, as in Kafka.

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use kafka_protocol::protocol::VersionRange;
use std::collections::BTreeMap;

use sluice_security::acl::AclOperation;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::kafka::leader_check::check_leader_and_epoch;
use crate::metadata::MetadataService;
use crate::partition::messages::{OffsetAnswer, OffsetQuery};
use crate::partition::PartitionService;
use crate::util::join_all;

pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 8 };

/// The leader epoch fields (the request's current epoch, the answer's epoch) exist from v4.
const LEADER_EPOCH_VERSION_MIN: i16 = 4;
/// The replica id of a consumer's request (Kafka's `CONSUMER_REPLICA_ID`).
const CONSUMER_REPLICA_ID: i32 = -1;

pub async fn handle(
    partitions: &PartitionService,
    metadata: &MetadataService,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: ListOffsetsRequest = request.decode()?;
    let meta = metadata.meta();
    let mut answers: Vec<Option<OffsetAnswer>> = Vec::new();
    let mut by_owner: BTreeMap<usize, (Vec<usize>, Vec<OffsetQuery>)> = BTreeMap::new();
    for topic in &body.topics {
        let name = topic.name.0.to_string();
        let node = metadata.config().node_id;
        let authorized = authz.topic(AclOperation::Describe, &name);
        for partition in &topic.partitions {
            let index = partition.partition_index;
            // Before v4 the field is not on the wire and decodes as -1: no check.
            let current = partition.current_leader_epoch;
            let checked = if authorized {
                check_leader_and_epoch(&meta, node, &name, index, current)
            } else {
                Err(ResponseError::TopicAuthorizationFailed.code())
            };
            if let Err(error_code) = checked {
                answers.push(Some(OffsetAnswer {
                    error_code,
                    timestamp: -1,
                    offset: -1,
                    leader_epoch: -1,
                }));
                continue;
            }
            let entry = by_owner
                .entry(partitions.owner_of(&name, index))
                .or_default();
            entry.0.push(answers.len());
            entry.1.push(OffsetQuery {
                topic: name.clone(),
                partition: index,
                timestamp: partition.timestamp,
                current_leader_epoch: current,
                from_consumer: body.replica_id.0 == CONSUMER_REPLICA_ID,
                // isolation_level 1 (v2+; 0 before): answers end at the last stable offset.
                read_committed: body.isolation_level == 1,
            });
            answers.push(None);
        }
    }
    let calls = by_owner
        .into_iter()
        .map(|(owner, (positions, queries))| async move {
            let result = partitions.list_offsets(owner, queries).await;
            (positions, result)
        })
        .collect();
    for (positions, result) in join_all(calls).await {
        let Ok(result) = result else { continue };
        assert_eq!(result.len(), positions.len());
        for (position, answer) in positions.into_iter().zip(result) {
            answers[position] = Some(answer);
        }
    }
    let mut answers = answers.into_iter();
    let mut response = ListOffsetsResponse::default();
    for topic in &body.topics {
        let mut out = ListOffsetsTopicResponse::default();
        out.name = topic.name.clone();
        for partition in &topic.partitions {
            let answer = answers.next().flatten().unwrap_or(OffsetAnswer {
                error_code: ResponseError::KafkaStorageError.code(),
                timestamp: -1,
                offset: -1,
                leader_epoch: -1,
            });
            let mut p = ListOffsetsPartitionResponse::default();
            p.partition_index = partition.partition_index;
            p.error_code = answer.error_code;
            p.timestamp = answer.timestamp;
            p.offset = answer.offset;
            if request.version >= LEADER_EPOCH_VERSION_MIN && answer.error_code == NONE {
                p.leader_epoch = answer.leader_epoch;
            }
            out.partitions.push(p);
        }
        response.topics.push(out);
    }
    Ok(request.respond(&response)?.into())
}
