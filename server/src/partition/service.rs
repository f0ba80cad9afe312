//! `PartitionService`: the partition subsystem on one shard. The Kafka handlers call it with
//! the owner shard of each partition; it serves owned partitions inline and sends the rest over
//! the partition mesh, where the owner runs the same code (`Handler`). Lives on one shard.

use std::rc::Rc;
use std::sync::Arc;

use super::messages::*;
use super::registry::Partitions;
use crate::metrics::Stage;
use crate::shard::context::ShardContext;
use crate::shard::mesh::{Handler, Mesh, Reply, ShardDown};
use crate::topics::{ClusterMeta, MetaCell};

pub type PartitionMesh = Mesh<PartitionRequest, PartitionReply>;

/// Appends started by [`PartitionService::start_produce`]: answered already (this shard, or a
/// peer that is gone), or queued on a peer.
pub enum StartedProduce {
    Done(Result<PartitionReply, ShardDown>),
    Queued(Reply<PartitionReply>),
}

impl StartedProduce {
    /// True when the results are known without waiting.
    pub fn is_done(&self) -> bool {
        matches!(self, StartedProduce::Done(_))
    }

    /// The results, in the order of the parts.
    pub async fn results(self) -> Result<Vec<ProducePartResult>, ShardDown> {
        let reply = match self {
            StartedProduce::Done(reply) => reply?,
            StartedProduce::Queued(reply) => reply.await?,
        };
        match reply {
            PartitionReply::Produce(results) => Ok(results),
            _ => unreachable!("a produce is answered with produce results"),
        }
    }
}

pub struct PartitionService {
    ctx: Rc<ShardContext>,
    partitions: Rc<Partitions>,
    meta: Rc<MetaCell>,
    mesh: Rc<PartitionMesh>,
}

impl PartitionService {
    pub fn new(
        ctx: Rc<ShardContext>,
        partitions: Rc<Partitions>,
        meta: Rc<MetaCell>,
        mesh: Rc<PartitionMesh>,
    ) -> Rc<PartitionService> {
        assert_eq!(mesh.shard_id(), ctx.id());
        assert_eq!(mesh.shards(), ctx.shards());
        let service = Rc::new(PartitionService {
            ctx,
            partitions,
            meta,
            mesh,
        });
        service.mesh.serve(service.clone());
        service
    }

    /// This shard's number.
    pub fn shard(&self) -> usize {
        self.ctx.id()
    }

    /// The shard owning `topic`/`partition`.
    pub fn owner_of(&self, topic: &str, partition: i32) -> usize {
        self.ctx.owner_of(topic, partition)
    }

    /// True once this shard is stopping: long polls answer at once.
    pub fn is_stopping(&self) -> bool {
        self.ctx.is_stopping()
    }

    pub fn partitions(&self) -> &Rc<Partitions> {
        &self.partitions
    }

    /// Appends on `owner`; results in the order of `parts`.
    pub async fn produce(
        &self,
        owner: usize,
        parts: Vec<ProducePart>,
        acks_all: bool,
        now_ms: i64,
    ) -> Result<Vec<ProducePartResult>, ShardDown> {
        let request = PartitionRequest::Produce {
            parts,
            acks_all,
            now_ms,
            sent_at: std::time::Instant::now(),
        };
        match self.call(owner, request).await? {
            PartitionReply::Produce(results) => Ok(results),
            _ => unreachable!("a produce is answered with produce results"),
        }
    }

    /// Starts the appends of `parts` on `owner` in the caller's turn: on this shard they are
    /// done when this returns; on a peer they are queued behind this shard's earlier requests
    /// there, which the peer serves in arrival order. So a connection's appends keep its order
    /// without its reader waiting a cross-shard round trip per request; await the returned
    /// [`StartedProduce`] for the results (in the order of `parts`).
    pub async fn start_produce(
        &self,
        owner: usize,
        parts: Vec<ProducePart>,
        acks_all: bool,
        now_ms: i64,
    ) -> StartedProduce {
        let request = PartitionRequest::Produce {
            parts,
            acks_all,
            now_ms,
            sent_at: std::time::Instant::now(),
        };
        if owner == self.ctx.id() {
            return StartedProduce::Done(Ok(self.serve(request).await));
        }
        match self.mesh.send(owner, request).await {
            Ok(reply) => StartedProduce::Queued(reply),
            Err(down) => StartedProduce::Done(Err(down)),
        }
    }

    /// acks=all on `owner`: flush `parts` (group commit) and wait until every in-sync replica
    /// has them, at most `timeout_ms`; an error code per partition (see `replicate.rs`).
    pub async fn replicate(
        &self,
        owner: usize,
        parts: Vec<ReplicatePart>,
        timeout_ms: u64,
    ) -> Result<Vec<i16>, ShardDown> {
        let request = PartitionRequest::Replicate { parts, timeout_ms };
        match self.call(owner, request).await? {
            PartitionReply::Replicate(codes) => Ok(codes),
            _ => unreachable!("a replicate is answered with error codes"),
        }
    }

