//! Committed offsets: OffsetCommit (two-phase: validate, persist, then apply), OffsetFetch,
//! OffsetDelete and retention expiry (`offsets.retention.minutes`). TxnOffsetCommit and the
//! end of transactions are in `txn_offsets`; both kinds of commit share `CommitPlan`.

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
    /// Where the record that wrote it sits in the `__consumer_offsets` partition (Kafka's
    /// `CommitRecordMetadataAndOffset.appendedBatchOffset`, the new coordinator's
    /// `recordOffset`): when a transaction commits, its offset replaces a committed one only
    /// if its record is the later of the two. -1 until the record is appended.
    pub record_offset: i64,
}

/// `record_offset` of an offset whose record is not appended yet.
pub const RECORD_OFFSET_UNKNOWN: i64 = -1;

/// The producer of a transactional offset commit: its records go in a transactional batch of
/// this producer id and epoch, and stay pending until that producer's transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxnProducer {
    pub producer_id: i64,
    pub producer_epoch: i16,
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
    /// Accepted entries, one per record of `records`, in the same order.
    pub accepted: Vec<(TopicPartition, CommittedOffset)>,
    pub records: Vec<OffsetsRecord>,
    /// `Some` for a TxnOffsetCommit: the entries become pending offsets of that producer.
    pub producer: Option<TxnProducer>,
}

/// One row of an OffsetFetch answer; offset -1 means nothing committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
    /// UNSTABLE_OFFSET_COMMIT when `require_stable` was asked and a transaction holds a
    /// pending offset of this partition (offset -1 then).
    pub error: Option<ResponseError>,
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
        let checked = self.check_commit(req, now_ms);
        self.plan_commit(req, checked, None, now_ms)
    }

    /// The plan of a commit that passed (or failed) its checks: per entry, refused for
    /// oversized metadata or turned into a record.
    pub(super) fn plan_commit(
        &self,
        req: &CommitRequest,
        checked: Result<(), ResponseError>,
        producer: Option<TxnProducer>,
        now_ms: u64,
    ) -> CommitPlan {
        let mut plan = CommitPlan {
            group_id: req.group_id.clone(),
            partition: self.partition_of(&req.group_id),
            results: Vec::with_capacity(req.entries.len()),
            accepted: Vec::new(),
            records: Vec::new(),
            producer,
        };
        if let Err(e) = checked {
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
                record_offset: RECORD_OFFSET_UNKNOWN,
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
        assert_eq!(plan.accepted.len(), plan.records.len());
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

    /// Applies a planned commit once its records are durable, `first_record_offset` being
    /// where its first record sits in the log (the others follow it, one offset each); `None`
    /// turns its accepted entries into COORDINATOR_NOT_AVAILABLE (retriable): persisting
    /// failed. A plain commit's offsets are committed at once; a transactional one's become
    /// pending offsets of its producer (`txn_offsets`).
    pub fn finish_commit(&mut self, plan: &mut CommitPlan, first_record_offset: Option<i64>) {
        let Some(first_record_offset) = first_record_offset else {
            for result in plan.results.iter_mut().filter(|r| r.2.is_none()) {
                result.2 = Some(ResponseError::CoordinatorNotAvailable);
            }
            return;
        };
        assert!(first_record_offset >= 0);
        assert_eq!(plan.accepted.len(), plan.records.len());
        let Some(group) = self.groups.get_mut(&plan.group_id) else {
            return;
        };
        for (index, (tp, mut committed)) in plan.accepted.drain(..).enumerate() {
            assert_eq!(committed.record_offset, RECORD_OFFSET_UNKNOWN);
            committed.record_offset = first_record_offset + index as i64;
            match plan.producer {
                None => {
                    // The latest record of the partition, so it wins; unless a reload while
                    // it was in flight replayed this very record already.
                    put_if_newer(&mut group.offsets, tp, committed);
                }
                Some(producer) => {
                    let pending = group.pending_txn.entry(producer.producer_id).or_default();
                    pending.insert(tp, committed);
                }
            }
        }
    }

    /// Kafka's `handleFetchOffsets`: `topics` `None` means every committed offset of the group.
    /// Committed offsets only; with `require_stable` (OffsetFetch v7+), a partition with a
    /// pending transactional offset answers UNSTABLE_OFFSET_COMMIT instead (Kafka's rule).
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        topics: Option<&[(String, Vec<i32>)]>,
        require_stable: bool,
    ) -> Result<Vec<FetchedOffset>, ResponseError> {
        self.access(group_id)?;
        let group = self.groups.get(group_id);
        let row = |topic: &str, partition: i32| {
            let tp = (topic.to_string(), partition);
            let unstable = require_stable && group.is_some_and(|g| g.has_pending_txn_offset(&tp));
            let c = group.and_then(|g| g.offsets.get(&tp)).filter(|_| !unstable);
            FetchedOffset {
                topic: tp.0,
                partition,
                offset: c.map_or(-1, |c| c.offset),
                leader_epoch: c.map_or(-1, |c| c.leader_epoch),
                metadata: c.map(|c| c.metadata.clone()).unwrap_or_default(),
                error: unstable.then_some(ResponseError::UnstableOffsetCommit),
            }
        };
        let Some(topics) = topics else {
            let all = group.into_iter().flat_map(|g| g.offsets.keys());
            return Ok(all.map(|(t, p)| row(t, *p)).collect());
        };
        let mut rows = Vec::new();
        for (topic, partitions) in topics {
            for &partition in partitions {
                rows.push(row(topic, partition));
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
                // Kafka tombstones a partition with a committed or a pending transactional
                // offset; the tombstone also drops it from every open transaction.
                let tp = (topic.clone(), p);
                let pending = group.has_pending_txn_offset(&tp);
                if group.offsets.remove(&tp).is_some() || pending {
                    group.remove_pending_txn_offset(&tp);
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
            // An offset with a pending transactional one is kept (Kafka's rule), and so is a
            // group with an open transaction (`has_offsets`).
            let expired: Vec<TopicPartition> = group
                .offsets
                .iter()
                .filter(|(tp, _)| !group.has_pending_txn_offset(tp))
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
            if !group.has_offsets() {
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

/// Kafka's rule for a committed offset: the one written by the later record wins.
pub(super) fn put_if_newer(
    offsets: &mut BTreeMap<TopicPartition, CommittedOffset>,
    tp: TopicPartition,
    committed: CommittedOffset,
) -> bool {
    assert!(committed.record_offset >= 0);
    let newer = offsets
        .get(&tp)
        .is_none_or(|current| current.record_offset < committed.record_offset);
    if newer {
        offsets.insert(tp, committed);
    }
    newer
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
