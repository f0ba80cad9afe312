//! Owner side of acks=all: fdatasync the named partitions (each flush coalesces with every
//! other flush of its partition: group commit), then wait until every in-sync replica has the
//! appended batches durably (the high watermark passed them), or the request's timeout.
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
use crate::util::join_all;

pub async fn replicate(
    partitions: &Rc<Partitions>,
    parts: Vec<ReplicatePart>,
    timeout_ms: u64,
) -> Vec<i16> {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let flushes = parts
        .iter()
        .map(|part| {
            let partition = partitions.get(&part.topic, part.partition);
            async move {
                let Some(partition) = partition else {
                    return ResponseError::UnknownTopicOrPartition.code();
                };
                match crate::metrics::hooks::flush(partition.flush()).await {
                    Ok(_) => NONE,
                    Err(err) => {
                        tracing::error!(topic = %part.topic, partition = part.partition, "flush failed: {err}");
                        ResponseError::KafkaStorageError.code()
                    }
                }
            }
        })
        .collect();
    let mut codes = join_all(flushes).await;
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
