//! Unit tests, in the spirit of Kafka's `TransactionCoordinatorTest` and
//! `TransactionMetadataTest`: one clock (`now_ms`) driven by hand.

#![allow(clippy::unwrap_used)]

mod coordinator_end;
mod coordinator_init;
mod coordinator_partitions;
mod coordinator_timers;
mod partition;
mod records;

use crate::{
    EndOutcome, InitOutcome, MarkerJob, TopicPartition, Transition, TxnConfig, TxnCoordinator,
    TxnMetadata, TxnState,
};

pub(super) const ID: &str = "txn-a";
pub(super) const TIMEOUT_MS: i32 = 60_000;
pub(super) const PID: i64 = 1000;

pub(super) fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, partition)
}

pub(super) fn coordinator() -> TxnCoordinator {
    TxnCoordinator::new(TxnConfig::default())
}

/// Persists `transition` and applies it; returns the markers `complete` gave.
pub(super) fn persist(c: &mut TxnCoordinator, transition: &Transition) -> Option<MarkerJob> {
    assert_eq!(c.pending(&transition.transactional_id), Some(transition));
    c.complete(&transition.transactional_id, true)
}

/// A coordinator with `ID` initialised at `PID`, epoch 0, at time 0.
pub(super) fn initialised() -> TxnCoordinator {
    let mut c = coordinator();
    let outcome = c
        .init_producer_id(ID, TIMEOUT_MS, None, Some(PID), 0)
        .unwrap();
    let InitOutcome::Persist(t) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(persist(&mut c, &t), None);
    c
}

/// `initialised()` with an ongoing transaction over `foo-0` and `bar-1`, started at 10.
pub(super) fn ongoing() -> TxnCoordinator {
    let mut c = initialised();
    let t = c
        .add_partitions(ID, PID, 0, &[tp("foo", 0), tp("bar", 1)], 10)
        .unwrap()
        .unwrap();
    assert_eq!(persist(&mut c, &t), None);
    c
}

/// `ongoing()` ended (commit or abort) and durable: Prepare*, markers owed.
pub(super) fn prepared(commit: bool) -> (TxnCoordinator, MarkerJob) {
    let mut c = ongoing();
    let EndOutcome::Persist(t) = c.end_txn(ID, PID, 0, commit, 20).unwrap() else {
        panic!()
    };
    let job = persist(&mut c, &t).unwrap();
    (c, job)
}

/// `prepared(commit)` with its markers written and Complete* durable, at time 30.
pub(super) fn completed(commit: bool) -> TxnCoordinator {
    let (mut c, job) = prepared(commit);
    let t = c
        .markers_written(ID, job.producer_id, job.producer_epoch, 30)
        .unwrap();
    assert_eq!(persist(&mut c, &t), None);
    c
}

pub(super) fn current(c: &TxnCoordinator) -> &TxnMetadata {
    c.describe(ID).unwrap()
}

pub(super) fn state(c: &TxnCoordinator) -> TxnState {
    current(c).state
}
