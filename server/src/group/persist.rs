//! The persist worker of a shard's coordinator: appends `__consumer_offsets` records in the
//! order they were produced, fdatasyncs each touched partition once per round (group commit),
//! then answers. The partitions are compacted (`cleanup.policy=compact`, the `group` module
//! doc): the shard's log cleaner keeps them bounded, not this worker.
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
    match log
        .append(&batches, AppendOrigin::Coordinator, now_ms)
        .await
    {
        Ok(info) => {
            let count = records.len() as i64;
            assert_eq!(info.last_offset - info.base_offset + 1, count);
            assert!(info.base_offset >= 0);
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
