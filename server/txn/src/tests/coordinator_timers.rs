//! Timeouts, id expiry, load, unload and listing.

use super::*;
use crate::TxnError;

#[test]
fn an_ongoing_transaction_times_out_strictly_after_its_timeout() {
    let mut c = ongoing(); // started at 10
    let deadline_ms = 10 + i64::from(TIMEOUT_MS) + 1;
    assert_eq!(c.next_deadline_ms(), Some(deadline_ms));
    assert!(c.timed_out(deadline_ms - 1).is_empty());
    let aborts = c.timed_out(deadline_ms);
    assert_eq!(aborts.len(), 1);
    let t = &aborts[0];
    assert_eq!(t.target.state, TxnState::PrepareAbort);
    assert_eq!(t.target.producer_epoch, 1, "the producer is fenced");
    assert_eq!(t.target.last_update_timestamp_ms, deadline_ms);
    assert!(c.timed_out(deadline_ms + 5).is_empty(), "already pending");
    assert_eq!(c.next_deadline_ms(), None, "nothing to time while pending");
    let job = persist(&mut c, t).unwrap();
    assert!(!job.commit);
    assert_eq!(
        c.end_txn(ID, PID, 0, true, deadline_ms),
        Err(TxnError::ProducerFenced)
    );
}

#[test]
fn a_failed_timeout_abort_is_retried_at_the_same_epoch() {
    let mut c = ongoing();
    let deadline_ms = 10 + i64::from(TIMEOUT_MS) + 1;
    assert_eq!(c.timed_out(deadline_ms).len(), 1);
    c.complete(ID, false);
    let again = c.timed_out(deadline_ms + 1);
    assert_eq!(again[0].target.producer_epoch, 1);
}

#[test]
fn only_ongoing_transactions_time_out() {
    let far_ms = 10 * i64::from(TIMEOUT_MS);
    let (mut c, _) = prepared(true);
    assert!(c.timed_out(far_ms).is_empty());
    assert!(initialised().timed_out(far_ms).is_empty());
    assert!(completed(false).timed_out(far_ms).is_empty());
}

#[test]
fn idle_ids_expire_with_a_tombstone() {
    for mut c in [initialised(), completed(true), completed(false)] {
        let last_ms = current(&c).last_update_timestamp_ms;
        let expiry_ms = last_ms + c.config().id_expiration_ms;
        assert_eq!(c.next_deadline_ms(), Some(expiry_ms));
        assert!(c.expired_ids(expiry_ms - 1).is_empty());
        let dead = c.expired_ids(expiry_ms);
        assert_eq!(dead.len(), 1);
        assert!(dead[0].is_tombstone());
        assert_eq!(
            c.init_producer_id(ID, TIMEOUT_MS, None, None, expiry_ms),
            Err(TxnError::ConcurrentTransactions)
        );
        assert_eq!(persist(&mut c, &dead[0]), None);
        assert!(c.describe(ID).is_none());
    }
}

#[test]
fn a_failed_tombstone_keeps_the_id() {
    let mut c = initialised();
    let expiry_ms = c.config().id_expiration_ms;
    assert_eq!(c.expired_ids(expiry_ms).len(), 1);
    c.complete(ID, false);
    assert!(c.describe(ID).is_some());
}

#[test]
fn open_transactions_never_expire() {
    let far_ms = 100 * TxnConfig::default().id_expiration_ms;
    let mut c = ongoing();
    c.load(ID, Some(current(&c).clone()));
    assert!(c.expired_ids(far_ms).is_empty());
    let (mut c, _) = prepared(false);
    assert!(c.expired_ids(far_ms).is_empty());
}

