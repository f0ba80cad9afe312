//! AddPartitionsToTxn and its KIP-890 verify-only form.

use super::*;
use crate::TxnError;

#[test]
fn unknown_id_or_producer_is_invalid_producer_id_mapping() {
    let mut c = initialised();
    let parts = [tp("foo", 0)];
    assert_eq!(
        c.add_partitions("other", PID, 0, &parts, 1),
        Err(TxnError::InvalidProducerIdMapping)
    );
    assert_eq!(
        c.add_partitions(ID, PID + 1, 0, &parts, 1),
        Err(TxnError::InvalidProducerIdMapping)
    );
    assert_eq!(
        c.add_partitions("", PID, 0, &parts, 1),
        Err(TxnError::InvalidRequest)
    );
}

#[test]
fn another_epoch_is_producer_fenced() {
    let mut c = initialised();
    let parts = [tp("foo", 0)];
    assert_eq!(
        c.add_partitions(ID, PID, 1, &parts, 1),
        Err(TxnError::ProducerFenced)
    );
    assert_eq!(
        c.add_partitions(ID, PID, -1, &parts, 1),
        Err(TxnError::ProducerFenced)
    );
}

#[test]
fn from_idle_starts_an_ongoing_transaction() {
    for mut c in [initialised(), completed(true), completed(false)] {
        let (epoch, before) = (current(&c).producer_epoch, state(&c));
        let t = c
            .add_partitions(ID, PID, epoch, &[tp("foo", 0)], 40)
            .unwrap()
            .unwrap();
        assert_eq!(t.target.state, TxnState::Ongoing);
        assert_eq!(t.target.start_timestamp_ms, 40);
        assert_eq!(t.target.last_update_timestamp_ms, 40);
        assert_eq!(t.target.partitions.len(), 1);
        assert_eq!(state(&c), before, "not before it is durable");
        persist(&mut c, &t);
        assert_eq!(state(&c), TxnState::Ongoing);
    }
}

#[test]
fn on_ongoing_adds_the_union_and_keeps_the_start() {
    let mut c = ongoing();
    let t = c
        .add_partitions(ID, PID, 0, &[tp("foo", 0), tp("baz", 2)], 50)
        .unwrap()
        .unwrap();
    assert_eq!(t.target.start_timestamp_ms, 10);
    let expected: Vec<_> = [tp("bar", 1), tp("baz", 2), tp("foo", 0)].into();
    assert_eq!(
        t.target.partitions.iter().cloned().collect::<Vec<_>>(),
        expected
    );
    persist(&mut c, &t);
    assert_eq!(current(&c).partitions.len(), 3);
}

#[test]
fn partitions_already_in_need_no_write() {
    let mut c = ongoing();
    assert_eq!(c.add_partitions(ID, PID, 0, &[tp("bar", 1)], 50), Ok(None));
    assert_eq!(c.add_partitions(ID, PID, 0, &[], 50), Ok(None));
    assert!(c.pending(ID).is_none());
}

#[test]
fn pending_and_prepare_are_concurrent_transactions() {
    let mut c = ongoing();
    let _t = c
        .add_partitions(ID, PID, 0, &[tp("x", 0)], 50)
        .unwrap()
        .unwrap();
    assert_eq!(
        c.add_partitions(ID, PID, 0, &[tp("y", 0)], 50),
        Err(TxnError::ConcurrentTransactions)
    );
    for commit in [true, false] {
        let (mut c, _) = prepared(commit);
        assert_eq!(
            c.add_partitions(ID, PID, 0, &[tp("y", 0)], 50),
            Err(TxnError::ConcurrentTransactions)
        );
        // Even partitions already in: the transaction is ending.
        assert_eq!(
            c.add_partitions(ID, PID, 0, &[tp("foo", 0)], 50),
            Err(TxnError::ConcurrentTransactions)
        );
    }
}

#[test]
fn a_failed_add_leaves_the_partitions_out() {
    let mut c = ongoing();
    let _t = c
        .add_partitions(ID, PID, 0, &[tp("x", 0)], 50)
        .unwrap()
        .unwrap();
    c.complete(ID, false);
    assert!(!current(&c).partitions.contains(&tp("x", 0)));
}

#[test]
fn verify_reports_each_partition() {
    let c = ongoing();
    let result = c.verify_partitions(ID, PID, 0, &[tp("foo", 0), tp("nope", 0)]);
    assert_eq!(
        result,
        vec![
            (tp("foo", 0), Ok(())),
            (tp("nope", 0), Err(TxnError::InvalidTxnState))
        ]
    );
}

#[test]
fn verify_checks_producer_epoch_and_state() {
    let c = ongoing();
    let parts = [tp("foo", 0)];
    let one = |r: Vec<(TopicPartition, Result<(), TxnError>)>| r[0].1;
    assert_eq!(
        one(c.verify_partitions("zz", PID, 0, &parts)),
        Err(TxnError::InvalidProducerIdMapping)
    );
    assert_eq!(
        one(c.verify_partitions(ID, PID + 1, 0, &parts)),
        Err(TxnError::InvalidProducerIdMapping)
    );
    assert_eq!(
        one(c.verify_partitions(ID, PID, 1, &parts)),
        Err(TxnError::ProducerFenced)
    );
    let (c, _) = prepared(true);
    assert_eq!(
        one(c.verify_partitions(ID, PID, 0, &parts)),
        Err(TxnError::ConcurrentTransactions)
    );
    let c = completed(true);
    assert_eq!(
        one(c.verify_partitions(ID, PID, 0, &parts)),
        Err(TxnError::InvalidTxnState)
    );
}

#[test]
fn verify_counts_a_partition_only_once_its_add_is_durable() {
    let mut c = ongoing();
    let _t = c
        .add_partitions(ID, PID, 0, &[tp("x", 0)], 50)
        .unwrap()
        .unwrap();
    assert_eq!(
        c.verify_partitions(ID, PID, 0, &[tp("x", 0)])[0].1,
        Err(TxnError::InvalidTxnState)
    );
    c.complete(ID, true);
    assert_eq!(c.verify_partitions(ID, PID, 0, &[tp("x", 0)])[0].1, Ok(()));
}
