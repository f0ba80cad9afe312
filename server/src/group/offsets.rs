//! Committed offsets: OffsetCommit (two-phase: validate, persist, then apply), OffsetFetch,
//! OffsetDelete and retention expiry (`offsets.retention.minutes`).

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;

use super::classic_group::{Group, TopicPartition};
use super::coordinator::GroupCoordinator;
use super::join::validate_member;
use super::records::{
    encode_key, encode_offset_value, OffsetCommitValue, OffsetsKey, OffsetsRecord,
};
use super::state::GroupState;

/// A committed offset with what the client attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    /// The next offset to read.
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp_ms: u64,
}

#[derive(Debug, Clone)]
pub struct CommitEntry {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CommitRequest {
    pub group_id: String,
    /// -1 for a standalone commit (no group membership).
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub entries: Vec<CommitEntry>,
}

/// What a commit will do once its records are durable. Apply it with `finish_commit`.
#[derive(Debug, Clone)]
pub struct CommitPlan {
    pub group_id: String,
    /// `__consumer_offsets` partition to append `records` to.
    pub partition: i32,
    /// One result per requested entry, in request order.
    pub results: Vec<(String, i32, Option<ResponseError>)>,
    pub accepted: Vec<(TopicPartition, CommittedOffset)>,
    pub records: Vec<OffsetsRecord>,
}

/// One row of an OffsetFetch answer; offset -1 means nothing committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
}

/// What an OffsetDelete did in memory; persist `records` before answering.
#[derive(Debug, Clone)]
pub struct OffsetDeletePlan {
    pub partition: i32,
    pub results: Vec<(String, i32, Option<ResponseError>)>,
    pub records: Vec<OffsetsRecord>,
}

impl GroupCoordinator {
    /// Validates a commit (Kafka's `handleCommitOffsets` rules) and builds its records; nothing
    /// changes in memory until `finish_commit`.
    pub fn prepare_commit(&mut self, req: &CommitRequest, now_ms: u64) -> CommitPlan {
        let mut plan = CommitPlan {
            group_id: req.group_id.clone(),
            partition: self.partition_of(&req.group_id),
            results: Vec::with_capacity(req.entries.len()),
            accepted: Vec::new(),
            records: Vec::new(),
        };
        if let Err(e) = self.check_commit(req, now_ms) {
            plan.results = req
                .entries
                .iter()
                .map(|e2| (e2.topic.clone(), e2.partition, Some(e)))
                .collect();
            return plan;
        }
        for entry in &req.entries {
            let metadata = entry.metadata.clone().unwrap_or_default();
            if metadata.len() > self.config.offset_metadata_bytes_max {
                let e = Some(ResponseError::OffsetMetadataTooLarge);
                plan.results.push((entry.topic.clone(), entry.partition, e));
                continue;
            }
            let committed = CommittedOffset {
                offset: entry.offset,
                leader_epoch: entry.leader_epoch,
                metadata,
                commit_timestamp_ms: now_ms,
            };
            plan.records.push(offset_record(
                &req.group_id,
                &entry.topic,
                entry.partition,
                &committed,
            ));
            plan.accepted
                .push(((entry.topic.clone(), entry.partition), committed));
            plan.results
                .push((entry.topic.clone(), entry.partition, None));
        }
        plan
    }

    fn check_commit(&mut self, req: &CommitRequest, now_ms: u64) -> Result<(), ResponseError> {
        let partition = self.access(&req.group_id)?;
        let Some(group) = self.groups.get(&req.group_id) else {
            if req.generation_id >= 0 {
                return Err(ResponseError::IllegalGeneration);
            }
            // A standalone commit creates a group that holds only offsets.
            let group = Group::new(&req.group_id, partition, now_ms);
            self.groups.insert(req.group_id.clone(), group);
            return Ok(());
        };
        if group.is(GroupState::Dead) {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        if req.generation_id < 0 && group.is(GroupState::Empty) {
            return Ok(());
        }
        let claims_membership =
            req.generation_id >= 0 || !req.member_id.is_empty() || req.group_instance_id.is_some();
        if claims_membership {
            validate_member(group, &req.member_id, req.group_instance_id.as_deref())?;
        }
        if req.generation_id >= 0 && req.generation_id != group.generation_id {
            return Err(ResponseError::IllegalGeneration);
        }
        match group.state {
            GroupState::CompletingRebalance => Err(ResponseError::RebalanceInProgress),
            GroupState::Empty | GroupState::Dead => Err(ResponseError::UnknownMemberId),
            GroupState::Stable | GroupState::PreparingRebalance => {
                // A commit proves the member alive, as in Kafka.
                self.heartbeat_seen(&req.group_id, &req.member_id, now_ms);
                Ok(())
            }
        }
    }

    /// Applies a planned commit once its records are durable (`persisted`), or turns its
    /// accepted entries into COORDINATOR_NOT_AVAILABLE (retriable) if persisting failed.
    pub fn finish_commit(&mut self, plan: &mut CommitPlan, persisted: bool) {
        if !persisted {
            for result in plan.results.iter_mut().filter(|r| r.2.is_none()) {
                result.2 = Some(ResponseError::CoordinatorNotAvailable);
            }
            return;
        }
        let Some(group) = self.groups.get_mut(&plan.group_id) else {
            return;
        };
        for (tp, committed) in plan.accepted.drain(..) {
            group.offsets.insert(tp, committed);
        }
    }

    /// Kafka's `handleFetchOffsets`: `topics` `None` means every committed offset of the group.
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        topics: Option<&[(String, Vec<i32>)]>,
    ) -> Result<Vec<FetchedOffset>, ResponseError> {
        self.access(group_id)?;
        let offsets = self.groups.get(group_id).map(|g| &g.offsets);
        let row = |topic: &str, partition: i32, c: Option<&CommittedOffset>| FetchedOffset {
            topic: topic.to_string(),
            partition,
            offset: c.map_or(-1, |c| c.offset),
            leader_epoch: c.map_or(-1, |c| c.leader_epoch),
            metadata: c.map(|c| c.metadata.clone()).unwrap_or_default(),
        };
        let Some(topics) = topics else {
            let all = offsets.into_iter().flatten();
            return Ok(all.map(|((t, p), c)| row(t, *p, Some(c))).collect());
        };
        let mut rows = Vec::new();
        for (topic, partitions) in topics {
            for &partition in partitions {
                let c = offsets.and_then(|o| o.get(&(topic.clone(), partition)));
                rows.push(row(topic, partition, c));
            }
        }
        Ok(rows)
    }

