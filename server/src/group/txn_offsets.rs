//! Transactional offsets: TxnOffsetCommit (Kafka's `commitTransactionalOffset`) and the end of
//! a transaction in an offsets partition (Kafka's `handleTxnCompletion` live, and
//! `replayEndTransactionMarker` on load).
//!
//! A TxnOffsetCommit is validated like an OffsetCommit but without the group-state rule (Kafka
//! accepts it while the group rebalances), persisted in a transactional batch of its producer
//! (`persist`), and then held per group and producer id in `Group::pending_txn`: OffsetFetch
//! does not show it, and with `require_stable` answers UNSTABLE_OFFSET_COMMIT for its
//! partitions. Once the producer's marker is durable in the offsets partition, `complete_txn`
//! moves the producer's pending offsets of every group there into the committed ones (commit)
//! or drops them (abort). A pending offset replaces a committed one only if its record is the
//! later one in the log (`put_if_newer`), so a plain OffsetCommit appended after the
//! TxnOffsetCommit wins over it, and one appended before loses.

use kafka_protocol::ResponseError;

use super::classic_group::Group;
use super::coordinator::{GroupCoordinator, PartitionStatus};
use super::join::validate_member;
use super::offsets::{put_if_newer, CommitPlan, CommitRequest, TxnProducer};
use super::state::GroupState;

/// A TxnOffsetCommit for one group (v0–v3; the member fields are v3's, empty before).
#[derive(Debug, Clone)]
pub struct TxnCommitRequest {
    pub transactional_id: String,
    pub producer: TxnProducer,
    /// Group, generation, member, instance and the offsets, as an OffsetCommit carries them.
    pub commit: CommitRequest,
}

/// What `complete_txn` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnEnd {
    /// Applied: the producer's pending offsets of this many groups were committed or dropped.
    Applied { groups: usize },
    /// The partition is loading: applied when it is loaded (its replay may meet the marker
    /// itself; applying it twice is harmless).
    Deferred,
}

impl GroupCoordinator {
    /// Validates a TxnOffsetCommit and builds its records; nothing changes in memory until
    /// `finish_commit`, which makes the accepted offsets pending offsets of the producer.
    pub fn prepare_txn_commit(&mut self, req: &TxnCommitRequest, now_ms: u64) -> CommitPlan {
        assert!(req.producer.producer_id >= 0);
        let checked = self.check_txn_commit(&req.commit, now_ms);
        self.plan_commit(&req.commit, checked, Some(req.producer), now_ms)
    }

    /// Kafka's `validateTransactionalOffsetCommit`: an unknown group is created as a simple
    /// group for generation -1 and refused with ILLEGAL_GENERATION otherwise; member fields,
    /// when given, must name a current member of the current generation.
    fn check_txn_commit(&mut self, req: &CommitRequest, now_ms: u64) -> Result<(), ResponseError> {
        let partition = self.access(&req.group_id)?;
        let Some(group) = self.groups.get(&req.group_id) else {
            if req.generation_id >= 0 {
                return Err(ResponseError::IllegalGeneration);
            }
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
            if req.generation_id != group.generation_id {
                return Err(ResponseError::IllegalGeneration);
            }
        }
        // Unlike OffsetCommit, neither an anonymous commit to a non-empty group nor a rebalance
        // in progress refuses it (older TxnOffsetCommit versions carry no member fields).
        Ok(())
    }

    /// The transaction of `producer_id` ended in offsets partition `partition`: its marker is
    /// durable there. Commit makes the producer's pending offsets of every group of the
    /// partition committed (each unless a later record committed that partition already);
    /// abort drops them. Idempotent: a retried marker finds nothing pending.
    /// `Err(NOT_COORDINATOR)` when this shard does not serve the partition: whoever loads it
    /// next replays the marker.
    pub fn complete_txn(
        &mut self,
        partition: i32,
        producer_id: i64,
        commit: bool,
    ) -> Result<TxnEnd, ResponseError> {
        assert!(producer_id >= 0);
        match self.partitions.get(&partition) {
            None => Err(ResponseError::NotCoordinator),
            Some(PartitionStatus::Loading) => {
                let deferred = self.deferred_txn_ends.entry(partition).or_default();
                deferred.push((producer_id, commit));
                Ok(TxnEnd::Deferred)
            }
            Some(PartitionStatus::Loaded) => {
                let groups = self.end_txn(partition, producer_id, commit);
                Ok(TxnEnd::Applied { groups })
            }
        }
    }

    /// Replays a commit or abort marker met while loading `partition`.
    pub fn load_marker(&mut self, partition: i32, producer_id: i64, commit: bool) {
        assert_eq!(
            self.partitions.get(&partition),
            Some(&PartitionStatus::Loading)
        );
        self.end_txn(partition, producer_id, commit);
    }

    /// Ends `producer_id`'s transaction in every group of `partition`; returns how many groups
    /// had pending offsets of it.
    pub(super) fn end_txn(&mut self, partition: i32, producer_id: i64, commit: bool) -> usize {
        let mut ended = 0;
        let groups = self
            .groups
            .values_mut()
            .filter(|g| g.partition == partition);
        for group in groups {
            let Some(pending) = group.pending_txn.remove(&producer_id) else {
                continue;
            };
            ended += 1;
            if !commit {
                continue;
            }
            for (tp, offset) in pending {
                let record_offset = offset.record_offset;
                if !put_if_newer(&mut group.offsets, tp, offset) {
                    tracing::debug!(
                        group = group.group_id,
                        producer_id,
                        record_offset,
                        "transactional offset older than the committed one: not applied"
                    );
                }
            }
        }
        ended
    }

    /// Producer ids with pending offsets in `partition` (tests and admin).
    pub fn open_txn_producers(&self, partition: i32) -> Vec<i64> {
        let mut producers: Vec<i64> = self
            .groups
            .values()
            .filter(|g| g.partition == partition)
            .flat_map(|g| g.pending_txn.keys().copied())
            .collect();
        producers.sort_unstable();
        producers.dedup();
        producers
    }
}
