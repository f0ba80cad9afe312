//! Transactional offsets in the pure coordinator: TxnOffsetCommit's checks, pending offsets
//! invisible until their transaction commits, the ordering against plain commits (the later
//! record wins), idempotent completion, and what group/offset deletion and expiry do with them.

use kafka_protocol::ResponseError;

use super::harness::*;
use crate::group::heartbeat::LeavingMember;
use crate::group::offsets::FetchedOffset;
use crate::group::txn_offsets::TxnEnd;

fn fetch(h: &Harness, group: &str, partition: i32, require_stable: bool) -> FetchedOffset {
    let topics = vec![("t".to_string(), vec![partition])];
    let rows = h.coord.fetch_offsets(group, Some(&topics), require_stable);
    rows.expect("fetch").remove(0)
}

fn offset(h: &Harness, group: &str, partition: i32) -> i64 {
    fetch(h, group, partition, false).offset
}

fn errors(plan: &crate::group::offsets::CommitPlan) -> Vec<Option<ResponseError>> {
    plan.results.iter().map(|r| r.2).collect()
}

/// Two group ids that share one `__consumer_offsets` partition.
fn groups_on_one_partition(h: &Harness) -> (String, String) {
    let first = "g0".to_string();
    let p = h.coord.partition_of(&first);
    let second = (1..10_000)
        .map(|i| format!("g{i}"))
        .find(|g| h.coord.partition_of(g) == p)
        .expect("some group id shares the partition");
    (first, second)
}

#[test]
fn pending_offsets_are_invisible_until_their_transaction_commits() {
    let mut h = Harness::new();
    let plan = h.txn_commit("g", "", -1, 1, &[("t", 0, 10)]);
    assert_eq!(errors(&plan), vec![None]);
    assert_eq!(plan.records.len(), 1);
    assert_eq!(offset(&h, "g", 0), -1, "pending: not visible");
    assert_eq!(
        h.coord.fetch_offsets("g", None, false).expect("all"),
        vec![]
    );
    let unstable = fetch(&h, "g", 0, true);
    assert_eq!(unstable.error, Some(ResponseError::UnstableOffsetCommit));
    assert_eq!(unstable.offset, -1);
    assert_eq!(
        fetch(&h, "g", 1, true).error,
        None,
        "other partitions are stable"
    );

    let p = h.coord.partition_of("g");
    assert_eq!(h.end_txn(p, 1, true), TxnEnd::Applied { groups: 1 });
    assert_eq!(offset(&h, "g", 0), 10);
    let stable = fetch(&h, "g", 0, true);
    assert_eq!(stable.error, None);
    assert_eq!(stable.offset, 10);
    assert_eq!(stable.metadata, "meta-10");
    assert!(h.coord.open_txn_producers(p).is_empty());
}

#[test]
fn abort_drops_pending_offsets_and_keeps_the_committed_one() {
    let mut h = Harness::new();
    h.commit("g", "", -1, &[("t", 0, 5)]);
    h.txn_commit("g", "", -1, 1, &[("t", 0, 10), ("t", 1, 11)]);
    let p = h.coord.partition_of("g");
    assert_eq!(h.end_txn(p, 1, false), TxnEnd::Applied { groups: 1 });
    assert_eq!(offset(&h, "g", 0), 5);
    assert_eq!(offset(&h, "g", 1), -1);
    assert_eq!(fetch(&h, "g", 0, true).error, None);
    // A commit marker for the aborted transaction (a confused retry) changes nothing.
    assert_eq!(h.end_txn(p, 1, true), TxnEnd::Applied { groups: 0 });
    assert_eq!(offset(&h, "g", 1), -1);
}

