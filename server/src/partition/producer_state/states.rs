//! The rules, after Kafka 3.x/4.x (`UnifiedLog.analyzeAndValidateProducerState`,
//! `ProducerAppendInfo.checkProducerEpoch` / `checkSequence` / `appendEndTxnMarker`,
//! `ProducerStateManager`):
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
//! - Control batches from clients are refused (INVALID_RECORD); markers come only through
//!   [`ProducerStates::check_marker`] / [`ProducerStates::apply_marker`].
//! - Transactions: a transactional batch continues its producer's ongoing transaction here,
//!   or starts one at its first offset. Starting one (no ongoing transaction here, or a newer
//!   epoch) needs a verification token (KIP-890 part 1, Kafka's `VerificationGuard`) from a
//!   client: the partition hands out a token, the coordinator confirms the transaction, and the
//!   retry carries the token. A marker or any epoch change drops the token, so a verification
//!   that raced with the end of the transaction cannot open a hanging one.
//! - A non-transactional batch of a producer with an ongoing transaction: INVALID_TXN_STATE.
//! - The coordinator's own writes (`CheckOrigin::Coordinator`) check only the epoch.
//! - A marker older than the producer's epoch: INVALID_PRODUCER_EPOCH; from a coordinator
//!   epoch older than the last marker's: TRANSACTION_COORDINATOR_FENCED. A marker ends the
//!   ongoing transaction (a [`CompletedTxn`]) and may carry a bumped epoch (after fencing).
//! - Expiry never forgets a producer with an ongoing transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::batch::{in_sequence, ProducerBatch, NO_PRODUCER_EPOCH};
use super::entry::{BatchMeta, ProducerEntry};

/// Producers remembered per partition. Kafka has no such bound (only expiry); a client that
/// re-initialises endlessly would grow it without one. Past it, the producer idle the
/// longest is forgotten, which only costs it its duplicate detection here. Producers with an
/// ongoing transaction are never forgotten, and neither are pending verifications bounded
/// otherwise: both are counted against this bound.
pub const PRODUCERS_PER_PARTITION_MAX: usize = 100_000;

/// A retried batch: where it went the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duplicate {
    pub batch_index: usize,
    pub first_offset: i64,
    pub last_offset: i64,
    pub timestamp_ms: i64,
}

/// Proof that the transaction coordinator confirmed a producer's transaction includes this
/// partition (KIP-890 part 1; Kafka's `VerificationGuard`). The partition creates it when it
/// refuses an unverified transactional batch; the retry carries it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerificationToken(pub u64);

/// Who writes a batch, for the checks (Kafka's `AppendOrigin`; replication and recovery do not
/// check at all, they `apply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOrigin {
    /// A producer's Produce request, with the token of a verification it went through.
    Client {
        verification: Option<VerificationToken>,
    },
    /// The group coordinator's own writes (transactional offset commits): trusted, no
    /// sequence or verification, only the epoch is checked.
    Coordinator,
}

/// A transaction a marker ended in this partition (Kafka's `CompletedTxn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletedTxn {
    pub producer_id: i64,
    /// First offset of the transaction here (the marker's own offset if it had no data here).
    pub first_offset: i64,
    /// The marker's offset.
    pub last_offset: i64,
    pub is_aborted: bool,
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
    #[error("batch {batch_index}: a transactional batch needs a producer id")]
    MissingProducerId { batch_index: usize },
    #[error("batch {batch_index}: producer {producer_id} has an ongoing transaction here; a non-transactional write is refused")]
    InvalidTxnState {
        batch_index: usize,
        producer_id: i64,
    },
    #[error("batch {batch_index}: producer {producer_id} epoch {epoch} starts a transaction here that is not verified")]
    NeedsVerification {
        batch_index: usize,
        producer_id: i64,
        epoch: i16,
    },
    #[error("marker of producer {producer_id}: coordinator epoch {coordinator_epoch} is older than {current}")]
    CoordinatorFenced {
        producer_id: i64,
        coordinator_epoch: i32,
        current: i32,
    },
}

/// A verification handed out and not yet used or dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Verification {
    token: VerificationToken,
    epoch: i16,
    created_ms: i64,
}

