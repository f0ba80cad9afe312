//! The transaction metadata of one transactional id, and its states (Kafka's
//! `TransactionMetadata` and `TransactionState`).

use std::collections::BTreeSet;

use crate::limits::{NO_PRODUCER_EPOCH, NO_PRODUCER_ID, PRODUCER_EPOCH_EXHAUSTED};

/// Where a transaction is. The codes are the `TransactionStatus` byte of `__transaction_state`
/// values and must not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TxnState {
    /// An id with a producer id and epoch, and no transaction.
    Empty,
    /// Partitions have been added; the transaction can be ended or times out.
    Ongoing,
    /// EndTxn(commit) is durable; commit markers are being written.
    PrepareCommit,
    /// EndTxn(abort), a fence or a timeout is durable; abort markers are being written.
    PrepareAbort,
    /// Every commit marker is durable.
    CompleteCommit,
    /// Every abort marker is durable.
    CompleteAbort,
    /// The id expired: only ever the target of a tombstone, never a current state.
    Dead,
    /// Kafka's transient state while an ongoing transaction is fenced. Kafka never writes it to
    /// the log and this crate never makes it current (the fence is a `PrepareAbort` at the
    /// bumped epoch, see `InitOutcome::FenceOngoing`); it exists for the codes and names.
    PrepareEpochFence,
}

impl TxnState {
    pub const ALL: [TxnState; 8] = [
        TxnState::Empty,
        TxnState::Ongoing,
        TxnState::PrepareCommit,
        TxnState::PrepareAbort,
        TxnState::CompleteCommit,
        TxnState::CompleteAbort,
        TxnState::Dead,
        TxnState::PrepareEpochFence,
    ];

    /// The `TransactionStatus` byte of the log value.
    pub fn code(self) -> i8 {
        match self {
            TxnState::Empty => 0,
            TxnState::Ongoing => 1,
            TxnState::PrepareCommit => 2,
            TxnState::PrepareAbort => 3,
            TxnState::CompleteCommit => 4,
            TxnState::CompleteAbort => 5,
            TxnState::Dead => 6,
            TxnState::PrepareEpochFence => 7,
        }
    }

    pub fn from_code(code: i8) -> Option<TxnState> {
        TxnState::ALL.into_iter().find(|state| state.code() == code)
    }

    /// The name DescribeTransactions and ListTransactions report (and ListTransactions filters
    /// by).
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::Dead => "Dead",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }

    pub fn from_name(name: &str) -> Option<TxnState> {
        TxnState::ALL.into_iter().find(|state| state.name() == name)
    }

    /// PrepareCommit or PrepareAbort: markers are owed.
    pub fn is_prepare(self) -> bool {
        matches!(self, TxnState::PrepareCommit | TxnState::PrepareAbort)
    }

    /// CompleteCommit or CompleteAbort.
    pub fn is_complete(self) -> bool {
        matches!(self, TxnState::CompleteCommit | TxnState::CompleteAbort)
    }

    /// No transaction in progress: a new one may start, the epoch may be bumped, the id may
    /// expire.
    pub fn is_idle(self) -> bool {
        self == TxnState::Empty || self.is_complete()
    }

    /// The states a durable record may hold: Kafka writes neither Dead (a tombstone instead)
    /// nor PrepareEpochFence.
    pub fn is_durable(self) -> bool {
        !matches!(self, TxnState::Dead | TxnState::PrepareEpochFence)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition {
            topic: topic.to_owned(),
            partition,
        }
    }
}

/// Everything the coordinator knows of one transactional id; also the whole content of its
/// `__transaction_state` record (except `last_producer_epoch`, which Kafka does not write:
/// it reads back as -1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnMetadata {
    pub transactional_id: String,
    pub producer_id: i64,
    /// The producer id before the last InitProducerId (a rotated one when the epoch was
    /// exhausted), -1 if none.
    pub previous_producer_id: i64,
    /// Kafka's KIP-890 part 2 field (the id after an epoch overflow at commit). This crate
    /// implements transactions V1 and keeps it -1; it is carried through the records.
    pub next_producer_id: i64,
    pub producer_epoch: i16,
    /// The epoch before the last InitProducerId with an expected epoch (KIP-360 retries), -1
    /// otherwise. In memory only.
    pub last_producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    pub partitions: BTreeSet<TopicPartition>,
    /// When the first partition was added, -1 when idle since the last InitProducerId.
    pub start_timestamp_ms: i64,
    pub last_update_timestamp_ms: i64,
}

impl TxnMetadata {
    /// The next bump would reach `i16::MAX`, kept for fencing: a new producer id is due.
    pub fn is_epoch_exhausted(&self) -> bool {
        is_epoch_exhausted(self.producer_epoch)
    }

    /// Panics unless the metadata is one a coordinator may hold as current (see `check`).
    /// Checked before a transition is handed out, when it is applied, and when a record is
    /// loaded.
    pub fn assert_invariants(&self) {
        if let Err(broken) = self.check() {
            panic!("{}: {broken}: {self:?}", self.transactional_id);
        }
    }

    /// The rules current metadata keeps: a durable state (not Dead, not PrepareEpochFence),
    /// valid producer id, epoch and timeout; Empty and Complete* hold no partitions, Ongoing
    /// and Prepare* hold at least one and have started; Empty has not started.
    pub fn check(&self) -> Result<(), &'static str> {
        let rules = [
            (!self.transactional_id.is_empty(), "empty transactional id"),
            (self.state.is_durable(), "not a durable state"),
            (self.producer_id >= 0, "negative producer id"),
            (self.producer_epoch >= 0, "negative producer epoch"),
            (
                self.last_producer_epoch >= NO_PRODUCER_EPOCH,
                "last epoch below -1",
            ),
            (
                self.previous_producer_id >= NO_PRODUCER_ID,
                "previous producer id below -1",
            ),
            (
                self.next_producer_id >= NO_PRODUCER_ID,
                "next producer id below -1",
            ),
            (self.timeout_ms > 0, "timeout not positive"),
        ];
        if let Some((_, broken)) = rules.iter().find(|(holds, _)| !holds) {
            return Err(broken);
        }
        match self.state {
            TxnState::Empty if self.start_timestamp_ms != -1 => Err("Empty with a start time"),
            state if state.is_idle() && !self.partitions.is_empty() => Err("idle with partitions"),
            state if state.is_idle() => Ok(()),
            _ if self.partitions.is_empty() => Err("open transaction without partitions"),
            _ if self.start_timestamp_ms < 0 => Err("open transaction not started"),
            _ => Ok(()),
        }
    }
}

/// Kafka's `isEpochExhausted`: epochs stop at `i16::MAX - 1` so that a fence can always bump.
pub fn is_epoch_exhausted(producer_epoch: i16) -> bool {
    producer_epoch >= PRODUCER_EPOCH_EXHAUSTED
}
