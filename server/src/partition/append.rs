//! Owner side of Produce: append each partition's batches and report Kafka's per-partition
//! result. Appends of one request run in request order, on the owner shard.

use sluice_engine::AppendError;

use super::messages::{NeedsVerification, ProducePart, ProducePartResult};
use super::producer_append::{AppendOrigin, PartitionAppendError};
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
        let origin = AppendOrigin::Client {
            verification: part.verification,
        };
        let append = partition.append(&part.batches, origin, now_ms);
        match crate::metrics::hooks::append(&part.batches, append).await {
            Ok(info) => {
                appended = true;
                results.push(ProducePartResult {
                    error_code: NONE,
                    error_message: None,
                    needs_verification: None,
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
                let mut result = ProducePartResult::error(code, err.to_string());
                if let PartitionAppendError::NeedsTxnVerification {
                    producer_id,
                    epoch,
                    token,
                } = err
                {
                    result.needs_verification = Some(NeedsVerification {
                        producer_id,
                        epoch,
                        token,
                    });
                }
                results.push(result);
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

pub fn append_error_code(err: &PartitionAppendError) -> i16 {
    match err {
        PartitionAppendError::Engine(err) => engine_error_code(err),
        PartitionAppendError::Producer(err) => producer_error_code(err),
        PartitionAppendError::Role(refused) => refused.code(),
        // What Kafka answers a transactional batch it could not verify as part of an ongoing
        // transaction (KIP-890); the produce path verifies and retries before answering it.
        PartitionAppendError::NeedsTxnVerification { .. } => ResponseError::InvalidTxnState.code(),
        PartitionAppendError::TxnIndex(_) => ResponseError::KafkaStorageError.code(),
    }
}

/// Kafka's codes for the producer-state rules (`producer_state/states.rs`).
fn producer_error_code(err: &ProducerError) -> i16 {
    let error = match err {
        ProducerError::InvalidProducerEpoch { .. } => ResponseError::InvalidProducerEpoch,
        ProducerError::OutOfOrderSequence { .. } => ResponseError::OutOfOrderSequenceNumber,
        ProducerError::ControlBatch { .. } => ResponseError::InvalidRecord,
        ProducerError::MissingProducerId { .. } => ResponseError::InvalidRecord,
        ProducerError::InvalidTxnState { .. } => ResponseError::InvalidTxnState,
        ProducerError::NeedsVerification { .. } => ResponseError::InvalidTxnState,
        ProducerError::CoordinatorFenced { .. } => ResponseError::TransactionCoordinatorFenced,
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

/// Owner side of WriteTxnMarkers: appends each marker (in order), then waits until every
/// in-sync replica has the appended ones durably (Kafka writes markers with acks=all), at
/// most `timeout_ms`. One error code per marker, Kafka's: NOT_LEADER_OR_FOLLOWER,
/// UNKNOWN_TOPIC_OR_PARTITION, INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED,
/// KAFKA_STORAGE_ERROR, or those of the replication wait.
pub async fn write_txn_markers(
    partitions: &std::rc::Rc<Partitions>,
    meta: &ClusterMeta,
    owns: impl Fn(&str, i32) -> bool,
    markers: Vec<super::messages::TxnMarkerWrite>,
    timeout_ms: u64,
    now_ms: i64,
) -> Vec<i16> {
    let mut codes = Vec::with_capacity(markers.len());
    let mut waits = Vec::new();
    for (position, marker) in markers.iter().enumerate() {
        let Some(partition) = partitions.get(&marker.topic, marker.partition) else {
            codes.push(missing_code(meta, &owns, &marker.topic, marker.partition));
            continue;
        };
        let appended = partition
            .append_txn_marker(
                marker.producer_id,
                marker.producer_epoch,
                marker.coordinator_epoch,
                marker.commit,
                now_ms,
            )
            .await;
        match appended {
            Ok(info) => {
                codes.push(NONE);
                waits.push((
                    position,
                    super::messages::ReplicatePart {
                        topic: marker.topic.clone(),
                        partition: marker.partition,
                        last_offset: info.last_offset,
                    },
                ));
            }
            Err(err) => {
                tracing::debug!(topic = %marker.topic, partition = marker.partition, "marker refused: {err}");
                codes.push(append_error_code(&err));
            }
        }
    }
    assert_eq!(codes.len(), markers.len());
    if waits.is_empty() {
        return codes;
    }
    // The markers may move the last stable offset once replicated: wake long polls now, and
    // the replication wait wakes them again when the high watermark moves.
    partitions.data_notify().notify();
    let (positions, parts): (Vec<usize>, Vec<_>) = waits.into_iter().unzip();
    let replicated = super::replicate::replicate(partitions, parts, timeout_ms).await;
    for (position, code) in positions.into_iter().zip(replicated) {
        codes[position] = code;
    }
    codes
}
