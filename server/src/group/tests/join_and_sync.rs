//! Join/sync cycles: MEMBER_ID_REQUIRED, initial delay, generation, leader, assignment.

use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::harness::*;
use crate::group::join::JoinOutcome;
use crate::group::state::GroupState;
use crate::group::sync::{SyncOutcome, SyncRequest};

#[test]
fn new_member_gets_member_id_required_then_joins_after_initial_delay() {
    let mut h = Harness::new();
    let (member, ticket) = h.join_new("g", &["range"]);
    assert_eq!(
        h.coord.find_group("g").map(|g| g.state),
        Some(GroupState::PreparingRebalance)
    );
    h.advance(INITIAL_DELAY_MS - 1);
    assert!(
        !h.has_reply(ticket),
        "the initial delay holds the first join"
    );
    h.advance(1);
    let r = h.join_result(ticket);
    assert_eq!(r.error, None);
    assert_eq!(r.generation_id, 1);
    assert_eq!(r.leader, member);
    assert_eq!(r.member_id, member);
    assert_eq!(r.protocol_name.as_deref(), Some("range"));
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.members[0].metadata, Bytes::from_static(b"meta-range"));
}

#[test]
fn three_members_share_one_generation_and_leader_assignment() {
    let mut h = Harness::new();
    let tickets: Vec<_> = (0..3).map(|_| h.join_new("g", &["range"])).collect();
    let generation = h.finish_rebalance("g", &tickets);
    assert_eq!(generation, 1);
    let g = h.coord.find_group("g").expect("group");
    assert_eq!(g.state, GroupState::Stable);
    assert_eq!(g.members.len(), 3);
    for (m, _) in &tickets {
        assert_eq!(g.members[m].assignment, Bytes::from(format!("to-{m}")));
    }
    // The assignment was persisted as a GroupMetadata record.
    assert!(h
        .log
        .iter()
        .any(|(_, r)| r.key[..2] == [0, 2] && r.value.is_some()));
}

#[test]
fn initial_delay_rearms_while_members_keep_arriving() {
    let mut h = Harness::new();
    let (_, t1) = h.join_new("g", &["range"]);
    h.advance(INITIAL_DELAY_MS - 100);
    let (_, t2) = h.join_new("g", &["range"]);
    h.advance(100);
    assert!(
        !h.has_reply(t1),
        "a member arrived during the delay: it re-arms"
    );
    h.advance(INITIAL_DELAY_MS);
    assert_eq!(h.join_result(t1).members.len(), 2);
    assert_eq!(h.join_result(t2).error, None);
}

#[test]
fn follower_sync_waits_for_the_leader() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let b = h.join_new("g", &["range"]);
    h.advance(2 * INITIAL_DELAY_MS);
    let ra = h.join_result(a.1);
    let rb = h.join_result(b.1);
    let (leader, follower) = if ra.leader == ra.member_id {
        (ra, rb)
    } else {
        (rb, ra)
    };
    assert!(
        follower.members.is_empty(),
        "only the leader gets the member list"
    );
    let sync = |member: &str, assignments: Vec<(String, Bytes)>| SyncRequest {
        group_id: "g".into(),
        generation_id: leader.generation_id,
        member_id: member.into(),
        group_instance_id: None,
        protocol_type: None,
        protocol_name: None,
        assignments,
    };
    let SyncOutcome::Parked(ft) = h.sync(sync(&follower.member_id, vec![])) else {
        panic!()
    };
    assert!(!h.has_reply(ft));
    let assignments = vec![
        (leader.member_id.clone(), Bytes::from_static(b"L")),
        (follower.member_id.clone(), Bytes::from_static(b"F")),
    ];
    let SyncOutcome::Parked(lt) = h.sync(sync(&leader.member_id, assignments)) else {
        panic!()
    };
    assert_eq!(h.sync_result(ft).assignment, Bytes::from_static(b"F"));
    assert_eq!(h.sync_result(lt).assignment, Bytes::from_static(b"L"));
    // In Stable, a repeated SyncGroup answers at once with the same assignment.
    let SyncOutcome::Done(again) = h.sync(sync(&follower.member_id, vec![])) else {
        panic!()
    };
    assert_eq!(again.assignment, Bytes::from_static(b"F"));
}

