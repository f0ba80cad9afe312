//! The transaction coordinator of the `__transaction_state` partitions a broker leads: every
//! transactional id of those partitions, and at most one pending transition per id. Pure and
//! single-threaded: it reads no clock (callers pass `now_ms`), does no I/O and never blocks.
//!
//! The protocol with the caller (the glue) for every change:
//! 1. a handler returns a `Transition`; the coordinator now holds it as the id's pending
//!    transition and answers CONCURRENT_TRANSACTIONS to anything else that would change the id;
//! 2. the caller writes `encode_key`/`encode_value` (a null value for a tombstone) to the id's
//!    `__transaction_state` partition with acks=all and waits until it is committed;
//! 3. the caller calls `complete(id, persisted)`: the transition takes effect only now, or is
//!    dropped if the write failed; for a Prepare* state `complete` returns the markers to write;
//! 4. once every marker is durable, `markers_written` returns the Complete* transition, which
//!    goes through 2 and 3 again.

use std::collections::BTreeMap;

use crate::error::TxnError;
use crate::limits::{TxnConfig, NO_PRODUCER_EPOCH, TRANSACTIONAL_ID_BYTES_MAX};
use crate::state::{is_epoch_exhausted, TopicPartition, TxnMetadata, TxnState};
use crate::transition::{self, MarkerJob, Transition};

/// What InitProducerId needs from the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitOutcome {
    /// Write it, `complete()`, then answer the target's producer id and epoch.
    Persist(Transition),
    /// Nothing to write (a KIP-360 retry of a bump that succeeded): answer these.
    Answer {
        producer_id: i64,
        producer_epoch: i16,
    },
    /// A new producer id is needed: call again with `fresh_producer_id`.
    NeedProducerId,
    /// An ongoing transaction must be aborted first. `fence` is a PrepareAbort at the bumped
    /// epoch (the current producer is fenced by it): write it, `complete()` and write the
    /// markers it returns, as for any Prepare*; answer CONCURRENT_TRANSACTIONS now and the
    /// client retries.
    FenceOngoing { fence: Transition },
}

/// What EndTxn needs from the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndOutcome {
    /// Write it (PrepareCommit/PrepareAbort), `complete()`, answer OK, and write the markers
    /// `complete()` returned.
    Persist(Transition),
    /// A retry of an end that already completed: answer OK.
    AlreadyDone,
}

/// See the module doc. Lives on the shard that leads the `__transaction_state` partitions it
/// holds; only that shard calls it.
#[derive(Debug)]
pub struct TxnCoordinator {
    config: TxnConfig,
    /// Current (durable, applied) metadata by transactional id.
    txns: BTreeMap<String, TxnMetadata>,
    /// The one transition per id handed out and not yet `complete`d.
    pending: BTreeMap<String, Transition>,
}

