//! DescribeProducers (key 61, KIP-664): the producers each partition remembers, with their
//! epoch, last sequence, last timestamp, the coordinator epoch of its last transaction marker
//! (-1: none) and the first offset of its open transaction (-1: none). Answered by each
//! partition's owner shard; a partition this broker does not lead gets
//! NOT_LEADER_OR_FOLLOWER, as in Kafka.
//!
//! Authorization: READ on each topic (TOPIC_AUTHORIZATION_FAILED per partition, before
//! whether the topic exists), as in Kafka.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, ProducerId};
use kafka_protocol::protocol::VersionRange;

use sluice_security::acl::AclOperation;

use crate::error_code::ResponseError;
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;
use crate::partition::messages::PartitionProducers;
use crate::partition::PartitionService;
use crate::util::join_all;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };

/// One owner shard's partitions, with each one's position in the response.
type OwnerWork = (Vec<usize>, Vec<(String, i32)>);

pub async fn handle(
    partitions: &PartitionService,
    metadata: &MetadataService,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DescribeProducersRequest = request.decode()?;
    let meta = metadata.meta();
    let node = metadata.config().node_id;
    let mut answers: Vec<Option<PartitionProducers>> = Vec::new();
    let mut by_owner: BTreeMap<usize, OwnerWork> = BTreeMap::new();
    for topic in &body.topics {
        let name = topic.name.0.to_string();
        let authorized = authz.topic(AclOperation::Read, &name);
        for &index in &topic.partition_indexes {
            let checked = if authorized {
                meta.check_leader(node, &name, index)
            } else {
                Err(ResponseError::TopicAuthorizationFailed.code())
            };
            if let Err(error_code) = checked {
                answers.push(Some(PartitionProducers {
                    error_code,
                    producers: Vec::new(),
                }));
                continue;
            }
            let entry = by_owner
                .entry(partitions.owner_of(&name, index))
                .or_default();
            entry.0.push(answers.len());
            entry.1.push((name.clone(), index));
            answers.push(None);
        }
    }
    let calls = by_owner
        .into_iter()
        .map(|(owner, (positions, parts))| async move {
            (positions, partitions.describe_producers(owner, parts).await)
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
    let mut response = DescribeProducersResponse::default();
    for topic in &body.topics {
        let mut out = TopicResponse::default();
        out.name = topic.name.clone();
        for &index in &topic.partition_indexes {
            let answer = answers.next().flatten().unwrap_or(PartitionProducers {
                error_code: ResponseError::KafkaStorageError.code(),
                producers: Vec::new(),
            });
            let mut partition = PartitionResponse::default();
            partition.partition_index = index;
            partition.error_code = answer.error_code;
            partition.active_producers = answer
                .producers
                .iter()
                .map(|view| {
                    let mut state = ProducerState::default();
                    state.producer_id = ProducerId(view.producer_id);
                    state.producer_epoch = i32::from(view.epoch);
                    state.last_sequence = view.last_sequence;
                    state.last_timestamp = view.last_timestamp_ms;
                    state.coordinator_epoch = view.coordinator_epoch;
                    state.current_txn_start_offset = view.current_txn_start_offset;
                    state
                })
                .collect();
            out.partitions.push(partition);
        }
        response.topics.push(out);
    }
    Ok(request.respond(&response)?.into())
}
