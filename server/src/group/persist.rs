//! The persist worker of a shard's coordinator: appends `__consumer_offsets` records in the
//! order they were produced, fdatasyncs each touched partition once per round (group commit),
//! then answers. Also keeps each partition bounded: after `snapshot_records_interval` records
//! it appends a snapshot of the partition's live state and deletes everything before it (see
//! the `group` module doc: until compaction exists, this is how the topic stays small).

use std::collections::BTreeMap;
use std::rc::Rc;

use kafka_protocol::ResponseError;

use super::batch::encode_batches;
use super::coordinator::{Reply, Ticket};
use super::offsets::CommitPlan;
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
    let mut ok: Vec<bool> = Vec::with_capacity(round.len());
    let mut touched: BTreeMap<i32, bool> = BTreeMap::new();
    for job in &round {
        let appended = append(shard, job.partition, &job.records, now_ms).await;
        ok.push(appended);
        let entry = touched.entry(job.partition).or_insert(true);
        *entry &= appended;
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
    for (job, appended) in round.into_iter().zip(ok) {
        let durable = appended && touched.get(&job.partition).copied().unwrap_or(false);
        finish(shard, job, durable);
    }
    rt.pump_after();
    for partition in touched.keys() {
        maybe_snapshot(shard, *partition).await;
    }
}

async fn append(
    shard: &Rc<GroupService>,
    partition: i32,
    records: &[OffsetsRecord],
    now_ms: i64,
) -> bool {
    let rt = shard.runtime();
    let Some(log) = rt.logs.borrow().get(&partition).cloned() else {
        tracing::error!(partition, "offsets partition is not open here");
        return false;
    };
    let batches = match encode_batches(records, now_ms) {
        Ok(batches) => batches,
        Err(err) => {
            tracing::error!(partition, "{err}");
            return false;
        }
    };
    match log
        .append(&batches, AppendOrigin::Coordinator, now_ms)
        .await
    {
        Ok(_) => {
            let mut counts = rt.appended_since_snapshot.borrow_mut();
            *counts.entry(partition).or_default() += records.len() as u64;
            true
        }
        Err(err) => {
            tracing::error!(
                partition,
                "appending to {}: {err}",
                super::placement::OFFSETS_TOPIC
            );
            false
        }
    }
}

fn finish(shard: &Rc<GroupService>, job: PersistJob, durable: bool) {
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
            rt.coord().finish_commit(&mut plan, durable);
            tx.send(std::mem::take(&mut plan.results)).ok();
        }
        JobDone::Notify(tx) => {
            tx.send(durable).ok();
        }
    }
}

/// Rewrites the partition's live state and deletes what precedes it, once enough records
/// accumulated. Runs in the worker, so no other append to this partition interleaves, and
/// every commit appended before has already been applied in memory.
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
    let records = rt.coord().snapshot_records(partition);
    let snapshot_start = log.log_end_offset();
    let now_ms = crate::util::now_ms();
    if !records.is_empty() {
        let appended = append(shard, partition, &records, now_ms).await;
        if !appended {
            return;
        }
    }
    if let Err(err) = log.flush().await {
        tracing::error!(partition, "flushing offsets snapshot: {err}");
        return;
    }
    rt.appended_since_snapshot.borrow_mut().insert(partition, 0);
    match log.log().delete_records_before(snapshot_start).await {
        Ok(()) => tracing::debug!(
            partition,
            snapshot_start,
            records = records.len(),
            "offsets snapshot"
        ),
        Err(err) => tracing::error!(
            partition,
            "dropping records before the offsets snapshot: {err}"
        ),
    }
}
