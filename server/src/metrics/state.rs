//! Shard state read at scrape time only: partitions and bytes, log offsets, committed group
//! offsets and glommio's executor and io_uring statistics. The scrape thread asks each shard
//! over a channel; a task on the shard answers with a [`ShardState`] built from the shard's
//! own (`!Send`) structures. Nothing here runs unless someone scrapes.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

/// What a shard reports about its subsystems at a scrape (implemented by the broker, which
/// knows the subsystems; metrics imports none of them).
pub trait StateSource {
    fn partitions(&self) -> Vec<PartitionState>;
    fn committed_offsets(&self) -> Vec<CommittedOffset>;
    /// This node's view of the cluster (only the controller shard has one).
    fn cluster(&self) -> Option<ClusterState> {
        None
    }
}

/// This node's view of the cluster and of its controller quorum member.
#[derive(Debug, Clone, Default)]
pub struct ClusterState {
    pub node_id: i32,
    /// The active controller as this node knows it (-1: none).
    pub controller_id: i32,
    /// Leaders this node has seen elected since it started.
    pub elections: u64,
    pub fenced_brokers: u64,
    pub brokers: u64,
    /// Highest metadata offset known committed.
    pub committed_offset: u64,
    /// Metadata offset every shard of this broker has applied.
    pub applied_offset: u64,
    pub broker_epoch: i64,
    pub broker_fenced: bool,
    /// Partitions without a leader in the metadata image.
    pub offline_partitions: u64,
}

/// A scrape's question to one shard.
pub struct StateQuery {
    pub reply: flume::Sender<ShardState>,
}

/// One partition log on its owner shard.
#[derive(Debug, Clone)]
pub struct PartitionState {
    pub topic: String,
    pub partition: i32,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    pub bytes: u64,
    /// Set for compacted logs.
    pub cleaner: Option<super::cleaner::LogCleanerState>,
    /// This replica's role, ISR and high watermark, and its followers' lag when leading.
    pub replication: super::replication::PartitionReplication,
}

/// A committed offset of a group coordinated on the shard.
#[derive(Debug, Clone)]
pub struct CommittedOffset {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// glommio's statistics, accumulated: glommio hands them out as deltas (each read resets).
/// Its I/O latency sketches are left out: glommio fills them only for reads, and only on
/// executors built with `record_io_latencies`, which costs a sketch update per I/O.
#[derive(Debug, Clone, Copy, Default)]
pub struct RuntimeTotals {
    pub tasks_executed: u64,
    pub scheduler_runs: u64,
    pub executor_runtime: Duration,
    pub total_runtime: Duration,
    pub file_reads: u64,
    pub file_read_bytes: u64,
    pub file_writes: u64,
    pub file_written_bytes: u64,
    pub files_opened: u64,
    pub files_closed: u64,
}

/// Everything one shard reports at a scrape.
#[derive(Debug, Clone, Default)]
pub struct ShardState {
    pub shard: usize,
    pub partitions: Vec<PartitionState>,
    pub committed: Vec<CommittedOffset>,
    pub cluster: Option<ClusterState>,
    pub runtime: RuntimeTotals,
}

/// Serves scrape queries on `shard` until the scrape side goes away.
pub async fn serve(
    shard: usize,
    source: Rc<dyn StateSource>,
    queries: flume::Receiver<StateQuery>,
) {
    let totals = Cell::new(RuntimeTotals::default());
    while let Ok(query) = queries.recv_async().await {
        let runtime = accumulate(totals.get());
        totals.set(runtime);
        let state = ShardState {
            shard,
            partitions: source.partitions(),
            committed: source.committed_offsets(),
            cluster: source.cluster(),
            runtime,
        };
        // The scrape may have timed out meanwhile; nobody to answer then.
        query.reply.send(state).ok();
    }
}

/// Adds what glommio counted since the last read (its reads reset the counts).
fn accumulate(mut totals: RuntimeTotals) -> RuntimeTotals {
    let executor = glommio::executor().executor_stats();
    totals.tasks_executed += executor.tasks_executed();
    totals.scheduler_runs += executor.scheduler_runs();
    totals.executor_runtime += executor.executor_runtime();
    totals.total_runtime += executor.total_runtime();
    let io = glommio::executor().io_stats();
    for ring in [&io.main_ring, &io.latency_ring, &io.poll_ring] {
        let (reads, read_bytes) = ring.file_reads();
        let (writes, written_bytes) = ring.file_writes();
        totals.file_reads += reads;
        totals.file_read_bytes += read_bytes;
        totals.file_writes += writes;
        totals.file_written_bytes += written_bytes;
        totals.files_opened += ring.files_opened();
        totals.files_closed += ring.files_closed();
    }
    totals
}