impl TxnCoordinator {
    pub fn new(config: TxnConfig) -> TxnCoordinator {
        config.assert_valid();
        TxnCoordinator {
            config,
            txns: BTreeMap::new(),
            pending: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> &TxnConfig {
        &self.config
    }

    /// InitProducerId for a transactional id (Kafka's `handleInitProducerId`). `expected` is
    /// the KIP-360 producer id and epoch the client has (None when it sent -1/-1);
    /// `fresh_producer_id` a producer id never handed out, when the caller has one ready.
    pub fn init_producer_id(
        &mut self,
        transactional_id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
        fresh_producer_id: Option<i64>,
        now_ms: i64,
    ) -> Result<InitOutcome, TxnError> {
        check_id(transactional_id)?;
        if timeout_ms <= 0 || timeout_ms > self.config.max_timeout_ms {
            return Err(TxnError::InvalidTransactionTimeout);
        }
        if self.pending.contains_key(transactional_id) {
            return Err(TxnError::ConcurrentTransactions);
        }
        let Some(current) = self.txns.get(transactional_id) else {
            // Kafka creates the metadata at epoch -1, which accepts any expected id and epoch.
            let Some(producer_id) = fresh_producer_id else {
                return Ok(InitOutcome::NeedProducerId);
            };
            let target = transition::create(transactional_id, producer_id, timeout_ms, now_ms);
            return Ok(InitOutcome::Persist(self.hand_out(target)));
        };
        if let Some((producer_id, epoch)) = expected {
            let current_id = producer_id == current.producer_id;
            let rotated_id =
                producer_id == current.previous_producer_id && is_epoch_exhausted(epoch);
            if !current_id && !rotated_id {
                return Err(TxnError::ProducerFenced);
            }
        }
        let target = match current.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => {
                return Err(TxnError::ConcurrentTransactions);
            }
            TxnState::Ongoing => {
                let fence = self.hand_out(transition::fence_and_abort(current, now_ms));
                return Ok(InitOutcome::FenceOngoing { fence });
            }
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                let expected_epoch = expected.map(|(_, epoch)| epoch);
                if expected_epoch.is_some_and(|epoch| epoch != current.producer_epoch) {
                    // Not the current epoch: a retry of the bump that produced it, or fenced.
                    let last = current.last_producer_epoch;
                    if last != NO_PRODUCER_EPOCH && expected_epoch == Some(last) {
                        return Ok(InitOutcome::Answer {
                            producer_id: current.producer_id,
                            producer_epoch: current.producer_epoch,
                        });
                    }
                    return Err(TxnError::ProducerFenced);
                }
                // The expected epoch, if any, is the current one: it becomes the last epoch.
                let last_epoch = expected_epoch.unwrap_or(NO_PRODUCER_EPOCH);
                if current.is_epoch_exhausted() {
                    let Some(producer_id) = fresh_producer_id else {
                        return Ok(InitOutcome::NeedProducerId);
                    };
                    transition::rotate_producer_id(
                        current,
                        producer_id,
                        timeout_ms,
                        last_epoch,
                        now_ms,
                    )
                } else {
                    transition::bump_epoch(current, timeout_ms, last_epoch, now_ms)
                }
            }
            state @ (TxnState::Dead | TxnState::PrepareEpochFence) => {
                unreachable!("{transactional_id}: current state {state:?}")
            }
        };
        Ok(InitOutcome::Persist(self.hand_out(target)))
    }

    /// AddPartitionsToTxn (Kafka's `handleAddPartitionsToTransaction`). `Ok(None)`: every
    /// partition is already in the ongoing transaction, answer OK without a write.
    pub fn add_partitions(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[TopicPartition],
        now_ms: i64,
    ) -> Result<Option<Transition>, TxnError> {
        let current = self.current_of(transactional_id, producer_id, producer_epoch)?;
        if self.pending.contains_key(transactional_id) || current.state.is_prepare() {
            return Err(TxnError::ConcurrentTransactions);
        }
        let already_in = current.state == TxnState::Ongoing
            && partitions
                .iter()
                .all(|partition| current.partitions.contains(partition));
        if already_in || partitions.is_empty() {
            return Ok(None);
        }
        assert!(current.state == TxnState::Ongoing || current.state.is_idle());
        let target = transition::add_partitions(current, partitions, now_ms);
        Ok(Some(self.hand_out(target)))
    }

    /// KIP-890 verification (AddPartitionsToTxn with verify_only, from a partition leader):
    /// is each partition in the ongoing transaction of this producer id and epoch? Nothing
    /// changes. As in Kafka, a pending transition is not looked at: partitions count once
    /// their add is durable, and stop counting once the end is.
    pub fn verify_partitions(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[TopicPartition],
    ) -> Vec<(TopicPartition, Result<(), TxnError>)> {
        let all = |error: TxnError| partitions.iter().map(|p| (p.clone(), Err(error))).collect();
        let current = match self.current_of(transactional_id, producer_id, producer_epoch) {
            Ok(current) => current,
            Err(error) => return all(error),
        };
        if current.state.is_prepare() {
            return all(TxnError::ConcurrentTransactions);
        }
        let in_txn = |partition: &TopicPartition| {
            if current.partitions.contains(partition) {
                Ok(())
            } else {
                Err(TxnError::InvalidTxnState)
            }
        };
        partitions
            .iter()
            .map(|partition| (partition.clone(), in_txn(partition)))
            .collect()
    }

