//! The rules, after Kafka 3.x (`UnifiedLog.analyzeAndValidateProducerState`,
//! `ProducerAppendInfo.checkProducerEpoch` / `checkSequence`):
//!
//! - A batch whose (epoch, first sequence, last sequence) matches one of the producer's last
//!   [`BATCHES_RETAINED_PER_PRODUCER`] batches is a retry: the call appends nothing and is
//!   answered with that batch's offsets. Duplicates are looked up in the state as it was
//!   before the call.
//! - An epoch older than the producer's current one: INVALID_PRODUCER_EPOCH.
//! - A newer epoch must start at sequence 0 (unless the producer is unknown here).
//! - The same epoch must continue the sequence: first = last + 1, else OUT_OF_ORDER_SEQUENCE.
//! - A producer with no state here (never seen, expired, or its records deleted) is accepted
//!   at any sequence; Kafka no longer answers UNKNOWN_PRODUCER_ID on the produce path.
//! - Later batches of one call are checked against the state the earlier ones leave.
//! - Control batches and transactional batches are refused until transactions exist.

use std::collections::HashMap;

use super::batch::{in_sequence, ProducerBatch, NO_PRODUCER_EPOCH};
use super::entry::{BatchMeta, ProducerEntry};

/// Producers remembered per partition. Kafka has no such bound (only expiry); a client that
/// re-initialises endlessly would grow it without one. Past it, the producer idle the
/// longest is forgotten, which only costs it its duplicate detection here.
pub const PRODUCERS_PER_PARTITION_MAX: usize = 100_000;

/// A retried batch: where it went the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duplicate {
    pub batch_index: usize,
    pub first_offset: i64,
    pub last_offset: i64,
    pub timestamp_ms: i64,
}

/// Why a call's batch was refused; nothing of the call is appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProducerError {
    #[error("batch {batch_index}: producer {producer_id} epoch {epoch} is older than its current epoch {current}")]
    InvalidProducerEpoch {
        batch_index: usize,
        producer_id: i64,
        epoch: i16,
        current: i16,
    },
    #[error("batch {batch_index}: producer {producer_id} epoch {epoch}: sequence {first_seq} does not follow {last_seq:?}")]
    OutOfOrderSequence {
        batch_index: usize,
        producer_id: i64,
        epoch: i16,
        first_seq: i32,
        /// None: a new epoch, which must start at 0.
        last_seq: Option<i32>,
    },
    #[error("batch {batch_index}: clients may not write control batches")]
    ControlBatch { batch_index: usize },
    #[error("batch {batch_index}: producer {producer_id} has no ongoing transaction (transactions are not served)")]
    NoOngoingTransaction {
        batch_index: usize,
        producer_id: i64,
    },
}

/// All producers of one partition. Lives inside its `Partition`, on the owner shard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerStates {
    entries: HashMap<i64, ProducerEntry>,
}

