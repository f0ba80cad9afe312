//! InitProducerId.

use super::*;
use crate::{TxnError, PRODUCER_EPOCH_EXHAUSTED};

fn init(
    c: &mut TxnCoordinator,
    expected: Option<(i64, i16)>,
    fresh: Option<i64>,
) -> Result<InitOutcome, TxnError> {
    c.init_producer_id(ID, TIMEOUT_MS, expected, fresh, 100)
}

fn persisted_init(
    c: &mut TxnCoordinator,
    expected: Option<(i64, i16)>,
    fresh: Option<i64>,
) -> (i64, i16) {
    let outcome = init(c, expected, fresh).unwrap();
    let InitOutcome::Persist(t) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(t.target.state, TxnState::Empty);
    assert_eq!(persist(c, &t), None);
    (current(c).producer_id, current(c).producer_epoch)
}

/// Sets the epoch of an idle `ID` by loading a record, as a replayed log would.
fn at_epoch(epoch: i16) -> TxnCoordinator {
    let mut c = initialised();
    let mut m = current(&c).clone();
    m.producer_epoch = epoch;
    c.load(ID, Some(m));
    c
}

#[test]
fn timeout_out_of_range_is_invalid_transaction_timeout() {
    let mut c = coordinator();
    let max = c.config().max_timeout_ms;
    for timeout_ms in [0, -1, max + 1, i32::MAX] {
        let result = c.init_producer_id(ID, timeout_ms, None, Some(PID), 0);
        assert_eq!(result, Err(TxnError::InvalidTransactionTimeout));
    }
    assert!(c.init_producer_id(ID, max, None, Some(PID), 0).is_ok());
}

#[test]
fn empty_transactional_id_is_invalid_request() {
    let mut c = coordinator();
    assert_eq!(
        c.init_producer_id("", 1, None, Some(PID), 0),
        Err(TxnError::InvalidRequest)
    );
}

#[test]
fn unknown_id_needs_a_producer_id_then_starts_empty_at_epoch_zero() {
    let mut c = coordinator();
    assert_eq!(init(&mut c, None, None), Ok(InitOutcome::NeedProducerId));
    assert!(c.pending(ID).is_none());
    let InitOutcome::Persist(t) = init(&mut c, None, Some(PID)).unwrap() else {
        panic!()
    };
    assert_eq!(t.transactional_id, ID);
    assert_eq!((t.target.producer_id, t.target.producer_epoch), (PID, 0));
    assert_eq!(t.target.state, TxnState::Empty);
    assert_eq!(t.target.timeout_ms, TIMEOUT_MS);
    assert_eq!(t.target.start_timestamp_ms, -1);
    assert_eq!(t.target.last_update_timestamp_ms, 100);
    // Not current until durable.
    assert!(c.describe(ID).is_none());
    assert_eq!(persist(&mut c, &t), None);
    assert_eq!(current(&c), &t.target);
}

#[test]
fn unknown_id_accepts_any_expected_producer() {
    let mut c = coordinator();
    let (pid, epoch) = persisted_init(&mut c, Some((77, 3)), Some(PID));
    assert_eq!((pid, epoch), (PID, 0));
}

#[test]
fn a_pending_transition_is_concurrent_transactions() {
    let mut c = coordinator();
    let InitOutcome::Persist(_) = init(&mut c, None, Some(PID)).unwrap() else {
        panic!()
    };
    assert_eq!(
        init(&mut c, None, Some(PID + 1)),
        Err(TxnError::ConcurrentTransactions)
    );
    let mut c = initialised();
    let InitOutcome::Persist(_) = init(&mut c, None, None).unwrap() else {
        panic!()
    };
    assert_eq!(
        init(&mut c, None, None),
        Err(TxnError::ConcurrentTransactions)
    );
}

#[test]
fn a_failed_write_changes_nothing() {
    let mut c = coordinator();
    let InitOutcome::Persist(_) = init(&mut c, None, Some(PID)).unwrap() else {
        panic!()
    };
    assert_eq!(c.complete(ID, false), None);
    assert!(c.describe(ID).is_none());
    assert!(c.pending(ID).is_none());
    let mut c = initialised();
    let before = current(&c).clone();
    let InitOutcome::Persist(_) = init(&mut c, None, None).unwrap() else {
        panic!()
    };
    assert_eq!(c.complete(ID, false), None);
    assert_eq!(current(&c), &before);
}

