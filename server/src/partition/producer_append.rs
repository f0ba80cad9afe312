//! The producer-state side of a `Partition`: checking a client's batches before the engine
//! appends them, recording them after, snapshots at segment roll and clean close, loading at
//! open (latest snapshot, then the batch headers past it), and expiry.
//!
//! Atomicity: one append of a partition at a time holds `Partition::append_turn` from the
//! check to the record, so no other append can slip between them (two connections retrying
//! the same batch both see the first one's effect). The engine appends a call's batches
//! contiguously from the `base_offset` it returns, which places every batch exactly.

use bytes::Bytes;
use sluice_engine::batch::parse_header;
use sluice_engine::{AppendError, AppendInfo, LogError, PartitionLog};

use super::producer_state::{snapshot, Duplicate, ProducerBatch, ProducerError, ProducerStates};

/// Why a `Partition::append` appended nothing.
#[derive(Debug, thiserror::Error)]
pub enum PartitionAppendError {
    #[error(transparent)]
    Engine(#[from] AppendError),
    #[error(transparent)]
    Producer(#[from] ProducerError),
    #[error(transparent)]
    Role(#[from] super::replica::RoleRefusal),
}

/// One batch of a client's call, as far as producer state is concerned.
#[derive(Debug, Clone, Copy)]
pub struct CallBatch {
    /// Offsets the batch takes (0 for a header the engine will refuse anyway).
    pub offset_count: i64,
    /// `None`: no producer id.
    pub producer: Option<ProducerBatch>,
}

/// Reads each batch's header; a call without any producer id needs no producer checks.
pub fn call_batches(batches: &[Bytes]) -> Vec<CallBatch> {
    batches
        .iter()
        .map(|bytes| match parse_header(bytes) {
            Ok(header) => CallBatch {
                offset_count: i64::from(header.last_offset_delta.max(-1)) + 1,
                producer: ProducerBatch::from_header(&header),
            },
            Err(_) => CallBatch {
                offset_count: 0,
                producer: None,
            },
        })
        .collect()
}

/// The answer to a retry: the first append's offsets, nothing appended.
pub fn duplicate_info(duplicate: &Duplicate, log_append_time: bool) -> AppendInfo {
    assert!(duplicate.first_offset <= duplicate.last_offset);
    AppendInfo {
        base_offset: duplicate.first_offset,
        last_offset: duplicate.last_offset,
        log_append_time_ms: if log_append_time {
            duplicate.timestamp_ms
        } else {
            -1
        },
        max_timestamp_ms: duplicate.timestamp_ms,
    }
}

/// Records the batches of a successful append; the append time replaces their timestamps on
/// a LogAppendTime topic.
pub fn record(states: &mut ProducerStates, batches: &[CallBatch], info: &AppendInfo) {
    let mut offset = info.base_offset;
    for batch in batches {
        if let Some(producer) = batch.producer {
            let producer = if info.log_append_time_ms >= 0 {
                ProducerBatch {
                    max_timestamp_ms: info.log_append_time_ms,
                    ..producer
                }
            } else {
                producer
            };
            assert_eq!(producer.offset_count, batch.offset_count);
            states.apply(&producer, offset);
        }
        offset += batch.offset_count;
    }
    assert_eq!(
        offset,
        info.last_offset + 1,
        "the batches fill the appended range"
    );
}

/// Writes `states` as the snapshot at `offset`. A failure is logged, not returned: the data is
/// in the log either way, and the next open rebuilds from an older snapshot or the log.
pub async fn write_snapshot(log: &PartitionLog, states_bytes: Vec<u8>, offset: i64) {
    if let Err(err) = log.write_producer_snapshot(offset, states_bytes).await {
        tracing::warn!(
            topic = %log.topic(),
            partition = log.partition(),
            offset,
            "cannot write the producer snapshot: {err}"
        );
    }
}

/// The producer state of a freshly opened log: the newest readable snapshot at or below the
/// log end, then every batch header past it. A log without snapshots is read whole.
pub async fn load(log: &PartitionLog) -> Result<ProducerStates, LogError> {
    let log_end = log.log_end_offset();
    let (mut states, from_offset) = match log.latest_producer_snapshot(log_end).await? {
        Some((offset, data)) => match snapshot::decode(&data) {
            Ok(states) => (states, offset),
            Err(err) => {
                tracing::warn!(
                    topic = %log.topic(),
                    partition = log.partition(),
                    offset,
                    "unreadable producer snapshot, rebuilding from the log: {err}"
                );
                log.remove_producer_snapshot(offset).await?;
                (ProducerStates::default(), log.log_start_offset())
            }
        },
        None => (ProducerStates::default(), log.log_start_offset()),
    };
    let visited = log.visit_batch_headers(from_offset, |header| {
        // A batch below the snapshot's offset is in the snapshot already.
        if header.is_control() || header.base_offset < from_offset {
            return;
        }
        if let Some(batch) = ProducerBatch::from_header(header) {
            if batch.producer_id >= 0 {
                states.apply(&batch, header.base_offset);
            }
        }
    })?;
    if visited > 0 || !states.is_empty() {
        tracing::debug!(
            topic = %log.topic(),
            partition = log.partition(),
            from_offset,
            batches = visited,
            producers = states.len(),
            "producer state loaded"
        );
    }
    Ok(states)
}