#[test]
fn a_plain_commit_after_the_transactional_one_wins() {
    let mut h = Harness::new();
    h.txn_commit("g", "", -1, 1, &[("t", 0, 10)]);
    h.commit("g", "", -1, &[("t", 0, 20)]);
    assert_eq!(offset(&h, "g", 0), 20, "plain commits are visible at once");
    assert_eq!(
        fetch(&h, "g", 0, true).error,
        Some(ResponseError::UnstableOffsetCommit)
    );
    let p = h.coord.partition_of("g");
    h.end_txn(p, 1, true);
    assert_eq!(
        offset(&h, "g", 0),
        20,
        "the transaction's record is the older one"
    );
}

#[test]
fn a_plain_commit_before_the_transactional_one_loses() {
    let mut h = Harness::new();
    h.commit("g", "", -1, &[("t", 0, 5)]);
    h.txn_commit("g", "", -1, 1, &[("t", 0, 10)]);
    assert_eq!(offset(&h, "g", 0), 5);
    let p = h.coord.partition_of("g");
    h.end_txn(p, 1, true);
    assert_eq!(offset(&h, "g", 0), 10);
}

#[test]
fn completion_is_idempotent() {
    let mut h = Harness::new();
    h.txn_commit("g", "", -1, 1, &[("t", 0, 10)]);
    let p = h.coord.partition_of("g");
    assert_eq!(h.end_txn(p, 1, true), TxnEnd::Applied { groups: 1 });
    h.commit("g", "", -1, &[("t", 0, 30)]);
    assert_eq!(h.end_txn(p, 1, true), TxnEnd::Applied { groups: 0 });
    assert_eq!(h.end_txn(p, 1, false), TxnEnd::Applied { groups: 0 });
    assert_eq!(
        offset(&h, "g", 0),
        30,
        "a retried marker does not bring 10 back"
    );
}

#[test]
fn several_producers_and_groups_end_independently() {
    let mut h = Harness::new();
    let (a, b) = groups_on_one_partition(&h);
    let p = h.coord.partition_of(&a);
    h.txn_commit(&a, "", -1, 1, &[("t", 0, 10)]);
    h.txn_commit(&a, "", -1, 2, &[("t", 0, 20), ("t", 1, 21)]);
    h.txn_commit(&b, "", -1, 1, &[("t", 0, 100)]);
    h.txn_commit("elsewhere", "", -1, 1, &[("t", 0, 7)]);
    assert_eq!(h.coord.open_txn_producers(p), vec![1, 2]);

    // Producer 2's record is the later one: it wins whatever order the markers come in.
    assert_eq!(h.end_txn(p, 2, true), TxnEnd::Applied { groups: 1 });
    assert_eq!((offset(&h, &a, 0), offset(&h, &a, 1)), (20, 21));
    assert_eq!(h.end_txn(p, 1, true), TxnEnd::Applied { groups: 2 });
    assert_eq!(offset(&h, &a, 0), 20);
    assert_eq!(
        offset(&h, &b, 0),
        100,
        "one marker ends the producer in every group"
    );
    // The same producer id in another offsets partition is another marker.
    assert_eq!(offset(&h, "elsewhere", 0), -1);
    let other = h.coord.partition_of("elsewhere");
    assert_ne!(other, p);
    h.end_txn(other, 1, true);
    assert_eq!(offset(&h, "elsewhere", 0), 7);
}

