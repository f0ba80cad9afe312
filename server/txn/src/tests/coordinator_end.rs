//! EndTxn, markers and Complete*.

use super::*;
use crate::TxnError;

#[test]
fn unknown_id_producer_or_epoch_is_refused() {
    let mut c = ongoing();
    assert_eq!(
        c.end_txn("zz", PID, 0, true, 1),
        Err(TxnError::InvalidProducerIdMapping)
    );
    assert_eq!(
        c.end_txn(ID, PID + 1, 0, true, 1),
        Err(TxnError::InvalidProducerIdMapping)
    );
    assert_eq!(
        c.end_txn(ID, PID, 1, true, 1),
        Err(TxnError::ProducerFenced)
    );
    assert!(c.pending(ID).is_none());
}

#[test]
fn ongoing_moves_to_prepare_and_hands_out_markers_once_durable() {
    for commit in [true, false] {
        let mut c = ongoing();
        let EndOutcome::Persist(t) = c.end_txn(ID, PID, 0, commit, 20).unwrap() else {
            panic!()
        };
        let want = if commit {
            TxnState::PrepareCommit
        } else {
            TxnState::PrepareAbort
        };
        assert_eq!(t.target.state, want);
        assert_eq!(t.target.partitions, current(&c).partitions);
        assert_eq!(t.target.producer_epoch, 0);
        assert_eq!(state(&c), TxnState::Ongoing, "not before it is durable");
        let job = persist(&mut c, &t).unwrap();
        assert_eq!(job.commit, commit);
        assert_eq!((job.producer_id, job.producer_epoch), (PID, 0));
        assert_eq!(job.partitions, vec![tp("bar", 1), tp("foo", 0)]);
        assert_eq!(state(&c), want);
    }
}

#[test]
fn markers_written_completes_and_clears_partitions() {
    for commit in [true, false] {
        let (mut c, job) = prepared(commit);
        let t = c.markers_written(ID, PID, job.producer_epoch, 30).unwrap();
        let want = if commit {
            TxnState::CompleteCommit
        } else {
            TxnState::CompleteAbort
        };
        assert_eq!(t.target.state, want);
        assert!(t.target.partitions.is_empty());
        assert_eq!(t.target.start_timestamp_ms, 10);
        assert_eq!(
            c.markers_written(ID, PID, 0, 31),
            None,
            "its completion is pending"
        );
        assert_eq!(persist(&mut c, &t), None);
        assert_eq!(state(&c), want);
        assert_eq!(c.markers_written(ID, PID, 0, 31), None, "already complete");
    }
}

#[test]
fn a_failed_complete_write_is_asked_again() {
    let (mut c, job) = prepared(true);
    let _t = c.markers_written(ID, PID, job.producer_epoch, 30).unwrap();
    c.complete(ID, false);
    assert_eq!(state(&c), TxnState::PrepareCommit);
    assert!(c.markers_written(ID, PID, job.producer_epoch, 31).is_some());
}

#[test]
fn markers_of_another_epoch_are_ignored() {
    let (mut c, _) = prepared(false);
    assert_eq!(c.markers_written(ID, PID, 5, 30), None);
    assert_eq!(c.markers_written(ID, PID + 1, 0, 30), None);
    assert_eq!(c.markers_written("zz", PID, 0, 30), None);
}

#[test]
fn a_retried_end_of_a_complete_transaction_is_already_done() {
    let mut c = completed(true);
    assert_eq!(c.end_txn(ID, PID, 0, true, 40), Ok(EndOutcome::AlreadyDone));
    assert_eq!(
        c.end_txn(ID, PID, 0, false, 40),
        Err(TxnError::InvalidTxnState)
    );
    let mut c = completed(false);
    assert_eq!(
        c.end_txn(ID, PID, 0, false, 40),
        Ok(EndOutcome::AlreadyDone)
    );
    assert_eq!(
        c.end_txn(ID, PID, 0, true, 40),
        Err(TxnError::InvalidTxnState)
    );
}

#[test]
fn a_retried_end_while_preparing_is_concurrent_and_the_other_end_invalid() {
    let (mut c, _) = prepared(true);
    assert_eq!(
        c.end_txn(ID, PID, 0, true, 40),
        Err(TxnError::ConcurrentTransactions)
    );
    assert_eq!(
        c.end_txn(ID, PID, 0, false, 40),
        Err(TxnError::InvalidTxnState)
    );
    let (mut c, _) = prepared(false);
    assert_eq!(
        c.end_txn(ID, PID, 0, false, 40),
        Err(TxnError::ConcurrentTransactions)
    );
    assert_eq!(
        c.end_txn(ID, PID, 0, true, 40),
        Err(TxnError::InvalidTxnState)
    );
}

#[test]
fn ending_an_empty_transaction_is_invalid_txn_state() {
    let mut c = initialised();
    assert_eq!(
        c.end_txn(ID, PID, 0, true, 40),
        Err(TxnError::InvalidTxnState)
    );
    assert_eq!(
        c.end_txn(ID, PID, 0, false, 40),
        Err(TxnError::InvalidTxnState)
    );
}

#[test]
fn a_pending_fence_makes_the_end_concurrent_then_fenced() {
    let mut c = ongoing();
    let InitOutcome::FenceOngoing { fence } =
        c.init_producer_id(ID, TIMEOUT_MS, None, None, 15).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        c.end_txn(ID, PID, 0, true, 16),
        Err(TxnError::ConcurrentTransactions)
    );
    persist(&mut c, &fence);
    assert_eq!(
        c.end_txn(ID, PID, 0, true, 17),
        Err(TxnError::ProducerFenced)
    );
}

#[test]
fn a_pending_add_makes_the_end_concurrent() {
    let mut c = ongoing();
    let _t = c
        .add_partitions(ID, PID, 0, &[tp("x", 0)], 15)
        .unwrap()
        .unwrap();
    assert_eq!(
        c.end_txn(ID, PID, 0, true, 16),
        Err(TxnError::ConcurrentTransactions)
    );
}

#[test]
fn complete_without_a_pending_transition_does_nothing() {
    let mut c = ongoing();
    let before = current(&c).clone();
    assert_eq!(c.complete(ID, true), None);
    assert_eq!(c.complete("zz", true), None);
    assert_eq!(current(&c), &before);
}

#[test]
fn a_job_of_the_previous_transaction_at_the_same_epoch_is_stale() {
    // Transactions V1: one producer id and epoch runs one transaction after another.
    let (mut c, old_job) = prepared(true);
    assert!(c.is_marker_job_current(&old_job));
    let t = c.markers_written(ID, PID, 0, 30).unwrap();
    persist(&mut c, &t);
    assert!(!c.is_marker_job_current(&old_job), "complete");
    let t = c
        .add_partitions(ID, PID, 0, &[tp("other", 0)], 40)
        .unwrap()
        .unwrap();
    persist(&mut c, &t);
    assert!(!c.is_marker_job_current(&old_job), "ongoing");
    let EndOutcome::Persist(t) = c.end_txn(ID, PID, 0, true, 50).unwrap() else {
        panic!()
    };
    let new_job = persist(&mut c, &t).unwrap();
    assert!(c.is_marker_job_current(&new_job));
    assert!(
        !c.is_marker_job_current(&old_job),
        "same producer, epoch and result"
    );
}
