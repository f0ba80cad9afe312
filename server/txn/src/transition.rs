//! The state changes of one transactional id (Kafka's `TransactionMetadata.prepare*`), each a
//! whole new `TxnMetadata`, and the rules a change must keep to be applied
//! (`completeTransitionTo`). Pure functions: the coordinator decides which one applies.

use std::collections::BTreeSet;

use crate::limits::{NO_PRODUCER_EPOCH, NO_PRODUCER_ID};
use crate::state::{TopicPartition, TxnMetadata, TxnState};

/// A state change to make durable before it takes effect (Kafka's `TxnTransitMetadata`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub transactional_id: String,
    /// The whole new metadata; `TxnState::Dead` means: write a tombstone.
    pub target: TxnMetadata,
}

impl Transition {
    /// True when the record to write is a tombstone (a null value).
    pub fn is_tombstone(&self) -> bool {
        self.target.state == TxnState::Dead
    }
}

/// Markers to write once a Prepare* transition is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerJob {
    pub transactional_id: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub commit: bool,
    pub partitions: Vec<TopicPartition>,
}

impl MarkerJob {
    /// The job for metadata in PrepareCommit or PrepareAbort.
    pub(crate) fn for_prepared(metadata: &TxnMetadata) -> MarkerJob {
        assert!(
            metadata.state.is_prepare(),
            "no markers owed in {:?}",
            metadata.state
        );
        MarkerJob {
            transactional_id: metadata.transactional_id.clone(),
            producer_id: metadata.producer_id,
            producer_epoch: metadata.producer_epoch,
            commit: metadata.state == TxnState::PrepareCommit,
            partitions: metadata.partitions.iter().cloned().collect(),
        }
    }
}

/// The update time of a change: `now_ms`, never before the last update (a clock that steps
/// back does not make timestamps go back).
fn update_ms(current: &TxnMetadata, now_ms: i64) -> i64 {
    now_ms.max(current.last_update_timestamp_ms)
}

/// A new transactional id: Empty at epoch 0 with a fresh producer id.
pub(crate) fn create(
    transactional_id: &str,
    producer_id: i64,
    timeout_ms: i32,
    now_ms: i64,
) -> TxnMetadata {
    assert!(
        producer_id >= 0,
        "{transactional_id}: fresh producer id {producer_id}"
    );
    TxnMetadata {
        transactional_id: transactional_id.to_owned(),
        producer_id,
        previous_producer_id: NO_PRODUCER_ID,
        next_producer_id: NO_PRODUCER_ID,
        producer_epoch: 0,
        last_producer_epoch: NO_PRODUCER_EPOCH,
        timeout_ms,
        state: TxnState::Empty,
        partitions: BTreeSet::new(),
        start_timestamp_ms: -1,
        last_update_timestamp_ms: now_ms,
    }
}

/// InitProducerId on an idle id: the next epoch of the same producer id. `last_epoch` is the
/// epoch a KIP-360 retry may still present (the current one), or -1 without an expected epoch.
pub(crate) fn bump_epoch(
    current: &TxnMetadata,
    timeout_ms: i32,
    last_epoch: i16,
    now_ms: i64,
) -> TxnMetadata {
    assert!(current.state.is_idle(), "bump from {:?}", current.state);
    assert!(
        !current.is_epoch_exhausted(),
        "bump from exhausted epoch {}",
        current.producer_epoch
    );
    TxnMetadata {
        previous_producer_id: current.producer_id,
        producer_epoch: current.producer_epoch + 1,
        last_producer_epoch: last_epoch,
        timeout_ms,
        state: TxnState::Empty,
        partitions: BTreeSet::new(),
        start_timestamp_ms: -1,
        last_update_timestamp_ms: update_ms(current, now_ms),
        ..current.clone()
    }
}