    /// A follower's fetch of `parts` on `owner` (see `leader_fetch.rs`).
    pub async fn replica_read(
        &self,
        owner: usize,
        replica_id: i32,
        parts: Vec<ReplicaReadSpec>,
        record: bool,
    ) -> Result<Vec<PartitionRead>, ShardDown> {
        let request = PartitionRequest::ReplicaRead {
            replica_id,
            parts,
            record,
            now_ms: crate::util::now_ms().max(0) as u64,
        };
        match self.call(owner, request).await? {
            PartitionReply::Read(reads) => Ok(reads),
            _ => unreachable!("a replica read is answered with reads"),
        }
    }

    /// Resolves when one of `parts` has appended data past its offset on `owner`, or after
    /// `wait_ms` (a follower's long poll).
    pub async fn wait_for_append(
        &self,
        owner: usize,
        parts: Vec<Watched>,
        wait_ms: u64,
    ) -> Result<(), ShardDown> {
        match self
            .call(owner, PartitionRequest::WaitForAppend { parts, wait_ms })
            .await?
        {
            PartitionReply::WaitForData => Ok(()),
            _ => unreachable!("a wait is answered with a wake-up"),
        }
    }

    pub async fn read(
        &self,
        owner: usize,
        parts: Vec<ReadSpec>,
    ) -> Result<Vec<PartitionRead>, ShardDown> {
        let request = PartitionRequest::Read {
            parts,
            sent_at: std::time::Instant::now(),
        };
        match self.call(owner, request).await? {
            PartitionReply::Read(reads) => Ok(reads),
            _ => unreachable!("a read is answered with reads"),
        }
    }

    /// Resolves when one of `parts` has readable data past its offset on `owner` (below the
    /// last stable offset when `read_committed`), or after `wait_ms`.
    pub async fn wait_for_data(
        &self,
        owner: usize,
        parts: Vec<Watched>,
        read_committed: bool,
        wait_ms: u64,
    ) -> Result<(), ShardDown> {
        let request = PartitionRequest::WaitForData {
            parts,
            read_committed,
            wait_ms,
        };
        match self.call(owner, request).await? {
            PartitionReply::WaitForData => Ok(()),
            _ => unreachable!("a wait is answered with a wake-up"),
        }
    }

    pub async fn list_offsets(
        &self,
        owner: usize,
        queries: Vec<OffsetQuery>,
    ) -> Result<Vec<OffsetAnswer>, ShardDown> {
        match self
            .call(owner, PartitionRequest::ListOffsets { queries })
            .await?
        {
            PartitionReply::ListOffsets(answers) => Ok(answers),
            _ => unreachable!("ListOffsets is answered with offsets"),
        }
    }

    /// The producers each of `parts` remembers, on `owner`.
    pub async fn describe_producers(
        &self,
        owner: usize,
        parts: Vec<(String, i32)>,
    ) -> Result<Vec<PartitionProducers>, ShardDown> {
        match self
            .call(owner, PartitionRequest::DescribeProducers { parts })
            .await?
        {
            PartitionReply::DescribeProducers(answers) => Ok(answers),
            _ => unreachable!("DescribeProducers is answered with producers"),
        }
    }

    /// The end offset of each query's leader epoch on `owner` (OffsetForLeaderEpoch).
    pub async fn offsets_for_leader_epoch(
        &self,
        owner: usize,
        queries: Vec<super::offset_for_leader_epoch::EpochQuery>,
    ) -> Result<Vec<super::offset_for_leader_epoch::EpochEndAnswer>, ShardDown> {
        match self
            .call(owner, PartitionRequest::OffsetForLeaderEpoch { queries })
            .await?
        {
            PartitionReply::OffsetForLeaderEpoch(answers) => Ok(answers),
            _ => unreachable!("OffsetForLeaderEpoch is answered with epoch end offsets"),
        }
    }

    /// Writes transaction markers, each on its partition's owner shard (owners in
    /// parallel), and waits for acks=all on each: the in-process entry point of a local
    /// transaction coordinator, and what the WriteTxnMarkers handler calls. One Kafka error
    /// code per marker, in order; an owner shard that is gone answers
    /// COORDINATOR_NOT_AVAILABLE for its markers (the coordinator retries).
    pub async fn write_txn_markers(
        &self,
        markers: Vec<TxnMarkerWrite>,
        timeout_ms: u64,
    ) -> Vec<i16> {
        let now_ms = crate::util::now_ms();
        let mut codes = vec![crate::error_code::NONE; markers.len()];
        let mut by_owner: std::collections::BTreeMap<usize, (Vec<usize>, Vec<TxnMarkerWrite>)> =
            std::collections::BTreeMap::new();
        for (position, marker) in markers.into_iter().enumerate() {
            let owner = self.owner_of(&marker.topic, marker.partition);
            let entry = by_owner.entry(owner).or_default();
            entry.0.push(position);
            entry.1.push(marker);
        }
        let calls = by_owner
            .into_iter()
            .map(|(owner, (positions, markers))| async move {
                let request = PartitionRequest::WriteTxnMarkers {
                    markers,
                    timeout_ms,
                    now_ms,
                };
                let answer = match self.call(owner, request).await {
                    Ok(PartitionReply::WriteTxnMarkers(codes)) => Ok(codes),
                    Ok(_) => unreachable!("markers are answered with error codes"),
                    Err(down) => Err(down),
                };
                (positions, answer)
            })
            .collect();
        for (positions, answer) in crate::util::join_all(calls).await {
            let unavailable = crate::error_code::ResponseError::CoordinatorNotAvailable.code();
            let answer = answer.unwrap_or_else(|_| vec![unavailable; positions.len()]);
            assert_eq!(answer.len(), positions.len());
            for (position, code) in positions.into_iter().zip(answer) {
                codes[position] = code;
            }
        }
        codes
    }

