//! The producer-state side of a `Partition`: checking a client's batches before the engine
//! appends them, recording them after, snapshots at segment roll and clean close, loading at
//! open (latest snapshot, then the batch headers past it, transaction markers included), and
//! expiry. Markers end transactions: an aborted one also goes into the log's aborted
//! transaction index (`record_completed`).
//!
//! Atomicity: one append of a partition at a time holds `Partition::append_turn` from the
//! check to the record, so no other append can slip between them (two connections retrying
//! the same batch both see the first one's effect). The engine appends a call's batches
//! contiguously from the `base_offset` it returns, which places every batch exactly.

use bytes::Bytes;
use sluice_engine::batch::parse_header;
use sluice_engine::{AbortedTxn, AppendError, AppendInfo, LogError, PartitionLog};

use super::producer_state::{
    parse_marker, snapshot, CompletedTxn, Duplicate, Marker, ProducerBatch, ProducerError,
    ProducerStates, VerificationToken,
};

/// Why a `Partition::append` appended nothing.
#[derive(Debug, thiserror::Error)]
pub enum PartitionAppendError {
    #[error(transparent)]
    Engine(#[from] AppendError),
    #[error(transparent)]
    Producer(#[from] ProducerError),
    #[error(transparent)]
    Role(#[from] super::replica::RoleRefusal),
    /// KIP-890: a client's transactional batch would start a transaction here; the produce
    /// path asks the coordinator whether the transaction includes this partition and retries
    /// with `token`.
    #[error("producer {producer_id} epoch {epoch}: the transaction must be verified first")]
    NeedsTxnVerification {
        producer_id: i64,
        epoch: i16,
        token: VerificationToken,
    },
    /// Writing the aborted-transaction index failed (the marker is in the log).
    #[error(transparent)]
    TxnIndex(#[from] LogError),
}

/// Who writes a batch (Kafka's `AppendOrigin`, without REPLICATION: followers append through
/// `append_from_leader`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOrigin {
    /// A producer's Produce request; `verification` is the token of a KIP-890 verification
    /// the produce path went through after a `NeedsTxnVerification` refusal.
    Client {
        verification: Option<VerificationToken>,
    },
    /// The group coordinator's own writes (its offsets partitions, transactional offset
    /// commits): trusted, no sequence and no verification.
    Coordinator,
}

impl AppendOrigin {
    /// A client append that went through no verification.
    pub const CLIENT: AppendOrigin = AppendOrigin::Client { verification: None };
}

/// One batch of a client's call, as far as producer state is concerned.
#[derive(Debug, Clone, Copy)]
pub struct CallBatch {
    /// Offsets the batch takes (0 for a header the engine will refuse anyway).
    pub offset_count: i64,
    /// `None`: no producer id.
    pub producer: Option<ProducerBatch>,
    /// A transaction marker (control batch): what it says.
    pub marker: Option<Marker>,
}

/// Reads each batch's header; a call without any producer id needs no producer checks.
pub fn call_batches(batches: &[Bytes]) -> Vec<CallBatch> {
    batches
        .iter()
        .map(|bytes| match parse_header(bytes) {
            Ok(header) => CallBatch {
                offset_count: i64::from(header.last_offset_delta.max(-1)) + 1,
                producer: ProducerBatch::from_header(&header),
                marker: header.is_control().then(|| parse_marker(bytes)).flatten(),
            },
            Err(_) => CallBatch {
                offset_count: 0,
                producer: None,
                marker: None,
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
/// a LogAppendTime topic. Markers (replicated from the leader) end their transactions; the
/// aborted ones come back with the stable offset their index entry records.
pub fn record(
    states: &mut ProducerStates,
    batches: &[CallBatch],
    info: &AppendInfo,
) -> Vec<AbortedTxn> {
    let mut offset = info.base_offset;
    let mut aborted = Vec::new();
    for batch in batches {
        if let Some(marker) = batch.marker {
            let timestamp_ms = batch.producer.map_or(-1, |p| p.max_timestamp_ms);
            let completed = states.apply_marker(
                marker.producer_id,
                marker.producer_epoch,
                marker.coordinator_epoch,
                marker.commit,
                offset,
                timestamp_ms,
            );
            aborted.extend(aborted_entry(states, &completed));
        } else if let Some(producer) = batch.producer.filter(|p| !p.is_control) {
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
    aborted
}

/// The index entry of a transaction that just ended, if it was aborted.
pub fn aborted_entry(states: &ProducerStates, completed: &CompletedTxn) -> Option<AbortedTxn> {
    completed.is_aborted.then(|| AbortedTxn {
        producer_id: completed.producer_id,
        first_offset: completed.first_offset,
        last_offset: completed.last_offset,
        last_stable_offset: states.stable_offset_after(completed),
    })
}

/// Writes the index entries of aborted transactions (after their markers are in the log).
pub async fn record_aborted(log: &PartitionLog, aborted: &[AbortedTxn]) -> Result<(), LogError> {
    for entry in aborted {
        log.append_aborted_txn(*entry).await?;
    }
    Ok(())
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
    let snapshot = if log.txn_index_damaged() {
        // The aborted-transaction index lost entries below any snapshot: rebuild it all.
        None
    } else {
        log.latest_producer_snapshot(log_end).await?
    };
    let (mut states, from_offset) = match snapshot {
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
    let mut aborted = Vec::new();
    let visited = log.visit_batch_headers_and_controls(from_offset, |header, control| {
        // A batch below the snapshot's offset is in the snapshot already.
        if header.base_offset < from_offset {
            return;
        }
        if header.is_control() {
            if let Some(marker) = control.and_then(parse_marker) {
                let completed = states.apply_marker(
                    marker.producer_id,
                    marker.producer_epoch,
                    marker.coordinator_epoch,
                    marker.commit,
                    header.base_offset,
                    header.max_timestamp,
                );
                aborted.extend(aborted_entry(&states, &completed));
            }
            return;
        }
        if let Some(batch) = ProducerBatch::from_header(header) {
            if batch.producer_id >= 0 {
                states.apply(&batch, header.base_offset);
            }
        }
    })?;
    // The index entries past the snapshot are rebuilt from the markers just read.
    log.truncate_aborted_txns_from(from_offset).await?;
    record_aborted(log, &aborted).await?;
    log.clear_txn_index_damaged();
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