#[test]
fn txn_commit_checks_match_kafka() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    let e = |plan: crate::group::offsets::CommitPlan| plan.results[0].2;
    assert_eq!(
        e(h.txn_commit("nogroup", "m", 3, 1, &[("t", 0, 1)])),
        Some(ResponseError::IllegalGeneration)
    );
    assert!(h.coord.find_group("nogroup").is_none());
    assert_eq!(
        e(h.txn_commit("g", "ghost", generation, 1, &[("t", 0, 1)])),
        Some(ResponseError::UnknownMemberId)
    );
    assert_eq!(
        e(h.txn_commit("g", &a.0, generation + 1, 1, &[("t", 0, 1)])),
        Some(ResponseError::IllegalGeneration)
    );
    assert_eq!(
        e(h.txn_commit("g", &a.0, generation, 1, &[("t", 0, 1)])),
        None
    );
    // v0-v2 carry no member fields: accepted even though the group has members.
    assert_eq!(e(h.txn_commit("g", "", -1, 2, &[("t", 1, 1)])), None);
    // An unknown simple group is created by a generation -1 commit.
    assert_eq!(e(h.txn_commit("simple", "", -1, 3, &[("t", 0, 1)])), None);
    assert!(h.coord.find_group("simple").is_some());

    // A rebalance in progress does not refuse it (it does refuse OffsetCommit).
    let b = h.join_new("g", &["range"]);
    let crate::group::join::JoinOutcome::Parked(ta) = h.join(join_req("g", &a.0, &["range"]))
    else {
        panic!("a rejoin parks")
    };
    assert!(h.has_reply(ta) && h.has_reply(b.1));
    let next = generation + 1;
    assert_eq!(
        h.commit("g", &a.0, next, &[("t", 0, 6)]).results[0].2,
        Some(ResponseError::RebalanceInProgress)
    );
    assert_eq!(e(h.txn_commit("g", &a.0, next, 1, &[("t", 0, 6)])), None);

    // Oversized metadata is refused per partition.
    let mut req = crate::group::txn_offsets::TxnCommitRequest {
        transactional_id: "tx".into(),
        producer: producer(4),
        commit: commit_req("simple", "", -1, &[("t", 0, 1), ("t", 1, 1)]),
    };
    req.commit.entries[0].metadata = Some("x".repeat(5000));
    let plan = h.coord.prepare_txn_commit(&req, h.now_ms);
    assert_eq!(
        errors(&plan),
        vec![Some(ResponseError::OffsetMetadataTooLarge), None]
    );
    assert_eq!(plan.records.len(), 1);
    assert_eq!(plan.producer, Some(producer(4)));
}

#[test]
fn a_fenced_static_member_gets_fenced_instance_id() {
    let mut h = Harness::new();
    let mut req = join_req("g", "", &["range"]);
    req.group_instance_id = Some("instance-1".into());
    let crate::group::join::JoinOutcome::Parked(t) = h.join(req) else {
        panic!("a static member joins at once")
    };
    let generation = h.finish_rebalance("g", &[("?".to_string(), t)]);
    let mut req = crate::group::txn_offsets::TxnCommitRequest {
        transactional_id: "tx".into(),
        producer: producer(1),
        commit: commit_req("g", "not-the-member", generation, &[("t", 0, 1)]),
    };
    req.commit.group_instance_id = Some("instance-1".into());
    let plan = h.coord.prepare_txn_commit(&req, h.now_ms);
    assert_eq!(errors(&plan), vec![Some(ResponseError::FencedInstanceId)]);
}

#[test]
fn not_coordinator_and_loading_answer_like_offset_commit() {
    let mut coord = crate::group::coordinator::GroupCoordinator::new(config(), 1);
    let req = crate::group::txn_offsets::TxnCommitRequest {
        transactional_id: "tx".into(),
        producer: producer(1),
        commit: commit_req("g", "", -1, &[("t", 0, 1)]),
    };
    let p = coord.partition_of("g");
    let plan = coord.prepare_txn_commit(&req, 0);
    assert_eq!(errors(&plan), vec![Some(ResponseError::NotCoordinator)]);
    assert_eq!(
        coord.complete_txn(p, 1, true),
        Err(ResponseError::NotCoordinator)
    );
    coord.begin_load(p);
    let plan = coord.prepare_txn_commit(&req, 0);
    assert_eq!(
        errors(&plan),
        vec![Some(ResponseError::CoordinatorLoadInProgress)]
    );
}