/// InitProducerId on an idle id whose epoch is exhausted: a new producer id at epoch 0.
pub(crate) fn rotate_producer_id(
    current: &TxnMetadata,
    producer_id: i64,
    timeout_ms: i32,
    last_epoch: i16,
    now_ms: i64,
) -> TxnMetadata {
    assert!(current.state.is_idle(), "rotate from {:?}", current.state);
    assert!(producer_id >= 0, "fresh producer id {producer_id}");
    assert_ne!(
        producer_id, current.producer_id,
        "a rotation needs a new producer id"
    );
    TxnMetadata {
        producer_id,
        previous_producer_id: current.producer_id,
        producer_epoch: 0,
        last_producer_epoch: last_epoch,
        timeout_ms,
        state: TxnState::Empty,
        partitions: BTreeSet::new(),
        start_timestamp_ms: -1,
        last_update_timestamp_ms: update_ms(current, now_ms),
        ..current.clone()
    }
}

/// A fence of an ongoing transaction (a new producer's InitProducerId, or its timeout): abort
/// it at the next epoch, so that the producer at the current epoch can do nothing more and the
/// abort markers carry the new epoch (Kafka: `prepareFenceProducerEpoch` then
/// `prepareAbortOrCommit(PrepareAbort)`; only the PrepareAbort is written).
pub(crate) fn fence_and_abort(current: &TxnMetadata, now_ms: i64) -> TxnMetadata {
    assert_eq!(
        current.state,
        TxnState::Ongoing,
        "fence from {:?}",
        current.state
    );
    // Ongoing epochs are handed out by InitProducerId, so at most PRODUCER_EPOCH_EXHAUSTED.
    assert!(
        current.producer_epoch < i16::MAX,
        "fence would overflow the epoch"
    );
    TxnMetadata {
        producer_epoch: current.producer_epoch + 1,
        last_producer_epoch: NO_PRODUCER_EPOCH,
        state: TxnState::PrepareAbort,
        last_update_timestamp_ms: update_ms(current, now_ms),
        ..current.clone()
    }
}

/// AddPartitionsToTxn: Ongoing with the union; starting from idle starts the clock.
pub(crate) fn add_partitions(
    current: &TxnMetadata,
    added: &[TopicPartition],
    now_ms: i64,
) -> TxnMetadata {
    assert!(
        !added.is_empty(),
        "adding no partitions is not a transition"
    );
    let update_ms = update_ms(current, now_ms);
    let start_timestamp_ms = match current.state {
        TxnState::Ongoing => current.start_timestamp_ms,
        state if state.is_idle() => update_ms,
        state => panic!("add partitions from {state:?}"),
    };
    let mut partitions = current.partitions.clone();
    partitions.extend(added.iter().cloned());
    TxnMetadata {
        state: TxnState::Ongoing,
        partitions,
        start_timestamp_ms,
        last_update_timestamp_ms: update_ms,
        ..current.clone()
    }
}

/// EndTxn on an ongoing transaction: PrepareCommit or PrepareAbort, same producer and epoch.
pub(crate) fn prepare_end(current: &TxnMetadata, commit: bool, now_ms: i64) -> TxnMetadata {
    assert_eq!(
        current.state,
        TxnState::Ongoing,
        "end from {:?}",
        current.state
    );
    let state = if commit {
        TxnState::PrepareCommit
    } else {
        TxnState::PrepareAbort
    };
    TxnMetadata {
        state,
        last_update_timestamp_ms: update_ms(current, now_ms),
        ..current.clone()
    }
}

/// Every marker is durable: Complete*, no partitions.
pub(crate) fn complete(current: &TxnMetadata, now_ms: i64) -> TxnMetadata {
    let state = match current.state {
        TxnState::PrepareCommit => TxnState::CompleteCommit,
        TxnState::PrepareAbort => TxnState::CompleteAbort,
        state => panic!("complete from {state:?}"),
    };
    TxnMetadata {
        state,
        partitions: BTreeSet::new(),
        last_update_timestamp_ms: update_ms(current, now_ms),
        ..current.clone()
    }
}

