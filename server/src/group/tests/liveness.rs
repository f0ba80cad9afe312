//! Heartbeats, session expiry, rebalance timeout, LeaveGroup and pending members.

use kafka_protocol::ResponseError;

use super::harness::*;
use crate::group::heartbeat::LeavingMember;
use crate::group::state::GroupState;

#[test]
fn heartbeat_errors_match_kafka() {
    let mut h = Harness::new();
    assert_eq!(
        h.heartbeat("nope", "m", 1),
        Some(ResponseError::UnknownMemberId)
    );
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    assert_eq!(h.heartbeat("g", &a.0, generation), None);
    assert_eq!(
        h.heartbeat("g", &a.0, generation + 5),
        Some(ResponseError::IllegalGeneration)
    );
    assert_eq!(
        h.heartbeat("g", "ghost", generation),
        Some(ResponseError::UnknownMemberId)
    );
    assert_eq!(
        h.heartbeat("", &a.0, generation),
        Some(ResponseError::InvalidGroupId)
    );
    // The group kept working through the bad heartbeats.
    assert_eq!(h.heartbeat("g", &a.0, generation), None);
    assert_eq!(
        h.coord.find_group("g").map(|g| g.state),
        Some(GroupState::Stable)
    );
}

#[test]
fn missed_session_evicts_and_survivors_rebalance() {
    let mut h = Harness::new();
    let members: Vec<_> = (0..3).map(|_| h.join_new("g", &["range"])).collect();
    let generation = h.finish_rebalance("g", &members);
    let (dead, alive) = (
        members[2].0.clone(),
        [members[0].0.clone(), members[1].0.clone()],
    );
    // Survivors heartbeat every 3 s; the dead one stops.
    for _ in 0..3 {
        h.advance(3_000);
        for m in &alive {
            assert_eq!(h.heartbeat("g", m, generation), None);
        }
    }
    h.advance(1_001);
    let g = h.coord.find_group("g").expect("group");
    assert!(!g.has_member(&dead), "expired after {SESSION_MS} ms");
    assert_eq!(g.state, GroupState::PreparingRebalance);
    let mut tickets = Vec::new();
    for m in &alive {
        assert_eq!(
            h.heartbeat("g", m, generation),
            Some(ResponseError::RebalanceInProgress)
        );
        let crate::group::join::JoinOutcome::Parked(t) = h.join(join_req("g", m, &["range"]))
        else {
            panic!()
        };
        tickets.push((m.clone(), t));
    }
    // Every known member rejoined: no waiting for the rebalance timeout.
    assert!(tickets.iter().all(|(_, t)| h.has_reply(*t)));
    assert_eq!(h.finish_rebalance("g", &tickets), generation + 1);
}

#[test]
fn members_that_do_not_rejoin_are_dropped_at_rebalance_timeout() {
    let mut h = Harness::new();
    let members: Vec<_> = (0..2).map(|_| h.join_new("g", &["range"])).collect();
    let generation = h.finish_rebalance("g", &members);
    let crate::group::join::JoinOutcome::Parked(t) =
        h.join(join_req("g", &members[0].0, &["range"]))
    else {
        panic!()
    };
    // members[1] keeps heartbeating but never rejoins.
    for _ in 0..9 {
        h.advance(3_000);
        assert_eq!(
            h.heartbeat("g", &members[1].0, generation),
            Some(ResponseError::RebalanceInProgress)
        );
    }
    assert!(!h.has_reply(t));
    h.advance(3_001);
    let r = h.join_result(t);
    assert_eq!(r.generation_id, generation + 1);
    assert_eq!(r.members.len(), 1);
    assert_eq!(
        h.heartbeat("g", &members[1].0, generation),
        Some(ResponseError::UnknownMemberId)
    );
}

#[test]
fn clean_leave_starts_an_immediate_rebalance() {
    let mut h = Harness::new();
    let members: Vec<_> = (0..2).map(|_| h.join_new("g", &["range"])).collect();
    let generation = h.finish_rebalance("g", &members);
    let leaving = [LeavingMember {
        member_id: members[0].0.clone(),
        group_instance_id: None,
    }];
    assert_eq!(h.coord.leave("g", &leaving, h.now_ms), Ok(vec![None]));
    h.pump();
    assert_eq!(
        h.coord.find_group("g").map(|g| g.state),
        Some(GroupState::PreparingRebalance)
    );
    assert_eq!(
        h.heartbeat("g", &members[1].0, generation),
        Some(ResponseError::RebalanceInProgress)
    );
    let crate::group::join::JoinOutcome::Parked(t) =
        h.join(join_req("g", &members[1].0, &["range"]))
    else {
        panic!()
    };
    assert_eq!(
        h.finish_rebalance("g", &[(members[1].0.clone(), t)]),
        generation + 1
    );
}

#[test]
fn last_member_leaving_empties_the_group() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    let batch = [
        LeavingMember {
            member_id: a.0.clone(),
            group_instance_id: None,
        },
        LeavingMember {
            member_id: "ghost".into(),
            group_instance_id: None,
        },
    ];
    let results = h.coord.leave("g", &batch, h.now_ms);
    h.pump();
    assert_eq!(
        results,
        Ok(vec![None, Some(ResponseError::UnknownMemberId)])
    );
    let g = h.coord.find_group("g").expect("group");
    assert_eq!(g.state, GroupState::Empty);
    assert_eq!(g.generation_id, generation + 1);
    assert_eq!(g.protocol_type.as_deref(), Some("consumer"));
}

#[test]
fn pending_member_that_never_rejoins_expires() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    h.finish_rebalance("g", &[a]);
    let crate::group::join::JoinOutcome::Done(r) = h.join(join_req("g", "", &["range"])) else {
        panic!()
    };
    assert_eq!(r.error, Some(ResponseError::MemberIdRequired));
    assert!(h
        .coord
        .find_group("g")
        .expect("g")
        .pending_members
        .contains(&r.member_id));
    h.advance(SESSION_MS as u64 + 1);
    assert!(h
        .coord
        .find_group("g")
        .expect("g")
        .pending_members
        .is_empty());
}

#[test]
fn members_that_never_sync_are_removed_after_the_rebalance_timeout() {
    let mut h = Harness::new();
    let members: Vec<_> = (0..2).map(|_| h.join_new("g", &["range"])).collect();
    h.advance(2 * INITIAL_DELAY_MS);
    let results: Vec<_> = members.iter().map(|(_, t)| h.join_result(*t)).collect();
    // Both stay alive by heartbeat, but nobody sends SyncGroup.
    for _ in 0..9 {
        h.advance(3_000);
        for r in &results {
            assert_eq!(h.heartbeat("g", &r.member_id, r.generation_id), None);
        }
    }
    assert_eq!(
        h.coord.find_group("g").map(|g| g.state),
        Some(GroupState::CompletingRebalance)
    );
    h.advance(3_001);
    let g = h.coord.find_group("g").expect("group");
    assert!(g.members.is_empty());
    assert_eq!(g.state, GroupState::Empty);
}
