//! Owner side of acks=all: join the shard's next flush round (which fdatasyncs every partition
//! with appended data, this request's among them: group commit), then wait until every in-sync
//! replica has the appended batches durably (the high watermark passed them), or the request's
//! timeout.
//!
//! Answers per partition: NONE; NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR fell below
//! `min.insync.replicas` first; NOT_LEADER_OR_FOLLOWER when leadership moved (the batch may or
//! may not survive: the client retries, and idempotence makes that safe); REQUEST_TIMED_OUT;
//! KAFKA_STORAGE_ERROR when the local flush failed.

use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::future;

use super::messages::ReplicatePart;
use super::registry::Partitions;
use super::replica::AcksAll;
use crate::error_code::{ResponseError, NONE};

pub async fn replicate(
    partitions: &Rc<Partitions>,
    parts: Vec<ReplicatePart>,
    timeout_ms: u64,
) -> Vec<i16> {
    let started = Instant::now();
    let deadline = started + Duration::from_millis(timeout_ms);
    // One round makes every partition's appends durable (group commit across the shard).
    let round = crate::metrics::hooks::flush(partitions.flush_round()).await;
    let mut codes: Vec<i16> = parts
        .iter()
        .map(|part| match partitions.get(&part.topic, part.partition) {
            None => ResponseError::UnknownTopicOrPartition.code(),
            // A failed round names no log: a partition whose batches are below its flushed
            // offset is durable whatever else failed.
            Some(partition) if round.is_err() && partition.flushed_offset() <= part.last_offset => {
                tracing::error!(topic = %part.topic, partition = part.partition, "flush failed");
                ResponseError::KafkaStorageError.code()
            }
            Some(_) => NONE,
        })
        .collect();
    let flushed = Instant::now();
    partitions.data_notify().notify();
    // A partition answered once (replicated or refused) keeps its answer.
    let mut settled: Vec<bool> = codes.iter().map(|code| *code != NONE).collect();
    loop {
        let generation = partitions.data_notify().generation();
        for ((part, code), settled) in parts.iter().zip(codes.iter_mut()).zip(settled.iter_mut()) {
            if *settled {
                continue;
            }
            let state = match partitions.get(&part.topic, part.partition) {
                Some(partition) => partition.acks_all(part.last_offset),
                None => AcksAll::NotLeader,
            };
            *settled = state != AcksAll::Waiting;
            if state == AcksAll::Replicated {
                crate::metrics::hooks::replicated(started, flushed);
            }
            *code = match state {
                AcksAll::Replicated | AcksAll::Waiting => NONE,
                AcksAll::NotEnoughReplicasAfterAppend => {
                    ResponseError::NotEnoughReplicasAfterAppend.code()
                }
                AcksAll::NotLeader => ResponseError::NotLeaderOrFollower.code(),
            };
        }
        if settled.iter().all(|s| *s) {
            return codes;
        }
        let now = Instant::now();
        if now >= deadline || crate::signals::shutdown_requested() {
            for (code, settled) in codes.iter_mut().zip(&settled) {
                if !settled {
                    *code = ResponseError::RequestTimedOut.code();
                }
            }
            return codes;
        }
        let changed = partitions.data_notify().changed_since(generation);
        future::or(changed, glommio::timer::sleep(deadline - now)).await;
    }
}
