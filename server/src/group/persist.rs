//! The persist worker of a shard's coordinator: appends `__consumer_offsets` records in the
//! order they were produced, fdatasyncs each touched partition once per round (group commit),
//! then answers. Also keeps each partition bounded: after `snapshot_records_interval` records
//! it appends a snapshot of the partition's live state and deletes everything before it (see
//! the `group` module doc: until compaction exists, this is how the topic stays small).
//!
//! Every write to an offsets partition goes through `append_records`, the one place that
//! knows how the coordinator appends (plain or transactional batches).

use std::collections::BTreeMap;
use std::rc::Rc;

use kafka_protocol::ResponseError;

use super::batch::encode_batches;
use super::coordinator::{Reply, Ticket};
use super::offsets::{CommitPlan, TxnProducer};
use super::records::OffsetsRecord;
use super::service::GroupService;
use super::service::PartitionResults;
use crate::error_code::NONE;
use crate::partition::messages::ReplicatePart;
use crate::partition::replicate::replicate;
use crate::partition::AppendOrigin;

/// `offsets.commit.timeout.ms`: how long a round waits for the in-sync replicas.
pub const OFFSETS_COMMIT_TIMEOUT_MS: u64 = 5_000;

/// Jobs taken in one round; bounds the latency a round adds to its first job.
pub const JOBS_PER_ROUND_MAX: usize = 1024;

pub struct PersistJob {
    pub partition: i32,
    pub records: Vec<OffsetsRecord>,
    /// `Some` for a TxnOffsetCommit: the records go in a transactional batch of it.
    pub producer: Option<TxnProducer>,
    pub done: JobDone,
}

/// What to do once a job's records are durable (or failed).
pub enum JobDone {
    /// Deliver these parked replies (turned into errors on failure).
    Replies(Vec<(Ticket, Reply)>),
    /// Apply the commit in memory on success, then send its results.
    Commit(Box<CommitPlan>, flume::Sender<PartitionResults>),
    Notify(flume::Sender<bool>),
}

pub async fn worker(shard: Rc<GroupService>) {
    let jobs = shard.runtime().jobs();
    while let Ok(first) = jobs.recv_async().await {
        let mut round = vec![first];
        while round.len() < JOBS_PER_ROUND_MAX {
            match jobs.try_recv() {
                Ok(job) => round.push(job),
                Err(_) => break,
            }
        }
        run_round(&shard, round).await;
    }
}

async fn run_round(shard: &Rc<GroupService>, round: Vec<PersistJob>) {
    let rt = shard.runtime();
    let now_ms = crate::util::now_ms();
    // Per job: where its first record landed, if it was appended.
    let mut appended_at: Vec<Option<i64>> = Vec::with_capacity(round.len());
    let mut touched: BTreeMap<i32, bool> = BTreeMap::new();
    for job in &round {
        let at = append_records(shard, job.partition, &job.records, now_ms, job.producer).await;
        appended_at.push(at);
        let entry = touched.entry(job.partition).or_insert(true);
        *entry &= at.is_some();
    }
    for (partition, fine) in touched.iter_mut() {
        if !*fine {
            continue;
        }
        let log = rt.logs.borrow().get(partition).cloned();
        *fine = match log {
            // Kafka's coordinator writes with acks=all: durable on every in-sync replica.
            Some(log) => {
                let part = ReplicatePart {
                    topic: super::placement::OFFSETS_TOPIC.to_string(),
                    partition: *partition,
                    last_offset: log.log_end_offset() - 1,
                };
                let codes =
                    replicate(shard.partitions(), vec![part], OFFSETS_COMMIT_TIMEOUT_MS).await;
                match codes.first() {
                    Some(&NONE) => true,
                    code => {
                        tracing::error!(
                            partition,
                            ?code,
                            "writing {} did not reach the in-sync replicas",
                            super::placement::OFFSETS_TOPIC
                        );
                        false
                    }
                }
            }
            None => false,
        };
    }
    for (job, at) in round.into_iter().zip(appended_at) {
        let durable = touched.get(&job.partition).copied().unwrap_or(false);
        finish(shard, job, at.filter(|_| durable));
    }
    rt.pump_after();
    for partition in touched.keys() {
        maybe_snapshot(shard, *partition).await;
    }
}