#[test]
fn empty_protocol_list_is_inconsistent_and_creates_nothing() {
    let mut h = Harness::new();
    let JoinOutcome::Done(r) = h.join(join_req("g", "", &[])) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::InconsistentGroupProtocol));
    assert!(h.coord.find_group("g").is_none());
    // The group still works for well-formed members afterwards.
    let t = h.join_new("g", &["range"]);
    assert_eq!(h.finish_rebalance("g", &[t]), 1);
}

#[test]
fn protocol_type_and_assignor_mismatches_are_refused() {
    let mut h = Harness::new();
    let t = h.join_new("g", &["range"]);
    h.finish_rebalance("g", &[t]);
    let mut other_type = join_req("g", "", &["range"]);
    other_type.protocol_type = "connect".into();
    let JoinOutcome::Done(r) = h.join(other_type) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::InconsistentGroupProtocol));
    let JoinOutcome::Done(r) = h.join(join_req("g", "", &["sticky"])) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::InconsistentGroupProtocol));
}

#[test]
fn session_timeout_out_of_bounds_is_refused() {
    let mut h = Harness::new();
    let mut req = join_req("g", "", &["range"]);
    req.session_timeout_ms = 1_000;
    let JoinOutcome::Done(r) = h.join(req) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::InvalidSessionTimeout));
}

#[test]
fn protocol_selection_follows_kafkas_vote() {
    let mut h = Harness::new();
    // Candidates are those all members support: {roundrobin, sticky}; votes: rr, sticky, rr.
    let a = h.join_new("g", &["range", "roundrobin", "sticky"]);
    let b = h.join_new("g", &["sticky", "roundrobin"]);
    let c = h.join_new("g", &["roundrobin", "sticky"]);
    h.advance(2 * INITIAL_DELAY_MS);
    for (_, t) in [a, b, c] {
        assert_eq!(
            h.join_result(t).protocol_name.as_deref(),
            Some("roundrobin")
        );
    }
}

#[test]
fn unchanged_follower_rejoin_in_stable_gets_current_generation() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let b = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", &[a.clone(), b.clone()]);
    let leader = h
        .coord
        .find_group("g")
        .and_then(|g| g.leader_id.clone())
        .expect("leader");
    let follower = if leader == a.0 { &b.0 } else { &a.0 };
    let JoinOutcome::Done(r) = h.join(join_req("g", follower, &["range"])) else {
        panic!()
    };
    assert_eq!(r.error, None);
    assert_eq!(r.generation_id, generation);
    assert_eq!(
        h.coord.find_group("g").map(|g| g.state),
        Some(GroupState::Stable)
    );
    // The leader rejoining starts a rebalance.
    let JoinOutcome::Parked(_) = h.join(join_req("g", &leader, &["range"])) else {
        panic!()
    };
    assert_eq!(
        h.coord.find_group("g").map(|g| g.state),
        Some(GroupState::PreparingRebalance)
    );
}

#[test]
fn join_with_unknown_member_id_is_refused() {
    let mut h = Harness::new();
    let JoinOutcome::Done(r) = h.join(join_req("g", "ghost", &["range"])) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::UnknownMemberId));
    let t = h.join_new("g", &["range"]);
    h.finish_rebalance("g", &[t]);
    let JoinOutcome::Done(r) = h.join(join_req("g", "ghost", &["range"])) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::UnknownMemberId));
}

#[test]
fn sync_with_stale_generation_or_during_rebalance_is_fenced() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    let mut req = SyncRequest {
        group_id: "g".into(),
        generation_id: generation + 1,
        member_id: a.0.clone(),
        group_instance_id: None,
        protocol_type: None,
        protocol_name: None,
        assignments: vec![],
    };
    let SyncOutcome::Done(r) = h.sync(req.clone()) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::IllegalGeneration));
    let _b = h.join_new("g", &["range"]);
    req.generation_id = generation;
    let SyncOutcome::Done(r) = h.sync(req.clone()) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::RebalanceInProgress));
    req.member_id = "ghost".into();
    let SyncOutcome::Done(r) = h.sync(req) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::UnknownMemberId));
}