#[test]
fn idle_states_bump_the_epoch_and_keep_the_producer_id() {
    for mut c in [initialised(), completed(true), completed(false)] {
        let epoch = current(&c).producer_epoch;
        let (pid, bumped) = persisted_init(&mut c, None, None);
        assert_eq!((pid, bumped), (PID, epoch + 1));
        let m = current(&c);
        assert_eq!(m.previous_producer_id, PID);
        assert_eq!(m.last_producer_epoch, -1);
        assert!(m.partitions.is_empty());
        assert_eq!(m.start_timestamp_ms, -1);
    }
}

#[test]
fn the_new_timeout_applies_from_init() {
    let mut c = initialised();
    let InitOutcome::Persist(t) = c.init_producer_id(ID, 5_000, None, None, 1).unwrap() else {
        panic!()
    };
    persist(&mut c, &t);
    assert_eq!(current(&c).timeout_ms, 5_000);
}

#[test]
fn exhausted_epoch_rotates_the_producer_id() {
    let mut c = at_epoch(PRODUCER_EPOCH_EXHAUSTED);
    assert_eq!(init(&mut c, None, None), Ok(InitOutcome::NeedProducerId));
    let (pid, epoch) = persisted_init(&mut c, None, Some(PID + 1));
    assert_eq!((pid, epoch), (PID + 1, 0));
    assert_eq!(current(&c).previous_producer_id, PID);
    assert_eq!(current(&c).last_producer_epoch, -1);
}

#[test]
fn one_below_exhausted_still_bumps() {
    let mut c = at_epoch(PRODUCER_EPOCH_EXHAUSTED - 1);
    assert_eq!(
        persisted_init(&mut c, None, None),
        (PID, PRODUCER_EPOCH_EXHAUSTED)
    );
}

#[test]
fn kip360_expected_current_epoch_bumps_and_remembers_it() {
    let mut c = initialised();
    let (pid, epoch) = persisted_init(&mut c, Some((PID, 0)), None);
    assert_eq!((pid, epoch), (PID, 1));
    assert_eq!(current(&c).last_producer_epoch, 0);
}

#[test]
fn kip360_retry_with_the_previous_epoch_is_answered_without_a_write() {
    let mut c = initialised();
    persisted_init(&mut c, Some((PID, 0)), None);
    let outcome = init(&mut c, Some((PID, 0)), None);
    assert_eq!(
        outcome,
        Ok(InitOutcome::Answer {
            producer_id: PID,
            producer_epoch: 1
        })
    );
    assert!(c.pending(ID).is_none());
}

#[test]
fn kip360_other_epochs_and_producers_are_fenced() {
    let mut c = initialised();
    persisted_init(&mut c, Some((PID, 0)), None); // epoch 1, last 0
    persisted_init(&mut c, None, None); // epoch 2, last -1
    for expected in [(PID, 0), (PID, 1), (PID, 3), (PID + 5, 2), (PID, -1)] {
        assert_eq!(
            init(&mut c, Some(expected), None),
            Err(TxnError::ProducerFenced),
            "{expected:?}"
        );
    }
    assert!(c.pending(ID).is_none());
}

#[test]
fn kip360_rotation_retry_with_the_old_producer_is_answered() {
    let mut c = at_epoch(PRODUCER_EPOCH_EXHAUSTED);
    let expected = Some((PID, PRODUCER_EPOCH_EXHAUSTED));
    assert_eq!(
        init(&mut c, expected, None),
        Ok(InitOutcome::NeedProducerId)
    );
    let (pid, epoch) = persisted_init(&mut c, expected, Some(PID + 1));
    assert_eq!((pid, epoch), (PID + 1, 0));
    assert_eq!(current(&c).last_producer_epoch, PRODUCER_EPOCH_EXHAUSTED);
    let retry = init(&mut c, expected, None);
    assert_eq!(
        retry,
        Ok(InitOutcome::Answer {
            producer_id: PID + 1,
            producer_epoch: 0
        })
    );
    // The old producer id with an epoch that is not exhausted is fenced.
    assert_eq!(
        init(&mut c, Some((PID, 3)), None),
        Err(TxnError::ProducerFenced)
    );
}

#[test]
fn prepare_states_are_concurrent_transactions() {
    for commit in [true, false] {
        let (mut c, _) = prepared(commit);
        assert_eq!(
            init(&mut c, None, None),
            Err(TxnError::ConcurrentTransactions)
        );
        assert_eq!(
            init(&mut c, Some((PID, 0)), None),
            Err(TxnError::ConcurrentTransactions)
        );
    }
}