#[test]
fn a_transaction_ending_while_its_partition_loads_ends_once_loaded() {
    let mut h = Harness::new();
    h.txn_commit("g", "", -1, 1, &[("t", 0, 10)]);
    let p = h.coord.partition_of("g");
    // The replay read the log before the marker was written: the marker is reported while
    // the partition is still loading.
    let mut coord = h.reload(h.now_ms);
    coord.begin_load(p);
    for (_, record) in h.log.iter().filter(|(q, _)| *q == p) {
        let loaded = crate::group::batch::LoadedRecord {
            offset: 0,
            txn_producer_id: Some(1),
            key: Some(record.key.clone()),
            value: record.value.clone(),
        };
        coord.load_record(p, loaded, h.now_ms).expect("valid");
    }
    assert_eq!(coord.complete_txn(p, 1, true), Ok(TxnEnd::Deferred));
    let topics = vec![("t".to_string(), vec![0])];
    assert_eq!(
        coord.fetch_offsets("g", Some(&topics), false).err(),
        Some(ResponseError::CoordinatorLoadInProgress)
    );
    coord.finish_load(p, h.now_ms);
    let rows = coord
        .fetch_offsets("g", Some(&topics), true)
        .expect("fetch");
    assert_eq!(rows[0].offset, 10);
    assert_eq!(rows[0].error, None);
}

#[test]
fn expiry_keeps_offsets_and_groups_an_open_transaction_holds() {
    let mut config = config();
    config.offsets_retention_ms = 60_000;
    config.offsets_retention_check_interval_ms = 10_000;
    let mut h = Harness::with_config(config);
    h.commit("simple", "", -1, &[("t", 0, 5), ("t", 1, 6)]);
    h.txn_commit("simple", "", -1, 1, &[("t", 0, 10)]);
    h.txn_commit("only-pending", "", -1, 2, &[("t", 0, 1)]);
    h.advance(120_000);
    assert_eq!(offset(&h, "simple", 0), 5, "kept: a transaction holds t-0");
    assert_eq!(offset(&h, "simple", 1), -1, "expired");
    assert!(
        h.coord.find_group("only-pending").is_some(),
        "an open transaction keeps it"
    );
    let p = h.coord.partition_of("only-pending");
    h.end_txn(p, 2, false);
    h.advance(20_000);
    assert!(
        h.coord.find_group("only-pending").is_none(),
        "empty once aborted"
    );
}

#[test]
fn offset_delete_tombstones_pending_offsets_too() {
    let mut h = Harness::new();
    h.txn_commit("g", "", -1, 1, &[("t", 0, 10)]);
    let topics = vec![("t".to_string(), vec![0, 1])];
    let plan = h.coord.delete_offsets("g", &topics).expect("delete");
    assert_eq!(
        plan.results.iter().map(|r| r.2).collect::<Vec<_>>(),
        vec![None, None]
    );
    assert_eq!(
        plan.records.len(),
        1,
        "a tombstone for the pending partition only"
    );
    assert!(plan.records[0].value.is_none());
    assert_eq!(fetch(&h, "g", 0, true).error, None, "no longer pending");
    let p = h.coord.partition_of("g");
    h.end_txn(p, 1, true);
    assert_eq!(offset(&h, "g", 0), -1, "the commit materializes nothing");
}

#[test]
fn deleting_an_empty_group_tombstones_its_pending_offsets() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    h.commit("g", &a.0, generation, &[("t", 0, 5)]);
    h.txn_commit("g", &a.0, generation, 1, &[("t", 0, 10), ("t", 1, 11)]);
    let leaving = [LeavingMember {
        member_id: a.0.clone(),
        group_instance_id: None,
    }];
    h.coord.leave("g", &leaving, h.now_ms).expect("leave");
    h.pump();
    let plan = h.coord.delete_groups(&["g".into()], h.now_ms);
    assert_eq!(plan.results[0].1, None);
    let records: Vec<_> = plan.records.values().flatten().collect();
    assert_eq!(records.len(), 3, "t-0 and t-1 once each, and the group");
    assert!(records.iter().all(|r| r.value.is_none()));
    let p = h.coord.partition_of("g");
    assert_eq!(h.end_txn(p, 1, true), TxnEnd::Applied { groups: 0 });
    assert!(h.coord.find_group("g").is_none());
}
