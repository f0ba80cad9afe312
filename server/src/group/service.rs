//! `GroupService`: the consumer-group subsystem on one shard. Group requests travel to the
//! coordinator shard of their group on the group mesh (their types here are `Send`) and run
//! there against the shard's `GroupRuntime`. Lives on one shard.

use std::rc::Rc;

use kafka_protocol::ResponseError;

use super::admin::{DeleteGroupsPlan, DescribedGroup, ListedGroup};
use super::coordinator::Reply;
use super::heartbeat::{HeartbeatRequest, LeavingMember};
use super::join::{JoinOutcome, JoinRequest, JoinResult};
use super::offsets::{CommitRequest, FetchedOffset};
use super::runtime::GroupRuntime;
use super::sync::{SyncOutcome, SyncRequest, SyncResult};
use super::txn_offsets::{TxnCommitRequest, TxnEnd};
use super::GroupConfig;
use crate::partition::Partitions;
use crate::shard::context::ShardContext;
use crate::shard::mesh::{Handler, Mesh};

/// (topic, partitions) as a request names them.
pub type TopicPartitions = Vec<(String, Vec<i32>)>;

/// One group operation for the coordinator shard.
#[derive(Debug)]
pub enum GroupOp {
    Join(JoinRequest),
    Sync(SyncRequest),
    Heartbeat(HeartbeatRequest),
    Leave {
        group_id: String,
        members: Vec<LeavingMember>,
    },
    Commit(CommitRequest),
    TxnCommit(TxnCommitRequest),
    FetchOffsets {
        group_id: String,
        topics: Option<TopicPartitions>,
        /// OffsetFetch v7+'s `require_stable`.
        require_stable: bool,
    },
    /// A transaction marker is durable in offsets partition `partition`: end the producer's
    /// pending offsets there. Runs on the shard owning that partition.
    CompleteTxn {
        partition: i32,
        producer_id: i64,
        commit: bool,
    },
    DeleteOffsets {
        group_id: String,
        topics: TopicPartitions,
    },
    /// Answered by every shard for its own groups.
    ListGroups {
        states: Vec<String>,
        types: Vec<String>,
    },
    Describe {
        group_id: String,
    },
    Delete {
        group_id: String,
    },
}

/// (topic, partition, error) rows.
pub type PartitionResults = Vec<(String, i32, Option<ResponseError>)>;

#[derive(Debug)]
pub enum GroupAnswer {
    Join(JoinResult),
    Sync(SyncResult),
    Heartbeat(Option<ResponseError>),
    Leave(Result<Vec<Option<ResponseError>>, ResponseError>),
    Commit(PartitionResults),
    TxnCommit(PartitionResults),
    CompleteTxn(Result<TxnEnd, ResponseError>),
    FetchOffsets(Result<Vec<FetchedOffset>, ResponseError>),
    DeleteOffsets(Result<PartitionResults, ResponseError>),
    ListGroups(Result<Vec<ListedGroup>, ResponseError>),
    Describe(DescribedGroup),
    Delete(Option<ResponseError>),
}

/// A group operation on its way to the coordinator shard, stamped with the sender's clock.
pub struct GroupRequest {
    pub op: GroupOp,
    pub now_ms: u64,
}

pub type GroupMesh = Mesh<GroupRequest, GroupAnswer>;

pub struct GroupService {
    ctx: Rc<ShardContext>,
    partitions: Rc<Partitions>,
    runtime: GroupRuntime,
    mesh: Rc<GroupMesh>,
}

impl GroupService {
    pub fn new(
        ctx: Rc<ShardContext>,
        config: GroupConfig,
        partitions: Rc<Partitions>,
        mesh: Rc<GroupMesh>,
    ) -> Rc<GroupService> {
        assert_eq!(mesh.shard_id(), ctx.id());
        let runtime = GroupRuntime::new(ctx.id(), config);
        let service = Rc::new(GroupService {
            ctx,
            partitions,
            runtime,
            mesh,
        });
        service.mesh.serve(service.clone());
        service
    }

    pub fn ctx(&self) -> &Rc<ShardContext> {
        &self.ctx
    }

    pub fn partitions(&self) -> &Rc<Partitions> {
        &self.partitions
    }

    pub fn runtime(&self) -> &GroupRuntime {
        &self.runtime
    }

    pub fn mesh(&self) -> &Rc<GroupMesh> {
        &self.mesh
    }

    pub fn config(&self) -> GroupConfig {
        self.runtime.config()
    }

    /// Starts the coordinator's timers and persist worker (in the background).
    pub fn start(self: &Rc<Self>) {
        super::runtime::start(self);
    }