    /// EndTxn (Kafka's `handleEndTransaction`, transactions V1: the epoch must be the current
    /// one).
    pub fn end_txn(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        now_ms: i64,
    ) -> Result<EndOutcome, TxnError> {
        let current = self.current_of(transactional_id, producer_id, producer_epoch)?;
        if self.pending.contains_key(transactional_id) {
            return Err(TxnError::ConcurrentTransactions);
        }
        match (current.state, commit) {
            (TxnState::Ongoing, _) => {
                let target = transition::prepare_end(current, commit, now_ms);
                Ok(EndOutcome::Persist(self.hand_out(target)))
            }
            (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => {
                Ok(EndOutcome::AlreadyDone)
            }
            (TxnState::PrepareCommit, true) | (TxnState::PrepareAbort, false) => {
                Err(TxnError::ConcurrentTransactions)
            }
            (TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort, _)
            | (TxnState::PrepareCommit | TxnState::PrepareAbort, _) => {
                Err(TxnError::InvalidTxnState)
            }
            (state @ (TxnState::Dead | TxnState::PrepareEpochFence), _) => {
                unreachable!("{transactional_id}: current state {state:?}")
            }
        }
    }

    /// The write of the id's pending transition finished: apply it (`persisted`) or drop it.
    /// Returns the markers to write when the id is now in PrepareCommit/PrepareAbort. Does
    /// nothing and returns None when the id has no pending transition (it was unloaded; the
    /// caller answers NOT_COORDINATOR). The caller must not pass the completion of a write
    /// started before an `unload`/`load` of the id's partition (Kafka's coordinator epoch check).
    pub fn complete(&mut self, transactional_id: &str, persisted: bool) -> Option<MarkerJob> {
        let transition = self.pending.remove(transactional_id)?;
        if !persisted {
            return None;
        }
        let target = transition.target;
        transition::assert_applicable(self.txns.get(transactional_id), &target);
        if target.state == TxnState::Dead {
            self.txns.remove(transactional_id);
            return None;
        }
        let job = target
            .state
            .is_prepare()
            .then(|| MarkerJob::for_prepared(&target));
        self.txns.insert(transactional_id.to_owned(), target);
        assert!(!self.pending.contains_key(transactional_id));
        job
    }

    /// Every marker of the Prepare* transaction of this producer id and epoch is durable: the
    /// transition to Complete*. None when the transaction moved on (or its completion is
    /// already pending). If that write fails, call this again.
    pub fn markers_written(
        &mut self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        now_ms: i64,
    ) -> Option<Transition> {
        let current = self.txns.get(transactional_id)?;
        let same_txn =
            current.producer_id == producer_id && current.producer_epoch == producer_epoch;
        if !same_txn || !current.state.is_prepare() || self.pending.contains_key(transactional_id) {
            return None;
        }
        let target = transition::complete(current, now_ms);
        Some(self.hand_out(target))
    }

    /// Ongoing transactions past their timeout (`start + timeout < now`) and without a pending
    /// transition: each is fenced and aborted like an InitProducerId would (PrepareAbort at the
    /// next epoch; `i16::MAX` is reserved so this never overflows) and becomes pending. Persist
    /// each, `complete()` it and write its markers.
    pub fn timed_out(&mut self, now_ms: i64) -> Vec<Transition> {
        let targets: Vec<TxnMetadata> = self
            .txns
            .values()
            .filter(|m| {
                m.state == TxnState::Ongoing && !self.pending.contains_key(&m.transactional_id)
            })
            .filter(|m| m.start_timestamp_ms.saturating_add(i64::from(m.timeout_ms)) < now_ms)
            .map(|m| transition::fence_and_abort(m, now_ms))
            .collect();
        targets
            .into_iter()
            .map(|target| self.hand_out(target))
            .collect()
    }

    /// Idle ids (Empty, Complete*) not updated for `id_expiration_ms` and without a pending
    /// transition: a tombstone each, pending. The id is removed when its tombstone `complete`s.
    pub fn expired_ids(&mut self, now_ms: i64) -> Vec<Transition> {
        let horizon_ms = now_ms.saturating_sub(self.config.id_expiration_ms);
        let targets: Vec<TxnMetadata> = self
            .txns
            .values()
            .filter(|m| m.state.is_idle() && !self.pending.contains_key(&m.transactional_id))
            .filter(|m| m.last_update_timestamp_ms <= horizon_ms)
            .map(transition::dead)
            .collect();
        targets
            .into_iter()
            .map(|target| self.hand_out(target))
            .collect()
    }

    /// One record of `__transaction_state`, replayed in log order while loading a partition
    /// (before the coordinator serves it). `None` is a tombstone. Panics on metadata that
    /// breaks the invariants (`decode_value` refuses those) or while the id has a pending
    /// transition (the glue loads a partition before serving it).
    pub fn load(&mut self, transactional_id: &str, value: Option<TxnMetadata>) {
        assert!(
            !self.pending.contains_key(transactional_id),
            "{transactional_id}: load while pending"
        );
        match value {
            None => {
                self.txns.remove(transactional_id);
            }
            Some(metadata) => {
                assert_eq!(
                    metadata.transactional_id, transactional_id,
                    "record key and value"
                );
                metadata.assert_invariants();
                self.txns.insert(transactional_id.to_owned(), metadata);
            }
        }
    }

    /// The transactions in Prepare* without a pending transition, whose markers must be
    /// (re)written: called once when a loaded partition becomes active.
    pub fn markers_pending(&self) -> Vec<MarkerJob> {
        self.txns
            .values()
            .filter(|m| m.state.is_prepare() && !self.pending.contains_key(&m.transactional_id))
            .map(MarkerJob::for_prepared)
            .collect()
    }

    /// Whether `job`'s transaction is still in that Prepare* state (same producer id, epoch,
    /// result and partitions). The glue checks this before (re)sending a job's markers: a
    /// stale job (the id completed, expired or was unloaded since) must not write markers.
    /// With transactions V1 one producer id and epoch runs one transaction after another, so
    /// the partitions are compared too: a stale job of the previous transaction must not write
    /// its markers (nor call `markers_written`) for the next one.
    pub fn is_marker_job_current(&self, job: &MarkerJob) -> bool {
        self.txns.get(&job.transactional_id).is_some_and(|m| {
            let state = if job.commit {
                TxnState::PrepareCommit
            } else {
                TxnState::PrepareAbort
            };
            m.state == state
                && m.producer_id == job.producer_id
                && m.producer_epoch == job.producer_epoch
                && m.partitions.len() == job.partitions.len()
                && job
                    .partitions
                    .iter()
                    .all(|partition| m.partitions.contains(partition))
        })
    }

    /// Forgets every id for which `keep` is false (its partition is no longer led here), with
    /// its pending transition: a later `complete` for it does nothing.
    pub fn unload(&mut self, keep: impl Fn(&str) -> bool) {
        self.txns.retain(|id, _| keep(id));
        self.pending.retain(|id, _| keep(id));
    }

    /// The current metadata (None for an unknown id, or one whose creation is still pending).
    pub fn describe(&self, transactional_id: &str) -> Option<&TxnMetadata> {
        self.txns.get(transactional_id)
    }

    /// Every current metadata, by transactional id.
    pub fn list(&self) -> impl Iterator<Item = &TxnMetadata> {
        self.txns.values()
    }

    /// The id's pending transition, if any.
    pub fn pending(&self, transactional_id: &str) -> Option<&Transition> {
        self.pending.get(transactional_id)
    }

    /// The earliest time at which `timed_out` or `expired_ids` will return something, as things
    /// stand (ask again after any change). A transaction times out at `start + timeout + 1`.
    pub fn next_deadline_ms(&self) -> Option<i64> {
        let expiration_ms = self.config.id_expiration_ms;
        self.txns
            .values()
            .filter(|m| !self.pending.contains_key(&m.transactional_id))
            .filter_map(|m| match m.state {
                TxnState::Ongoing => Some(
                    m.start_timestamp_ms
                        .saturating_add(i64::from(m.timeout_ms) + 1),
                ),
                state if state.is_idle() => {
                    Some(m.last_update_timestamp_ms.saturating_add(expiration_ms))
                }
                _ => None,
            })
            .min()
    }

    /// The metadata of a request's id, after Kafka's id, producer id and epoch checks.
    fn current_of(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
    ) -> Result<&TxnMetadata, TxnError> {
        check_id(transactional_id)?;
        let current = self
            .txns
            .get(transactional_id)
            .ok_or(TxnError::InvalidProducerIdMapping)?;
        if current.producer_id != producer_id {
            return Err(TxnError::InvalidProducerIdMapping);
        }
        if current.producer_epoch != producer_epoch {
            return Err(TxnError::ProducerFenced);
        }
        Ok(current)
    }

    /// Records `target` as the id's pending transition and returns it.
    fn hand_out(&mut self, target: TxnMetadata) -> Transition {
        let id = target.transactional_id.clone();
        assert!(
            !self.pending.contains_key(&id),
            "{id}: a second pending transition"
        );
        transition::assert_applicable(self.txns.get(&id), &target);
        let transition = Transition {
            transactional_id: id.clone(),
            target,
        };
        self.pending.insert(id, transition.clone());
        transition
    }
}

fn check_id(transactional_id: &str) -> Result<(), TxnError> {
    if transactional_id.is_empty() || transactional_id.len() > TRANSACTIONAL_ID_BYTES_MAX {
        return Err(TxnError::InvalidRequest);
    }
    Ok(())
}
