//! OffsetFetch (key 9): committed offsets (and their metadata) of one group (v1–v7) or several
//! (v8). Offset -1 means nothing committed. Pending transactional offsets are never shown; with
//! `require_stable` (v7+) their partitions answer UNSTABLE_OFFSET_COMMIT, which the client
//! retries until the transaction ends (Kafka's KIP-447 rule).
//!
//! Authorization (Kafka's): DESCRIBE on each group (else GROUP_AUTHORIZATION_FAILED for that
//! group); DESCRIBE on each topic named (else its partitions answer offset -1 with
//! TOPIC_AUTHORIZATION_FAILED); a fetch of every partition leaves out the topics the
//! principal may not describe (no refusal is counted for those).

use std::rc::Rc;

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{GroupId, OffsetFetchRequest, OffsetFetchResponse, TopicName};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::{AclOperation, ResourceType};

use crate::group::offsets::FetchedOffset;
use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp, TopicPartitions};
use crate::group::wire::{str_bytes, string, unexpected};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::util::join_all;

/// v9 adds KIP-848 member epochs; classic groups are served through v8.
pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 8 };

/// v2+ has a group-level error code; v1 reports it on every partition.
const TOP_LEVEL_ERROR_VERSION_MIN: i16 = 2;
const MULTI_GROUP_VERSION_MIN: i16 = 8;
const REQUIRE_STABLE_VERSION_MIN: i16 = 7;

pub async fn handle(
    service: &Rc<GroupService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: OffsetFetchRequest = request.decode()?;
    let version = request.version;
    let require_stable = version >= REQUIRE_STABLE_VERSION_MIN && body.require_stable;
    let groups: Vec<(String, Option<TopicPartitions>)> = if version >= MULTI_GROUP_VERSION_MIN {
        body.groups
            .iter()
            .map(|g| {
                let topics = g.topics.as_ref().map(|ts| {
                    ts.iter()
                        .map(|t| (string(&t.name.0), t.partition_indexes.clone()))
                        .collect()
                });
                (string(&g.group_id.0), topics)
            })
            .collect()
    } else {
        let topics = body.topics.as_ref().map(|ts| {
            ts.iter()
                .map(|t| (string(&t.name.0), t.partition_indexes.clone()))
                .collect()
        });
        vec![(string(&body.group_id.0), topics)]
    };
    let calls = groups
        .iter()
        .map(|(group_id, topics)| fetch_group(service, authz, group_id, topics, require_stable))
        .collect();
    let answers = join_all(calls).await;
    let mut response = OffsetFetchResponse::default();
    if version >= MULTI_GROUP_VERSION_MIN {
        for ((group_id, topics), answer) in groups.into_iter().zip(answers) {
            response.groups.push(group_v8(group_id, topics, answer));
        }
    } else {
        let (_, topics) = groups.into_iter().next().expect("one group");
        let answer = answers.into_iter().next().expect("one answer");
        let (rows, error) = rows_or_error(topics, answer);
        for row in rows {
            let FetchedRow {
                topic,
                row,
                error: partition_error,
            } = row;
            if response
                .topics
                .last()
                .is_none_or(|t| t.name.0.as_str() != topic)
            {
                let mut t = OffsetFetchResponseTopic::default();
                t.name = TopicName(str_bytes(topic));
                response.topics.push(t);
            }
            let mut p = OffsetFetchResponsePartition::default();
            p.partition_index = row.partition;
            p.committed_offset = row.offset;
            p.committed_leader_epoch = row.leader_epoch;
            p.metadata = Some(str_bytes(row.metadata));
            // A group-level error is on every partition before v2, at the top from v2 on; a
            // partition's own (UNSTABLE_OFFSET_COMMIT) is always on the partition.
            let group_error = partition_error.filter(|_| version < TOP_LEVEL_ERROR_VERSION_MIN);
            p.error_code = group_error.or(row.error).map_or(0, |e| e.code());
            response
                .topics
                .last_mut()
                .expect("pushed above")
                .partitions
                .push(p);
        }
        if version >= TOP_LEVEL_ERROR_VERSION_MIN {
            response.error_code = error.map_or(0, |e| e.code());
        }
    }
    Ok(request.respond(&response)?.into())
}

