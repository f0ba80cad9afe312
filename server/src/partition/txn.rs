//! The transaction side of a `Partition` (Kafka's `UnifiedLog` with its
//! `ProducerStateManager`): transaction markers written by the leader, the last stable
//! offset, and what read_committed consumers get (data up to the LSO, with the aborted
//! transactions that overlap it).
//!
//! # The last stable offset
//!
//! `min(first unstable offset, high watermark)`, where a transaction is unstable while it is
//! ongoing and also after its marker until the high watermark passes the marker (Kafka keeps
//! those in `unreplicatedTxns`): a read_committed consumer must not learn an outcome that a
//! leader change could still take back. Never below the log start.
//!
//! # Markers
//!
//! `append_txn_marker` builds the control batch exactly as Kafka writes it
//! (`producer_state::marker`), checks it against the producer (older epoch:
//! INVALID_PRODUCER_EPOCH; older coordinator epoch: TRANSACTION_COORDINATOR_FENCED), appends it
//! under the append turn with the leader epoch like any leader append, ends the producer's
//! transaction, and puts an aborted one into the log's aborted-transaction index before it
//! returns. The caller waits for acks=all (Kafka writes markers with `requiredAcks = -1`).

use sluice_engine::{AbortedTxn, AppendError, AppendInfo, LogError, ReadError, ReadResult};

use super::partition::Partition;
use super::producer_append::{self, PartitionAppendError};
use super::producer_state::{build_marker_batch, snapshot, Marker};

impl Partition {
    /// Appends a COMMIT (`commit`) or ABORT marker for `producer_id` at `producer_epoch`
    /// from a coordinator at `coordinator_epoch`, and ends the producer's transaction here.
    /// Leader only. Not durable when it returns (see `PartitionLog::append`).
    pub async fn append_txn_marker(
        &self,
        producer_id: i64,
        producer_epoch: i16,
        coordinator_epoch: i32,
        commit: bool,
        now_ms: i64,
    ) -> Result<AppendInfo, PartitionAppendError> {
        if producer_id < 0 || producer_epoch < 0 {
            return Err(AppendError::InvalidBatch {
                batch_index: 0,
                reason: format!("marker for producer {producer_id} epoch {producer_epoch}"),
            }
            .into());
        }
        self.role.borrow().check_appendable()?;
        let Ok(_turn) = self.append_turn.acquire_permit(1).await else {
            let closed = LogError::Closed {
                name: format!("{}-{}", self.topic(), self.index()),
            };
            return Err(AppendError::Storage(closed).into());
        };
        self.producers
            .borrow()
            .check_marker(producer_id, producer_epoch, coordinator_epoch)?;
        // The role may have changed while we waited for our turn.
        self.role.borrow().check_appendable()?;
        let marker = Marker {
            producer_id,
            producer_epoch,
            coordinator_epoch,
            commit,
        };
        let batch = build_marker_batch(marker, now_ms);
        let end_before = self.log_end_offset();
        let active_before = self.log().active_segment_base();
        let info = self.log().append(&[batch], now_ms).await?;
        assert_eq!(
            info.base_offset, info.last_offset,
            "a marker takes one offset"
        );
        assert!(info.base_offset >= end_before);
        if self.log().active_segment_base() != active_before
            && self.log().active_segment_base() == info.base_offset
        {
            // The state before the marker is the state at the new segment's base.
            let bytes = snapshot::encode(&self.producers.borrow());
            producer_append::write_snapshot(self.log(), bytes, info.base_offset).await;
        }
        let aborted = {
            let mut producers = self.producers.borrow_mut();
            let completed = producers.apply_marker(
                producer_id,
                producer_epoch,
                coordinator_epoch,
                commit,
                info.base_offset,
                info.max_timestamp_ms,
            );
            assert_eq!(completed.last_offset, info.base_offset);
            producer_append::aborted_entry(&producers, &completed)
        };
        if let Some(entry) = aborted {
            if let Err(err) = self.log().append_aborted_txn(entry).await {
                tracing::error!(topic = %self.topic(), partition = self.index(), "aborted transaction index: {err}");
                return Err(PartitionAppendError::TxnIndex(err));
            }
        }
        Ok(info)
    }

    /// The end of what read_committed consumers may read (see the module doc).
    pub fn last_stable_offset(&self) -> i64 {
        let high_watermark = self.high_watermark();
        let mut producers = self.producers.borrow_mut();
        producers.retire_replicated(high_watermark);
        let unstable = producers.first_unstable_offset();
        let lso = match unstable {
            Some(first) => first.max(self.log_start_offset()).min(high_watermark),
            None => high_watermark,
        };
        assert!(lso <= high_watermark);
        lso
    }

    /// Where a consumer's reads end: the last stable offset for read_committed, else the
    /// high watermark.
    pub fn readable_end(&self, read_committed: bool) -> i64 {
        if read_committed {
            self.last_stable_offset()
        } else {
            self.high_watermark()
        }
    }

    /// A read_committed read: whole batches from `offset` up to the last stable offset, and
    /// the aborted transactions overlapping what it returns (Kafka's
    /// `collectAbortedTransactions`).
    pub async fn read_committed(
        &self,
        offset: i64,
        max_bytes: u32,
    ) -> Result<(ReadResult, Vec<AbortedTxn>), ReadError> {
        let last_stable_offset = self.last_stable_offset();
        let result = self
            .log()
            .read(offset, max_bytes, last_stable_offset)
            .await?;
        assert!(result.next_offset <= last_stable_offset.max(offset));
        let aborted = self.log().collect_aborted_txns(offset, result.next_offset);
        Ok((result, aborted))
    }

    /// How many transactions are open here (tests, metrics).
    pub fn ongoing_txn_count(&self) -> usize {
        self.producers.borrow().ongoing_count()
    }
}

#[cfg(test)]
#[path = "txn_tests.rs"]
mod tests;