/// Expiry of an idle id: the target of a tombstone.
pub(crate) fn dead(current: &TxnMetadata) -> TxnMetadata {
    assert!(current.state.is_idle(), "expire from {:?}", current.state);
    TxnMetadata {
        state: TxnState::Dead,
        ..current.clone()
    }
}

/// Kafka's `validPreviousStates`: may `to` follow `from`?
pub fn is_valid_step(from: TxnState, to: TxnState) -> bool {
    use TxnState::*;
    match to {
        Empty => matches!(from, Empty | CompleteCommit | CompleteAbort),
        Ongoing => matches!(from, Ongoing | Empty | CompleteCommit | CompleteAbort),
        PrepareCommit => from == Ongoing,
        // Ongoing → PrepareAbort covers Kafka's Ongoing → PrepareEpochFence → PrepareAbort.
        PrepareAbort => matches!(from, Ongoing | PrepareEpochFence),
        CompleteCommit => from == PrepareCommit,
        CompleteAbort => from == PrepareAbort,
        Dead => matches!(from, Empty | CompleteCommit | CompleteAbort),
        PrepareEpochFence => from == Ongoing,
    }
}

/// Panics unless `target` may replace `current` (None: a new id), the checks of Kafka's
/// `completeTransitionTo` plus ours: a valid step, epochs never go back for a producer id, a
/// new producer id starts at epoch 0, timestamps never go back, partitions only grow while a
/// transaction is open and do not change while it ends.
pub(crate) fn assert_applicable(current: Option<&TxnMetadata>, target: &TxnMetadata) {
    let id = &target.transactional_id;
    if target.state == TxnState::Dead {
        assert!(
            target.partitions.is_empty(),
            "{id}: tombstone with partitions"
        );
    } else {
        target.assert_invariants();
    }
    let Some(current) = current else {
        assert_eq!(target.state, TxnState::Empty, "{id}: a new id starts Empty");
        assert_eq!(target.producer_epoch, 0, "{id}: a new id starts at epoch 0");
        return;
    };
    assert_eq!(
        &current.transactional_id, id,
        "transition applied to another id"
    );
    assert!(
        is_valid_step(current.state, target.state),
        "{id}: {:?} → {:?}",
        current.state,
        target.state
    );
    if target.producer_id == current.producer_id {
        assert!(
            target.producer_epoch >= current.producer_epoch,
            "{id}: epoch goes back"
        );
        assert!(
            target.producer_epoch - current.producer_epoch <= 1,
            "{id}: epoch jumps"
        );
    } else {
        assert_eq!(
            target.state,
            TxnState::Empty,
            "{id}: producer id changes only on init"
        );
        assert_eq!(
            target.producer_epoch, 0,
            "{id}: a new producer id starts at epoch 0"
        );
        assert_eq!(
            target.previous_producer_id, current.producer_id,
            "{id}: previous id"
        );
    }
    assert!(
        target.last_update_timestamp_ms >= current.last_update_timestamp_ms,
        "{id}: last update goes back"
    );
    match target.state {
        TxnState::Ongoing => {
            assert!(
                current.partitions.is_subset(&target.partitions),
                "{id}: partitions lost"
            );
            assert_eq!(
                target.producer_epoch, current.producer_epoch,
                "{id}: epoch on add"
            );
        }
        TxnState::PrepareCommit | TxnState::PrepareAbort => {
            assert_eq!(
                current.partitions, target.partitions,
                "{id}: partitions on end"
            );
            assert_eq!(
                current.start_timestamp_ms, target.start_timestamp_ms,
                "{id}: start"
            );
        }
        TxnState::CompleteCommit | TxnState::CompleteAbort => {
            assert_eq!(
                target.producer_epoch, current.producer_epoch,
                "{id}: epoch on complete"
            );
        }
        _ => {}
    }
}