/// One group's committed offsets, as the principal may see them.
async fn fetch_group(
    service: &Rc<GroupService>,
    authz: &Authz,
    group_id: &str,
    topics: &Option<TopicPartitions>,
    require_stable: bool,
) -> Result<Vec<FetchedOffset>, ResponseError> {
    if !authz.group(AclOperation::Describe, group_id) {
        return Err(ResponseError::GroupAuthorizationFailed);
    }
    let (allowed, refused): (Option<TopicPartitions>, TopicPartitions) = match topics {
        None => (None, Vec::new()),
        Some(topics) => {
            let (allowed, refused) = topics
                .iter()
                .cloned()
                .partition(|(topic, _)| authz.topic(AclOperation::Describe, topic));
            (Some(allowed), refused)
        }
    };
    let op = GroupOp::FetchOffsets {
        group_id: group_id.to_string(),
        topics: allowed,
        require_stable,
    };
    let mut rows = match service.call(group_id, op).await {
        Ok(GroupAnswer::FetchOffsets(rows)) => rows?,
        Ok(other) => return Err(unexpected(&other)),
        Err(e) => return Err(e),
    };
    if topics.is_none() {
        rows.retain(|row| authz.can_see(AclOperation::Describe, ResourceType::Topic, &row.topic));
    }
    for (topic, partitions) in refused {
        rows.extend(partitions.into_iter().map(|partition| FetchedOffset {
            topic: topic.clone(),
            partition,
            offset: -1,
            leader_epoch: -1,
            metadata: String::new(),
            error: Some(ResponseError::TopicAuthorizationFailed),
        }));
    }
    Ok(rows)
}

struct FetchedRow {
    topic: String,
    row: FetchedOffset,
    error: Option<ResponseError>,
}

/// Rows to answer with, and the group-level error (rows then carry -1 and that error).
fn rows_or_error(
    topics: Option<TopicPartitions>,
    answer: Result<Vec<FetchedOffset>, ResponseError>,
) -> (Vec<FetchedRow>, Option<ResponseError>) {
    match answer {
        Ok(rows) => {
            let rows = rows
                .into_iter()
                .map(|row| FetchedRow {
                    topic: row.topic.clone(),
                    row,
                    error: None,
                })
                .collect();
            // `error` is the group-level one; a row's own error stays in `row.error`.
            (rows, None)
        }
        Err(e) => {
            let mut rows = Vec::new();
            for (topic, partitions) in topics.unwrap_or_default() {
                for partition in partitions {
                    let row = FetchedOffset {
                        topic: topic.clone(),
                        partition,
                        offset: -1,
                        leader_epoch: -1,
                        metadata: String::new(),
                        error: None,
                    };
                    rows.push(FetchedRow {
                        topic: topic.clone(),
                        row,
                        error: Some(e),
                    });
                }
            }
            (rows, Some(e))
        }
    }
}

fn group_v8(
    group_id: String,
    topics: Option<TopicPartitions>,
    answer: Result<Vec<FetchedOffset>, ResponseError>,
) -> OffsetFetchResponseGroup {
    let mut g = OffsetFetchResponseGroup::default();
    g.group_id = GroupId(str_bytes(group_id));
    let (rows, error) = rows_or_error(topics, answer);
    g.error_code = error.map_or(0, |e| e.code());
    if error.is_some() {
        return g;
    }
    for FetchedRow { topic, row, .. } in rows {
        if g.topics.last().is_none_or(|t| t.name.0.as_str() != topic) {
            let mut t = OffsetFetchResponseTopics::default();
            t.name = TopicName(str_bytes(topic));
            g.topics.push(t);
        }
        let mut p = OffsetFetchResponsePartitions::default();
        p.partition_index = row.partition;
        p.committed_offset = row.offset;
        p.committed_leader_epoch = row.leader_epoch;
        p.metadata = Some(str_bytes(row.metadata));
        p.error_code = row.error.map_or(0, |e| e.code());
        g.topics
            .last_mut()
            .expect("pushed above")
            .partitions
            .push(p);
    }
    g
}