    async fn call(
        &self,
        owner: usize,
        request: PartitionRequest,
    ) -> Result<PartitionReply, ShardDown> {
        if owner == self.ctx.id() {
            Ok(self.serve(request).await)
        } else {
            self.mesh.call(owner, request).await
        }
    }

    /// The owner's side of every request, for peers and for this shard alike.
    async fn serve(&self, request: PartitionRequest) -> PartitionReply {
        let meta: Arc<ClusterMeta> = self.meta.get();
        let ctx = &self.ctx;
        let owns = |topic: &str, partition: i32| ctx.owns(topic, partition);
        match request {
            PartitionRequest::Produce {
                parts,
                acks_all,
                now_ms,
                sent_at,
            } => {
                crate::metrics::hooks::dequeued(Stage::ProduceQueue, sent_at);
                let results =
                    super::append::append(&self.partitions, &meta, owns, parts, acks_all, now_ms)
                        .await;
                PartitionReply::Produce(results)
            }
            PartitionRequest::Replicate { parts, timeout_ms } => PartitionReply::Replicate(
                super::replicate::replicate(&self.partitions, parts, timeout_ms).await,
            ),
            PartitionRequest::ReplicaRead {
                replica_id,
                parts,
                record,
                now_ms,
            } => PartitionReply::Read(
                super::read::read_for_replica(
                    &self.partitions,
                    &meta,
                    owns,
                    replica_id,
                    parts,
                    record,
                    now_ms,
                )
                .await,
            ),
            PartitionRequest::WaitForAppend { parts, wait_ms } => {
                let stopping = || ctx.is_stopping() || crate::signals::shutdown_requested();
                super::wait::wait_for_append(&self.partitions, &parts, wait_ms, stopping).await;
                PartitionReply::WaitForData
            }
            PartitionRequest::Read { parts, sent_at } => {
                crate::metrics::hooks::dequeued(Stage::FetchQueue, sent_at);
                PartitionReply::Read(super::read::read(&self.partitions, &meta, owns, parts).await)
            }
            PartitionRequest::WaitForData {
                parts,
                read_committed,
                wait_ms,
            } => {
                let stopping = || ctx.is_stopping() || crate::signals::shutdown_requested();
                let partitions = &self.partitions;
                super::wait::wait_for_data(partitions, &parts, read_committed, wait_ms, stopping)
                    .await;
                PartitionReply::WaitForData
            }
            PartitionRequest::WriteTxnMarkers {
                markers,
                timeout_ms,
                now_ms,
            } => PartitionReply::WriteTxnMarkers(
                super::append::write_txn_markers(
                    &self.partitions,
                    &meta,
                    owns,
                    markers,
                    timeout_ms,
                    now_ms,
                )
                .await,
            ),
            PartitionRequest::ListOffsets { queries } => PartitionReply::ListOffsets(
                super::list_offsets::list_offsets(&self.partitions, queries).await,
            ),
            PartitionRequest::DescribeProducers { parts } => PartitionReply::DescribeProducers(
                parts
                    .iter()
                    .map(|(topic, index)| match self.partitions.get(topic, *index) {
                        Some(partition) => PartitionProducers {
                            error_code: crate::error_code::NONE,
                            producers: partition.producer_views(),
                        },
                        None => PartitionProducers {
                            error_code: crate::error_code::ResponseError::UnknownTopicOrPartition
                                .code(),
                            producers: Vec::new(),
                        },
                    })
                    .collect(),
            ),
            PartitionRequest::OffsetForLeaderEpoch { queries } => {
                PartitionReply::OffsetForLeaderEpoch(
                    super::offset_for_leader_epoch::offsets_for_leader_epoch(
                        &self.partitions,
                        &meta,
                        owns,
                        queries,
                    ),
                )
            }
        }
    }
}

impl Handler<PartitionRequest, PartitionReply> for PartitionService {
    async fn handle(self: Rc<Self>, request: PartitionRequest) -> PartitionReply {
        self.serve(request).await
    }

    /// A peer's appends keep the order it sent them in.
    fn in_order(request: &PartitionRequest) -> bool {
        matches!(
            request,
            PartitionRequest::Produce { .. } | PartitionRequest::WriteTxnMarkers { .. }
        )
    }
}