#[test]
fn load_replays_in_order_and_tombstones_remove() {
    let (source, _) = prepared(true);
    let prepared_metadata = current(&source).clone();
    let mut c = coordinator();
    let mut first = prepared_metadata.clone();
    first.state = TxnState::Empty;
    first.partitions.clear();
    first.start_timestamp_ms = -1;
    c.load(ID, Some(first));
    c.load(ID, Some(prepared_metadata.clone()));
    assert_eq!(current(&c), &prepared_metadata);
    let jobs = c.markers_pending();
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].commit);
    c.load(ID, None);
    assert!(c.describe(ID).is_none());
    assert!(c.markers_pending().is_empty());
}

#[test]
#[should_panic(expected = "open transaction without partitions")]
fn load_refuses_metadata_that_breaks_the_invariants() {
    let mut c = coordinator();
    let mut m = current(&ongoing()).clone();
    m.partitions.clear();
    c.load(ID, Some(m));
}

#[test]
fn markers_pending_skips_prepare_with_a_pending_completion() {
    let (mut c, job) = prepared(false);
    assert_eq!(c.markers_pending(), vec![job.clone()]);
    let _t = c.markers_written(ID, PID, 0, 30).unwrap();
    assert!(c.markers_pending().is_empty());
}

#[test]
fn unload_drops_ids_and_their_pending_transitions() {
    let mut c = ongoing();
    let InitOutcome::Persist(t) = c
        .init_producer_id("keep", TIMEOUT_MS, None, Some(7), 1)
        .unwrap()
    else {
        panic!()
    };
    persist(&mut c, &t);
    let _t = c.end_txn(ID, PID, 0, true, 20).unwrap();
    c.unload(|id| id == "keep");
    assert!(c.describe(ID).is_none());
    assert_eq!(c.complete(ID, true), None, "a late completion does nothing");
    assert!(c.describe(ID).is_none());
    let ids: Vec<&str> = c.list().map(|m| m.transactional_id.as_str()).collect();
    assert_eq!(ids, vec!["keep"]);
}

#[test]
fn next_deadline_is_the_earliest() {
    let mut c = ongoing();
    assert_eq!(c.next_deadline_ms(), Some(10 + i64::from(TIMEOUT_MS) + 1));
    let InitOutcome::Persist(t) = c
        .init_producer_id("short", 1_000, None, Some(9), 0)
        .unwrap()
    else {
        panic!()
    };
    persist(&mut c, &t);
    let t = c
        .add_partitions("short", 9, 0, &[tp("s", 0)], 5)
        .unwrap()
        .unwrap();
    persist(&mut c, &t);
    assert_eq!(c.next_deadline_ms(), Some(1_006));
    assert_eq!(coordinator().next_deadline_ms(), None);
}

#[test]
fn state_codes_and_names_are_kafkas() {
    let names = [
        "Empty",
        "Ongoing",
        "PrepareCommit",
        "PrepareAbort",
        "CompleteCommit",
        "CompleteAbort",
        "Dead",
        "PrepareEpochFence",
    ];
    for (code, name) in names.iter().enumerate() {
        let state = TxnState::from_code(code as i8).unwrap();
        assert_eq!(state.code(), code as i8);
        assert_eq!(state.name(), *name);
        assert_eq!(TxnState::from_name(name), Some(state));
    }
    assert_eq!(TxnState::from_code(8), None);
    assert_eq!(TxnState::from_code(-1), None);
}

#[test]
fn error_codes_are_kafkas() {
    let codes = [
        (TxnError::NotCoordinator, 16),
        (TxnError::CoordinatorLoadInProgress, 14),
        (TxnError::CoordinatorNotAvailable, 15),
        (TxnError::ConcurrentTransactions, 51),
        (TxnError::InvalidTxnState, 48),
        (TxnError::InvalidProducerIdMapping, 49),
        (TxnError::ProducerFenced, 90),
        (TxnError::InvalidProducerEpoch, 47),
        (TxnError::InvalidTransactionTimeout, 50),
        (TxnError::TransactionalIdNotFound, 105),
        (TxnError::InvalidRequest, 42),
        (TxnError::TransactionAbortable, 120),
    ];
    for (error, code) in codes {
        assert_eq!(error.code(), code, "{error:?}");
    }
}