/// All producers of one partition. Lives inside its `Partition`, on the owner shard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerStates {
    entries: HashMap<i64, ProducerEntry>,
    /// (first offset, producer id) of every ongoing transaction (Kafka's `ongoingTxns`).
    ongoing: BTreeSet<(i64, i64)>,
    /// Transactions ended by a marker the high watermark has not passed yet, by first offset
    /// (Kafka's `unreplicatedTxns`): they hold the last stable offset back still.
    unreplicated: BTreeMap<i64, CompletedTxn>,
    /// Pending verifications by producer id (not in snapshots: a restart only costs a retry).
    verifications: HashMap<i64, Verification>,
    next_token: u64,
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
        if let Some(old) = self.entries.get(&entry.producer_id) {
            if let Some(first) = old.current_txn_first_offset {
                self.ongoing.remove(&(first, old.producer_id));
            }
        }
        if let Some(first) = entry.current_txn_first_offset {
            self.ongoing.insert((first, entry.producer_id));
        }
        self.entries.insert(entry.producer_id, entry);
    }

    /// Checks a client's batches (`None`: a batch without producer id) in call order.
    /// `Ok(None)`: append them all; `Ok(Some(duplicate))`: a retry, append nothing.
    pub fn check(
        &self,
        batches: &[Option<ProducerBatch>],
        origin: CheckOrigin,
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
            if batch.producer_id < 0 {
                return Err(ProducerError::MissingProducerId { batch_index });
            }
            let stored = self.entries.get(&batch.producer_id);
            let current = updated.get(&batch.producer_id).or(stored);
            match origin {
                CheckOrigin::Client { verification } => {
                    let duplicate = stored.and_then(|entry| find_duplicate(entry, batch));
                    if let Some(duplicate) = duplicate {
                        return Ok(Some(Duplicate {
                            batch_index,
                            first_offset: duplicate.first_offset,
                            last_offset: duplicate.last_offset,
                            timestamp_ms: duplicate.timestamp_ms,
                        }));
                    }
                    check_batch(current, batch_index, batch)?;
                    self.check_transaction(current, batch_index, batch, verification)?;
                }
                CheckOrigin::Coordinator => {
                    check_epoch(current, batch_index, batch)?;
                    check_not_in_transaction(current, batch_index, batch)?;
                }
            }
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

    /// A client's transactional batch continues the ongoing transaction of its epoch, or
    /// starts one with a matching verification; a non-transactional one may not interleave.
    fn check_transaction(
        &self,
        current: Option<&ProducerEntry>,
        batch_index: usize,
        batch: &ProducerBatch,
        verification: Option<VerificationToken>,
    ) -> Result<(), ProducerError> {
        if !batch.is_transactional {
            return check_not_in_transaction(current, batch_index, batch);
        }
        let continues = current.is_some_and(|entry| {
            entry.current_txn_first_offset.is_some() && entry.epoch == batch.epoch
        });
        if continues {
            return Ok(());
        }
        let verified = self
            .verifications
            .get(&batch.producer_id)
            .is_some_and(|pending| {
                Some(pending.token) == verification && pending.epoch == batch.epoch
            });
        if verified {
            return Ok(());
        }
        Err(ProducerError::NeedsVerification {
            batch_index,
            producer_id: batch.producer_id,
            epoch: batch.epoch,
        })
    }

    /// The verification token of `producer_id` at `epoch`: the pending one, or a new one
    /// (replacing a pending one of another epoch).
    pub fn verification_token(
        &mut self,
        producer_id: i64,
        epoch: i16,
        now_ms: i64,
    ) -> VerificationToken {
        assert!(producer_id >= 0);
        if let Some(pending) = self.verifications.get(&producer_id) {
            if pending.epoch == epoch {
                return pending.token;
            }
        }
        if self.verifications.len() >= PRODUCERS_PER_PARTITION_MAX {
            let oldest = self
                .verifications
                .iter()
                .min_by_key(|(id, pending)| (pending.created_ms, **id))
                .map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                self.verifications.remove(&oldest);
            }
        }
        self.next_token += 1;
        let token = VerificationToken(self.next_token);
        let pending = Verification {
            token,
            epoch,
            created_ms: now_ms,
        };
        self.verifications.insert(producer_id, pending);
        assert!(self.verifications.len() <= PRODUCERS_PER_PARTITION_MAX);
        token
    }

    /// The pending verification token of a producer, if any (tests, DescribeProducers).
    pub fn pending_verification(&self, producer_id: i64) -> Option<VerificationToken> {
        self.verifications.get(&producer_id).map(|p| p.token)
    }

    /// Records a batch that is now in the log at `first_offset`; checked before (client
    /// appends) or trusted (replication, rebuilding from the log, where every batch was
    /// checked once).
    pub fn apply(&mut self, batch: &ProducerBatch, first_offset: i64) {
        assert!(batch.producer_id >= 0);
        assert!(first_offset >= 0);
        assert!(!batch.is_control, "markers go through apply_marker");
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
        let starts = batch.is_transactional && entry.current_txn_first_offset.is_none();
        if starts {
            entry.current_txn_first_offset = Some(first_offset);
            self.ongoing.insert((first_offset, batch.producer_id));
        }
        let stale = self
            .verifications
            .get(&batch.producer_id)
            .is_some_and(|pending| pending.epoch != batch.epoch || starts);
        if stale {
            // Used (the transaction is open now), or of another epoch.
            self.verifications.remove(&batch.producer_id);
        }
        if self.entries.len() > PRODUCERS_PER_PARTITION_MAX {
            self.forget_idlest();
        }
    }

    /// Checks a transaction marker from the coordinator before it is appended.
    pub fn check_marker(
        &self,
        producer_id: i64,
        epoch: i16,
        coordinator_epoch: i32,
    ) -> Result<(), ProducerError> {
        let Some(entry) = self.entries.get(&producer_id) else {
            return Ok(());
        };
        if epoch < entry.epoch {
            return Err(ProducerError::InvalidProducerEpoch {
                batch_index: 0,
                producer_id,
                epoch,
                current: entry.epoch,
            });
        }
        if coordinator_epoch < entry.coordinator_epoch {
            return Err(ProducerError::CoordinatorFenced {
                producer_id,
                coordinator_epoch,
                current: entry.coordinator_epoch,
            });
        }
        Ok(())
    }

    /// Records a marker now in the log at `offset` (checked before, or trusted when
    /// replicated or rebuilt): ends the producer's ongoing transaction, takes the marker's
    /// epoch and coordinator epoch, and drops a pending verification.
    pub fn apply_marker(
        &mut self,
        producer_id: i64,
        epoch: i16,
        coordinator_epoch: i32,
        commit: bool,
        offset: i64,
        timestamp_ms: i64,
    ) -> CompletedTxn {
        assert!(producer_id >= 0);
        assert!(offset >= 0);
        let entry = self
            .entries
            .entry(producer_id)
            .or_insert_with(|| ProducerEntry::new(producer_id, epoch));
        if epoch != entry.epoch {
            // A bumped epoch (fencing): the old epoch's batches are no retry candidates.
            entry.epoch = epoch;
            entry.batches.clear();
        }
        let first_offset = entry.current_txn_first_offset.take().unwrap_or(offset);
        assert!(first_offset <= offset, "a transaction ends after it starts");
        self.ongoing.remove(&(first_offset, producer_id));
        entry.coordinator_epoch = coordinator_epoch;
        entry.last_timestamp_ms = entry.last_timestamp_ms.max(timestamp_ms);
        self.verifications.remove(&producer_id);
        let completed = CompletedTxn {
            producer_id,
            first_offset,
            last_offset: offset,
            is_aborted: !commit,
        };
        self.unreplicated.insert(first_offset, completed);
        completed
    }

    /// The last stable offset an aborted transaction's index entry records (Kafka's
    /// `lastStableOffset(completedTxn)`), after `apply_marker`: the first offset of the
    /// oldest transaction still ongoing, else the offset after the marker.
    pub fn stable_offset_after(&self, completed: &CompletedTxn) -> i64 {
        match self.ongoing.first() {
            Some((first, _)) => (*first).min(completed.last_offset + 1),
            None => completed.last_offset + 1,
        }
    }

    /// Forgets completed transactions whose marker is below `high_watermark` (Kafka's
    /// `onHighWatermarkUpdated`): they no longer hold the last stable offset back.
    pub fn retire_replicated(&mut self, high_watermark: i64) {
        self.unreplicated
            .retain(|_, txn| txn.last_offset >= high_watermark);
    }

    /// The first offset of the oldest transaction that is ongoing or whose marker is not yet
    /// replicated (Kafka's `firstUnstableOffset`); `None` when everything is decided.
    pub fn first_unstable_offset(&self) -> Option<i64> {
        let ongoing = self.ongoing.first().map(|(first, _)| *first);
        let unreplicated = self.unreplicated.keys().next().copied();
        match (ongoing, unreplicated) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// How many transactions are open here.
    pub fn ongoing_count(&self) -> usize {
        self.ongoing.len()
    }

    /// Forgets producers whose last batch is `expiration_ms` or more older than `now_ms`
    /// (`producer.id.expiration.ms`), except those with an ongoing transaction, and pending
    /// verifications as old; returns how many producers.
    pub fn expire(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        assert!(expiration_ms >= 0);
        let before = self.entries.len();
        self.entries.retain(|_, entry| {
            entry.current_txn_first_offset.is_some()
                || now_ms.saturating_sub(entry.last_timestamp_ms) < expiration_ms
        });
        self.verifications
            .retain(|_, pending| now_ms.saturating_sub(pending.created_ms) < expiration_ms);
        before - self.entries.len()
    }

    fn forget_idlest(&mut self) {
        let idlest = self
            .entries
            .values()
            .filter(|entry| entry.current_txn_first_offset.is_none())
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

/// Kafka's `checkProducerEpoch` alone (the coordinator's writes carry no sequence).
fn check_epoch(
    current: Option<&ProducerEntry>,
    batch_index: usize,
    batch: &ProducerBatch,
) -> Result<(), ProducerError> {
    match current {
        Some(current) if batch.epoch < current.epoch => Err(ProducerError::InvalidProducerEpoch {
            batch_index,
            producer_id: batch.producer_id,
            epoch: batch.epoch,
            current: current.epoch,
        }),
        _ => Ok(()),
    }
}

/// A non-transactional batch may not interleave with the producer's ongoing transaction.
fn check_not_in_transaction(
    current: Option<&ProducerEntry>,
    batch_index: usize,
    batch: &ProducerBatch,
) -> Result<(), ProducerError> {
    let ongoing = current.is_some_and(|entry| entry.current_txn_first_offset.is_some());
    if !batch.is_transactional && ongoing {
        return Err(ProducerError::InvalidTxnState {
            batch_index,
            producer_id: batch.producer_id,
        });
    }
    Ok(())
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
        if batch.is_transactional && self.current_txn_first_offset.is_none() {
            self.current_txn_first_offset = Some(meta.first_offset);
        }
    }
}
