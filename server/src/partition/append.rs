//! Owner side of Produce: append each partition's batches and report Kafka's per-partition
//! result. Appends of one request run in request order, on the owner shard.

use sluice_engine::AppendError;

use super::messages::{ProducePart, ProducePartResult};
use super::producer_append::PartitionAppendError;
use super::producer_state::ProducerError;
use super::registry::Partitions;
use crate::error_code::{ResponseError, NONE};
use crate::topics::ClusterMeta;

pub async fn append(
    partitions: &Partitions,
    meta: &ClusterMeta,
    owns: impl Fn(&str, i32) -> bool,
    parts: Vec<ProducePart>,
    acks_all: bool,
    now_ms: i64,
) -> Vec<ProducePartResult> {
    let mut results = Vec::with_capacity(parts.len());
    let mut appended = false;
    for part in parts {
        let Some(partition) = partitions.get(&part.topic, part.partition) else {
            let message = format!("{}-{} is not on this broker", part.topic, part.partition);
            let code = missing_code(meta, &owns, &part.topic, part.partition);
            results.push(ProducePartResult::error(code, message));
            continue;
        };
        if acks_all {
            if let Err(refused) = partition.check_enough_replicas() {
                results.push(ProducePartResult::error(
                    refused.code(),
                    refused.to_string(),
                ));
                continue;
            }
        }
        let append = partition.append(&part.batches, now_ms);
        match crate::metrics::hooks::append(&part.batches, append).await {
            Ok(info) => {
                appended = true;
                results.push(ProducePartResult {
                    error_code: NONE,
                    error_message: None,
                    base_offset: info.base_offset,
                    last_offset: info.last_offset,
                    log_append_time_ms: info.log_append_time_ms,
                    log_start_offset: partition.log_start_offset(),
                });
            }
            Err(err) => {
                let code = append_error_code(&err);
                if let PartitionAppendError::Producer(refused) = &err {
                    tracing::debug!(topic = %part.topic, partition = part.partition, "produce refused: {refused}");
                }
                if code == ResponseError::KafkaStorageError.code() {
                    tracing::error!(topic = %part.topic, partition = part.partition, "append failed: {err}");
                }
                results.push(ProducePartResult::error(code, err.to_string()));
            }
        }
    }
    if appended {
        // A waiting fetch past the high watermark asks for the flush that makes this readable.
        partitions.data_notify().notify();
    }
    results
}

/// A partition the metadata has but whose log is not open here failed to open (its error was
/// logged then): a storage error, not an unknown partition. Otherwise the topic is gone.
pub fn missing_code(
    meta: &ClusterMeta,
    owns: &impl Fn(&str, i32) -> bool,
    topic: &str,
    partition: i32,
) -> i16 {
    let known = meta.topic(topic).is_some_and(|t| partition < t.partitions);
    if known && owns(topic, partition) {
        ResponseError::KafkaStorageError.code()
    } else {
        ResponseError::UnknownTopicOrPartition.code()
    }
}

fn append_error_code(err: &PartitionAppendError) -> i16 {
    match err {
        PartitionAppendError::Engine(err) => engine_error_code(err),
        PartitionAppendError::Producer(err) => producer_error_code(err),
        PartitionAppendError::Role(refused) => refused.code(),
    }
}

/// Kafka's codes for the producer-state rules (`producer_state/states.rs`).
fn producer_error_code(err: &ProducerError) -> i16 {
    let error = match err {
        ProducerError::InvalidProducerEpoch { .. } => ResponseError::InvalidProducerEpoch,
        ProducerError::OutOfOrderSequence { .. } => ResponseError::OutOfOrderSequenceNumber,
        ProducerError::ControlBatch { .. } => ResponseError::InvalidRecord,
        // What Kafka answers a transactional batch it cannot verify as part of an ongoing
        // transaction (KIP-890).
        ProducerError::NoOngoingTransaction { .. } => ResponseError::InvalidTxnState,
    };
    error.code()
}

fn engine_error_code(err: &AppendError) -> i16 {
    let error = match err {
        AppendError::Corrupt { .. } => ResponseError::CorruptMessage,
        AppendError::InvalidBatch { .. } => ResponseError::InvalidRecord,
        AppendError::TooLarge { .. } => ResponseError::MessageTooLarge,
        AppendError::Storage(_) => ResponseError::KafkaStorageError,
        #[allow(unreachable_patterns)]
        _ => ResponseError::UnknownServerError,
    };
    error.code()
}
