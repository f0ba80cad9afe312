//! OffsetForLeaderEpoch (key 23): the end offset of a leader epoch on the partition's leader.
//! Consumers ask it to detect log truncation after a leader change (KIP-320); followers ask it
//! to find where their log diverges from the leader's (KIP-101, KIP-279). Both are answered by
//! the leader only (Kafka's `fetchOnlyFromLeader = true`), whatever the request's replica id.
//! Versions 2-4 (the codec's range; 0 and 1 were removed in Kafka 4.0); all name topics.
//!
//! Authorization (Kafka's, whatever the replica id): CLUSTER_ACTION on the cluster (asked
//! quietly) lets every topic through; otherwise each topic needs DESCRIBE
//! (TOPIC_AUTHORIZATION_FAILED per partition).

use std::collections::BTreeMap;

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use kafka_protocol::protocol::VersionRange;

use sluice_security::acl::{AclOperation, ResourceType};

use crate::error_code::ResponseError;
use crate::kafka::authz::{Authz, CLUSTER_NAME};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::kafka::leader_check::check_leader_and_epoch;
use crate::metadata::MetadataService;
use crate::partition::offset_for_leader_epoch::{EpochEndAnswer, EpochQuery};
use crate::partition::PartitionService;
use crate::util::join_all;

pub const VERSIONS: VersionRange = VersionRange { min: 2, max: 4 };

/// One owner shard's queries, with each one's position in the response.
type OwnerWork = (Vec<usize>, Vec<EpochQuery>);

pub async fn handle(
    partitions: &PartitionService,
    metadata: &MetadataService,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: OffsetForLeaderEpochRequest = request.decode()?;
    let replica = authz.can_see(
        AclOperation::ClusterAction,
        ResourceType::Cluster,
        CLUSTER_NAME,
    );
    let meta = metadata.meta();
    let node = metadata.config().node_id;
    let mut answers: Vec<Option<EpochEndAnswer>> = Vec::new();
    let mut by_owner: BTreeMap<usize, OwnerWork> = BTreeMap::new();
    for topic in &body.topics {
        let name = topic.topic.0.to_string();
        let authorized = replica || authz.topic(AclOperation::Describe, &name);
        for partition in &topic.partitions {
            let index = partition.partition;
            let current = partition.current_leader_epoch;
            let checked = if authorized {
                check_leader_and_epoch(&meta, node, &name, index, current)
            } else {
                Err(ResponseError::TopicAuthorizationFailed.code())
            };
            if let Err(code) = checked {
                answers.push(Some(EpochEndAnswer::error(code)));
                continue;
            }
            let entry = by_owner
                .entry(partitions.owner_of(&name, index))
                .or_default();
            entry.0.push(answers.len());
            entry.1.push(EpochQuery {
                topic: name.clone(),
                partition: index,
                current_leader_epoch: current,
                leader_epoch: partition.leader_epoch,
            });
            answers.push(None);
        }
    }
    let calls = by_owner
        .into_iter()
        .map(|(owner, (positions, queries))| async move {
            let result = partitions.offsets_for_leader_epoch(owner, queries).await;
            (positions, result)
        })
        .collect();
    for (positions, result) in join_all(calls).await {
        // A stopping owner shard: its partitions keep the storage error below.
        let Ok(result) = result else { continue };
        assert_eq!(result.len(), positions.len());
        for (position, answer) in positions.into_iter().zip(result) {
            answers[position] = Some(answer);
        }
    }
    let mut answers = answers.into_iter();
    let mut response = OffsetForLeaderEpochResponse::default();
    for topic in &body.topics {
        let mut out = OffsetForLeaderTopicResult::default();
        out.topic = topic.topic.clone();
        for partition in &topic.partitions {
            let answer = answers
                .next()
                .flatten()
                .unwrap_or_else(|| EpochEndAnswer::error(ResponseError::KafkaStorageError.code()));
            let mut p = EpochEndOffset::default();
            p.partition = partition.partition;
            p.error_code = answer.error_code;
            p.leader_epoch = answer.leader_epoch;
            p.end_offset = answer.end_offset;
            out.partitions.push(p);
        }
        response.topics.push(out);
    }
    Ok(request.respond(&response)?.into())
}