/// Appends `records` to offsets partition `partition` (not flushed), in plain batches or, for
/// a TxnOffsetCommit, in transactional batches of `producer` (Kafka appends these with
/// `AppendOrigin.COORDINATOR`: no KIP-890 verification). Returns the offset of the first
/// record; the others follow it, one offset each. `None`: nothing usable was appended (the
/// error is logged).
pub async fn append_records(
    shard: &Rc<GroupService>,
    partition: i32,
    records: &[OffsetsRecord],
    now_ms: i64,
    producer: Option<TxnProducer>,
) -> Option<i64> {
    assert!(!records.is_empty());
    let rt = shard.runtime();
    let Some(log) = rt.logs.borrow().get(&partition).cloned() else {
        tracing::error!(partition, "offsets partition is not open here");
        return None;
    };
    let batches = match encode_batches(records, now_ms, producer) {
        Ok(batches) => batches,
        Err(err) => {
            tracing::error!(partition, "{err}");
            return None;
        }
    };
    match log.append(&batches, AppendOrigin::Coordinator, now_ms).await {
        Ok(info) => {
            let count = records.len() as i64;
            assert_eq!(info.last_offset - info.base_offset + 1, count);
            assert!(info.base_offset >= 0);
            let mut counts = rt.appended_since_snapshot.borrow_mut();
            *counts.entry(partition).or_default() += records.len() as u64;
            Some(info.base_offset)
        }
        Err(err) => {
            tracing::error!(
                partition,
                ?producer,
                "appending to {}: {err}",
                super::placement::OFFSETS_TOPIC
            );
            None
        }
    }
}

/// `at`: where the job's first record is, if it is durable.
fn finish(shard: &Rc<GroupService>, job: PersistJob, at: Option<i64>) {
    let durable = at.is_some();
    let rt = shard.runtime();
    match job.done {
        JobDone::Replies(replies) => {
            for (ticket, reply) in replies {
                let reply = if durable {
                    reply
                } else {
                    reply.into_error(ResponseError::CoordinatorNotAvailable)
                };
                rt.deliver(ticket, reply);
            }
        }
        JobDone::Commit(mut plan, tx) => {
            rt.coord().finish_commit(&mut plan, at);
            tx.send(std::mem::take(&mut plan.results)).ok();
        }
        JobDone::Notify(tx) => {
            tx.send(durable).ok();
        }
    }
}

/// Rewrites the partition's live state and deletes what precedes it, once enough records
/// accumulated. Runs in the worker, so no other append of the coordinator to this partition
/// interleaves, and every commit appended before has already been applied in memory. Open
/// transactions hold the deletion back (`SnapshotPlan::keep_from`, the `load` module doc).
async fn maybe_snapshot(shard: &Rc<GroupService>, partition: i32) {
    let rt = shard.runtime();
    let interval = rt.config().snapshot_records_interval;
    let due = rt
        .appended_since_snapshot
        .borrow()
        .get(&partition)
        .copied()
        .unwrap_or(0)
        >= interval;
    if !due {
        return;
    }
    let Some(log) = rt.logs.borrow().get(&partition).cloned() else {
        return;
    };
    let plan = rt.coord().snapshot_plan(partition);
    let snapshot_start = log.log_end_offset();
    let now_ms = crate::util::now_ms();
    if !plan.records.is_empty() {
        let Some(at) = append_records(shard, partition, &plan.records, now_ms, None).await else {
            return;
        };
        assert!(at >= snapshot_start);
        rt.coord().snapshot_appended(&plan, at);
    }
    if let Err(err) = log.flush().await {
        tracing::error!(partition, "flushing offsets snapshot: {err}");
        return;
    }
    rt.appended_since_snapshot.borrow_mut().insert(partition, 0);
    let delete_before = plan
        .keep_from
        .map_or(snapshot_start, |keep| keep.min(snapshot_start));
    assert!(delete_before <= snapshot_start);
    if delete_before <= log.log_start_offset() {
        return;
    }
    match log.log().delete_records_before(delete_before).await {
        Ok(()) => tracing::debug!(
            partition,
            snapshot_start,
            delete_before,
            records = plan.records.len(),
            "offsets snapshot"
        ),
        Err(err) => tracing::error!(
            partition,
            "dropping records before the offsets snapshot: {err}"
        ),
    }
}