#[test]
fn ongoing_is_fenced_by_an_abort_at_the_next_epoch() {
    let mut c = ongoing();
    let outcome = init(&mut c, None, None).unwrap();
    let InitOutcome::FenceOngoing { fence } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(fence.target.state, TxnState::PrepareAbort);
    assert_eq!(
        (fence.target.producer_id, fence.target.producer_epoch),
        (PID, 1)
    );
    assert_eq!(fence.target.partitions, current(&c).partitions);
    assert_eq!(
        fence.target.timeout_ms, TIMEOUT_MS,
        "the new timeout waits for the retry"
    );
    // The fence is pending: the client's retry is concurrent, the old producer too.
    assert_eq!(
        init(&mut c, None, None),
        Err(TxnError::ConcurrentTransactions)
    );
    let job = persist(&mut c, &fence).unwrap();
    assert!(!job.commit);
    assert_eq!((job.producer_id, job.producer_epoch), (PID, 1));
    assert_eq!(job.partitions, vec![tp("bar", 1), tp("foo", 0)]);
    // The old producer is fenced everywhere.
    assert_eq!(
        c.add_partitions(ID, PID, 0, &[tp("x", 0)], 1),
        Err(TxnError::ProducerFenced)
    );
    assert_eq!(
        c.end_txn(ID, PID, 0, true, 1),
        Err(TxnError::ProducerFenced)
    );
    // Markers, then the retry bumps again.
    assert_eq!(
        init(&mut c, None, None),
        Err(TxnError::ConcurrentTransactions)
    );
    let t = c.markers_written(ID, PID, 1, 200).unwrap();
    persist(&mut c, &t);
    assert_eq!(state(&c), TxnState::CompleteAbort);
    assert_eq!(persisted_init(&mut c, None, None), (PID, 2));
}

#[test]
fn ongoing_with_an_expected_producer_is_fenced_too() {
    let mut c = ongoing();
    let outcome = init(&mut c, Some((PID, 0)), None).unwrap();
    assert!(
        matches!(outcome, InitOutcome::FenceOngoing { .. }),
        "{outcome:?}"
    );
    let mut c = ongoing();
    assert_eq!(
        init(&mut c, Some((PID + 9, 0)), None),
        Err(TxnError::ProducerFenced)
    );
}

#[test]
fn a_failed_fence_leaves_the_transaction_ongoing_and_is_done_again() {
    let mut c = ongoing();
    let InitOutcome::FenceOngoing { .. } = init(&mut c, None, None).unwrap() else {
        panic!()
    };
    assert_eq!(c.complete(ID, false), None);
    assert_eq!(state(&c), TxnState::Ongoing);
    assert_eq!(current(&c).producer_epoch, 0);
    let InitOutcome::FenceOngoing { fence } = init(&mut c, None, None).unwrap() else {
        panic!()
    };
    assert_eq!(
        fence.target.producer_epoch, 1,
        "the epoch is bumped once, not twice"
    );
}

#[test]
fn fencing_at_the_exhausted_epoch_uses_the_reserved_one_then_rotates() {
    let mut c = at_epoch(PRODUCER_EPOCH_EXHAUSTED);
    // A transaction at the exhausted epoch (reachable via a loaded record).
    let t = c
        .add_partitions(ID, PID, PRODUCER_EPOCH_EXHAUSTED, &[tp("t", 0)], 5)
        .unwrap();
    persist(&mut c, &t.unwrap());
    let InitOutcome::FenceOngoing { fence } = init(&mut c, None, None).unwrap() else {
        panic!()
    };
    assert_eq!(fence.target.producer_epoch, i16::MAX);
    let job = persist(&mut c, &fence).unwrap();
    let t = c.markers_written(ID, PID, job.producer_epoch, 150).unwrap();
    persist(&mut c, &t);
    assert_eq!(init(&mut c, None, None), Ok(InitOutcome::NeedProducerId));
    assert_eq!(persisted_init(&mut c, None, Some(PID + 1)), (PID + 1, 0));
}

#[test]
fn timestamps_never_go_back() {
    let mut c = initialised();
    let InitOutcome::Persist(t) = c.init_producer_id(ID, TIMEOUT_MS, None, None, -50).unwrap()
    else {
        panic!()
    };
    assert_eq!(t.target.last_update_timestamp_ms, 0);
}