    /// The transaction of `producer_id` ended (`commit` or abort) and its marker is durable in
    /// `__consumer_offsets` partition `offsets_partition`: its pending offsets there become
    /// committed, or are dropped. Callable from any shard (it runs on the partition's owner);
    /// idempotent, so a retried marker may call it again. `Err(NOT_COORDINATOR)`: this broker
    /// does not serve that partition now (its next coordinator replays the marker);
    /// `Err(COORDINATOR_NOT_AVAILABLE)`: the owner shard is gone (shutting down).
    pub async fn complete_txn_offsets(
        self: &Rc<Self>,
        offsets_partition: i32,
        producer_id: i64,
        commit: bool,
    ) -> Result<TxnEnd, ResponseError> {
        assert!(
            producer_id >= 0,
            "a transaction marker without a producer id"
        );
        if !(0..self.config().offsets_partitions).contains(&offsets_partition) {
            return Err(ResponseError::NotCoordinator);
        }
        let target = self
            .ctx()
            .owner_of(super::placement::OFFSETS_TOPIC, offsets_partition);
        let op = GroupOp::CompleteTxn {
            partition: offsets_partition,
            producer_id,
            commit,
        };
        match self.call_shard(target, op).await? {
            GroupAnswer::CompleteTxn(result) => result,
            other => Err(super::wire::unexpected(&other)),
        }
    }

    /// The offsets partitions of this shard that this broker now leads.
    pub fn set_led_partitions(self: &Rc<Self>, led: std::collections::BTreeSet<i32>) {
        super::runtime::set_led_partitions(self, led);
    }
}

impl Handler<GroupRequest, GroupAnswer> for GroupService {
    async fn handle(self: Rc<Self>, request: GroupRequest) -> GroupAnswer {
        execute(&self, request.op, request.now_ms).await
    }

    fn in_order(_request: &GroupRequest) -> bool {
        false
    }
}

/// Runs `op` on this (the coordinator) shard.
pub(super) async fn execute(groups: &Rc<GroupService>, op: GroupOp, now_ms: u64) -> GroupAnswer {
    let rt = groups.runtime();
    match op {
        GroupOp::Join(req) => {
            let member_id = req.member_id.clone();
            let outcome = rt.with(|c| c.join(req, now_ms));
            match outcome {
                JoinOutcome::Done(result) => GroupAnswer::Join(result),
                JoinOutcome::Parked(ticket) => match rt.wait(ticket).await {
                    Some(Reply::Join(result)) => GroupAnswer::Join(result),
                    _ => GroupAnswer::Join(JoinResult::error(
                        ResponseError::UnknownServerError,
                        &member_id,
                    )),
                },
            }
        }
        GroupOp::Sync(req) => {
            let outcome = rt.with(|c| c.sync(req, now_ms));
            match outcome {
                SyncOutcome::Done(result) => GroupAnswer::Sync(result),
                SyncOutcome::Parked(ticket) => match rt.wait(ticket).await {
                    Some(Reply::Sync(result)) => GroupAnswer::Sync(result),
                    _ => GroupAnswer::Sync(SyncResult::error(ResponseError::UnknownServerError)),
                },
            }
        }
        GroupOp::Heartbeat(req) => GroupAnswer::Heartbeat(rt.with(|c| c.heartbeat(req, now_ms))),
        GroupOp::Leave { group_id, members } => {
            GroupAnswer::Leave(rt.with(|c| c.leave(&group_id, &members, now_ms)))
        }
        GroupOp::Commit(req) => GroupAnswer::Commit(rt.commit(req, now_ms).await),
        GroupOp::TxnCommit(req) => GroupAnswer::TxnCommit(rt.txn_commit(req, now_ms).await),
        GroupOp::FetchOffsets {
            group_id,
            topics,
            require_stable,
        } => {
            let rows = rt.with(|c| c.fetch_offsets(&group_id, topics.as_deref(), require_stable));
            GroupAnswer::FetchOffsets(rows)
        }
        GroupOp::CompleteTxn {
            partition,
            producer_id,
            commit,
        } => GroupAnswer::CompleteTxn(rt.with(|c| c.complete_txn(partition, producer_id, commit))),
        GroupOp::DeleteOffsets { group_id, topics } => {
            let plan = rt.with(|c| c.delete_offsets(&group_id, &topics));
            let answer = match plan {
                Err(e) => Err(e),
                Ok(plan) => {
                    if !plan.records.is_empty() {
                        // Deleted in memory already; a failed persist resurfaces them on restart.
                        let ok = rt.persist_and_wait(plan.partition, plan.records).await;
                        if !ok {
                            tracing::warn!(group = group_id, "offset tombstones not persisted");
                        }
                    }
                    Ok(plan.results)
                }
            };
            GroupAnswer::DeleteOffsets(answer)
        }
        GroupOp::ListGroups { states, types } => {
            GroupAnswer::ListGroups(rt.with(|c| c.list_groups(&states, &types)))
        }
        GroupOp::Describe { group_id } => {
            GroupAnswer::Describe(rt.with(|c| c.describe_group(&group_id)))
        }
        GroupOp::Delete { group_id } => {
            let plan: DeleteGroupsPlan =
                rt.with(|c| c.delete_groups(std::slice::from_ref(&group_id), now_ms));
            let error = plan.results.first().and_then(|(_, e)| *e);
            for (partition, records) in plan.records {
                if !rt.persist_and_wait(partition, records).await {
                    return GroupAnswer::Delete(Some(ResponseError::CoordinatorNotAvailable));
                }
            }
            GroupAnswer::Delete(error)
        }
    }
}