    /// Kafka's `handleDeleteOffsets`: offsets of topics an active consumer group subscribes to
    /// are kept (GROUP_SUBSCRIBED_TO_TOPIC).
    pub fn delete_offsets(
        &mut self,
        group_id: &str,
        topics: &[(String, Vec<i32>)],
    ) -> Result<OffsetDeletePlan, ResponseError> {
        let partition = self.access(group_id)?;
        let group = match self.groups.get_mut(group_id) {
            Some(g) if !g.is(GroupState::Dead) => g,
            _ => return Err(ResponseError::GroupIdNotFound),
        };
        let subscribed = if group.is(GroupState::Empty) {
            Default::default()
        } else {
            group
                .subscribed_topics()
                .ok_or(ResponseError::NonEmptyGroup)?
        };
        let mut plan = OffsetDeletePlan {
            partition,
            results: Vec::new(),
            records: Vec::new(),
        };
        for (topic, partitions) in topics {
            for &p in partitions {
                if subscribed.contains(topic) {
                    let e = Some(ResponseError::GroupSubscribedToTopic);
                    plan.results.push((topic.clone(), p, e));
                    continue;
                }
                if group.offsets.remove(&(topic.clone(), p)).is_some() {
                    plan.records.push(offset_tombstone(group_id, topic, p));
                }
                plan.results.push((topic.clone(), p, None));
            }
        }
        Ok(plan)
    }

    /// Drops offsets past retention and then groups left with nothing, persisting tombstones.
    /// A consumer group's offsets age from when it became empty; a standalone commit's from
    /// its commit time (Kafka 2.1+ rules).
    pub fn expire_offsets(&mut self, now_ms: u64) {
        let retention_ms = self.config.offsets_retention_ms;
        let mut tombstones: BTreeMap<i32, Vec<OffsetsRecord>> = BTreeMap::new();
        let mut dead = Vec::new();
        for group in self.groups.values_mut() {
            if !group.is(GroupState::Empty) {
                continue;
            }
            if self.partitions.get(&group.partition)
                != Some(&super::coordinator::PartitionStatus::Loaded)
            {
                continue;
            }
            let empty_since_ms = group.state_timestamp_ms;
            let consumer_group = group.protocol_type.is_some();
            let expired: Vec<TopicPartition> = group
                .offsets
                .iter()
                .filter(|(_, c)| {
                    let base_ms = if consumer_group {
                        empty_since_ms
                    } else {
                        c.commit_timestamp_ms
                    };
                    base_ms.saturating_add(retention_ms) <= now_ms
                })
                .map(|(tp, _)| tp.clone())
                .collect();
            let records = tombstones.entry(group.partition).or_default();
            for tp in expired {
                group.offsets.remove(&tp);
                records.push(offset_tombstone(&group.group_id, &tp.0, tp.1));
            }
            if group.offsets.is_empty() {
                dead.push(group.group_id.clone());
            }
        }
        for group_id in dead {
            let Some(mut group) = self.groups.remove(&group_id) else {
                continue;
            };
            group.transition(GroupState::Dead, now_ms);
            let records = tombstones.entry(group.partition).or_default();
            records.push(OffsetsRecord {
                key: encode_key(&OffsetsKey::Group { group: group_id }),
                value: None,
            });
        }
        for (partition, records) in tombstones {
            if !records.is_empty() {
                self.persist(partition, records, Vec::new());
            }
        }
    }
}

pub(super) fn offset_record(
    group: &str,
    topic: &str,
    partition: i32,
    c: &CommittedOffset,
) -> OffsetsRecord {
    let key = OffsetsKey::Offset {
        group: group.into(),
        topic: topic.into(),
        partition,
    };
    let value = OffsetCommitValue {
        offset: c.offset,
        leader_epoch: c.leader_epoch,
        metadata: c.metadata.clone(),
        commit_timestamp_ms: i64::try_from(c.commit_timestamp_ms).unwrap_or(i64::MAX),
    };
    OffsetsRecord {
        key: encode_key(&key),
        value: Some(encode_offset_value(&value)),
    }
}

pub(super) fn offset_tombstone(group: &str, topic: &str, partition: i32) -> OffsetsRecord {
    let key = OffsetsKey::Offset {
        group: group.into(),
        topic: topic.into(),
        partition,
    };
    OffsetsRecord {
        key: encode_key(&key),
        value: None,
    }
}