impl ProducerStates {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.entries.get(&producer_id)
    }

    /// Every producer, by producer id (for snapshots and tests).
    pub fn entries(&self) -> impl Iterator<Item = &ProducerEntry> {
        self.entries.values()
    }

    /// Puts back an entry read from a snapshot.
    pub fn insert(&mut self, entry: ProducerEntry) {
        self.entries.insert(entry.producer_id, entry);
    }

    /// Checks a client's batches (`None`: a batch without producer id) in call order.
    /// `Ok(None)`: append them all; `Ok(Some(duplicate))`: a retry, append nothing.
    pub fn check(
        &self,
        batches: &[Option<ProducerBatch>],
    ) -> Result<Option<Duplicate>, ProducerError> {
        // The call's own effect on the producers it touches, on top of `entries`.
        let mut updated: HashMap<i64, ProducerEntry> = HashMap::new();
        for (batch_index, batch) in batches.iter().enumerate() {
            let Some(batch) = batch else {
                continue;
            };
            if batch.is_control {
                return Err(ProducerError::ControlBatch { batch_index });
            }
            if batch.is_transactional {
                return Err(ProducerError::NoOngoingTransaction {
                    batch_index,
                    producer_id: batch.producer_id,
                });
            }
            let stored = self.entries.get(&batch.producer_id);
            if let Some(duplicate) = stored.and_then(|entry| find_duplicate(entry, batch)) {
                return Ok(Some(Duplicate {
                    batch_index,
                    first_offset: duplicate.first_offset,
                    last_offset: duplicate.last_offset,
                    timestamp_ms: duplicate.timestamp_ms,
                }));
            }
            let current = updated.get(&batch.producer_id).or(stored);
            check_batch(current, batch_index, batch)?;
            let entry = updated.entry(batch.producer_id).or_insert_with(|| {
                stored
                    .cloned()
                    .unwrap_or_else(|| ProducerEntry::new(batch.producer_id, NO_PRODUCER_EPOCH))
            });
            // Offsets do not matter for the checks of later batches of the call.
            entry.epoch_and_sequence_only(batch);
        }
        Ok(None)
    }

    /// Records a batch that is now in the log at `first_offset`; checked before (client
    /// appends) or trusted (rebuilding from the log, where every batch was checked once).
    pub fn apply(&mut self, batch: &ProducerBatch, first_offset: i64) {
        assert!(batch.producer_id >= 0);
        assert!(first_offset >= 0);
        let meta = BatchMeta {
            first_seq: batch.first_seq,
            last_seq: batch.last_seq,
            first_offset,
            last_offset: first_offset + batch.offset_count - 1,
            timestamp_ms: batch.max_timestamp_ms,
        };
        let entry = self
            .entries
            .entry(batch.producer_id)
            .or_insert_with(|| ProducerEntry::new(batch.producer_id, batch.epoch));
        entry.push(batch.epoch, meta);
        if self.entries.len() > PRODUCERS_PER_PARTITION_MAX {
            self.forget_idlest();
        }
        assert!(self.entries.len() <= PRODUCERS_PER_PARTITION_MAX);
    }

    /// Forgets producers whose last batch is `expiration_ms` or more older than `now_ms`
    /// (`producer.id.expiration.ms`); returns how many.
    pub fn expire(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        assert!(expiration_ms >= 0);
        let before = self.entries.len();
        self.entries
            .retain(|_, entry| now_ms.saturating_sub(entry.last_timestamp_ms) < expiration_ms);
        before - self.entries.len()
    }

    fn forget_idlest(&mut self) {
        let idlest = self
            .entries
            .values()
            .min_by_key(|entry| (entry.last_timestamp_ms, entry.producer_id))
            .map(|entry| entry.producer_id);
        if let Some(producer_id) = idlest {
            self.entries.remove(&producer_id);
        }
    }
}

fn find_duplicate<'a>(entry: &'a ProducerEntry, batch: &ProducerBatch) -> Option<&'a BatchMeta> {
    if entry.epoch != batch.epoch {
        return None;
    }
    entry.find(batch.first_seq, batch.last_seq)
}

/// Kafka's `checkProducerEpoch` then `checkSequence`, for a client append.
fn check_batch(
    current: Option<&ProducerEntry>,
    batch_index: usize,
    batch: &ProducerBatch,
) -> Result<(), ProducerError> {
    let Some(current) = current else {
        // Unknown here: any sequence is accepted.
        return Ok(());
    };
    if current.epoch == NO_PRODUCER_EPOCH && current.batches.is_empty() {
        return Ok(());
    }
    if batch.epoch < current.epoch {
        return Err(ProducerError::InvalidProducerEpoch {
            batch_index,
            producer_id: batch.producer_id,
            epoch: batch.epoch,
            current: current.epoch,
        });
    }
    if batch.epoch > current.epoch {
        if batch.first_seq != 0 {
            return Err(ProducerError::OutOfOrderSequence {
                batch_index,
                producer_id: batch.producer_id,
                epoch: batch.epoch,
                first_seq: batch.first_seq,
                last_seq: None,
            });
        }
        return Ok(());
    }
    match current.last_seq() {
        Some(last) if in_sequence(last, batch.first_seq) => Ok(()),
        // A known epoch without batches (Kafka's NO_SEQUENCE) continues at 0.
        None if batch.first_seq == 0 => Ok(()),
        last_seq => Err(ProducerError::OutOfOrderSequence {
            batch_index,
            producer_id: batch.producer_id,
            epoch: batch.epoch,
            first_seq: batch.first_seq,
            last_seq,
        }),
    }
}

impl ProducerEntry {
    /// The part of `push` that later checks of the same call depend on: epoch and last sequence.
    fn epoch_and_sequence_only(&mut self, batch: &ProducerBatch) {
        let next_offset = self.batches.back().map_or(0, |last| last.last_offset + 1);
        let meta = BatchMeta {
            first_seq: batch.first_seq,
            last_seq: batch.last_seq,
            first_offset: next_offset,
            last_offset: next_offset + batch.offset_count - 1,
            timestamp_ms: batch.max_timestamp_ms,
        };
        self.push(batch.epoch, meta);
    }
}
