//! Static members (group.instance.id): no MEMBER_ID_REQUIRED, rejoin without rebalance,
//! fencing of the old member id.

use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::harness::*;
use crate::group::heartbeat::{HeartbeatRequest, LeavingMember};
use crate::group::join::{JoinOutcome, JoinRequest};
use crate::group::state::GroupState;
use crate::group::sync::{SyncOutcome, SyncRequest};

fn static_req(instance: &str, member: &str) -> JoinRequest {
    let mut req = join_req("g", member, &["range"]);
    req.group_instance_id = Some(instance.into());
    req
}

#[test]
fn static_member_restart_keeps_generation_and_fences_old_id() {
    let mut h = Harness::new();
    let JoinOutcome::Parked(ta) = h.join(static_req("i-a", "")) else {
        panic!("static join parks at once")
    };
    let JoinOutcome::Parked(tb) = h.join(static_req("i-b", "")) else {
        panic!()
    };
    h.advance(2 * INITIAL_DELAY_MS);
    let ra = h.join_result(ta);
    let rb = h.join_result(tb);
    let leader = ra.leader.clone();
    let follower = if leader == ra.member_id {
        rb.clone()
    } else {
        ra.clone()
    };
    let follower_instance = if follower.member_id == ra.member_id {
        "i-a"
    } else {
        "i-b"
    };
    let mut tickets = Vec::new();
    let ordered = if leader == ra.member_id {
        [&rb, &ra]
    } else {
        [&ra, &rb]
    };
    for r in ordered {
        let assignments = if r.member_id == leader {
            vec![
                (ra.member_id.clone(), Bytes::from_static(b"A")),
                (rb.member_id.clone(), Bytes::from_static(b"B")),
            ]
        } else {
            vec![]
        };
        let req = SyncRequest {
            group_id: "g".into(),
            generation_id: r.generation_id,
            member_id: r.member_id.clone(),
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments,
        };
        let SyncOutcome::Parked(t) = h.sync(req) else {
            panic!()
        };
        tickets.push(t);
    }
    for t in tickets {
        assert_eq!(h.sync_result(t).error, None);
    }
    // The follower restarts: same instance id, no member id.
    let JoinOutcome::Parked(t) = h.join(static_req(follower_instance, "")) else {
        panic!()
    };
    let rejoined = h.join_result(t);
    assert_eq!(rejoined.error, None);
    assert_ne!(rejoined.member_id, follower.member_id);
    assert_eq!(
        rejoined.generation_id, ra.generation_id,
        "no rebalance for a static restart"
    );
    assert_eq!(
        h.coord.find_group("g").map(|g| g.state),
        Some(GroupState::Stable)
    );
    let SyncOutcome::Done(s) = h.sync(SyncRequest {
        group_id: "g".into(),
        generation_id: rejoined.generation_id,
        member_id: rejoined.member_id.clone(),
        group_instance_id: Some(follower_instance.into()),
        protocol_type: None,
        protocol_name: None,
        assignments: vec![],
    }) else {
        panic!()
    };
    let expected = if follower.member_id == ra.member_id {
        b"A"
    } else {
        b"B"
    };
    assert_eq!(
        &s.assignment[..],
        expected,
        "the assignment survives the restart"
    );
    let old = HeartbeatRequest {
        group_id: "g".into(),
        generation_id: ra.generation_id,
        member_id: follower.member_id.clone(),
        group_instance_id: Some(follower_instance.into()),
    };
    assert_eq!(
        h.coord.heartbeat(old, h.now_ms),
        Some(ResponseError::FencedInstanceId)
    );
}

#[test]
fn static_member_can_be_removed_by_instance_id() {
    let mut h = Harness::new();
    let JoinOutcome::Parked(t) = h.join(static_req("i-a", "")) else {
        panic!()
    };
    h.advance(INITIAL_DELAY_MS);
    let r = h.join_result(t);
    let wrong = [LeavingMember {
        member_id: "other".into(),
        group_instance_id: Some("i-a".into()),
    }];
    assert_eq!(
        h.coord.leave("g", &wrong, h.now_ms),
        Ok(vec![Some(ResponseError::FencedInstanceId)])
    );
    let by_instance = [LeavingMember {
        member_id: String::new(),
        group_instance_id: Some("i-a".into()),
    }];
    assert_eq!(h.coord.leave("g", &by_instance, h.now_ms), Ok(vec![None]));
    h.pump();
    let g = h.coord.find_group("g").expect("group");
    assert!(!g.has_member(&r.member_id));
    assert!(g.static_members.is_empty());
}

#[test]
fn restarted_static_leader_is_not_told_to_assign_again() {
    for supports_skip in [false, true] {
        let mut h = Harness::new();
        let JoinOutcome::Parked(t) = h.join(static_req("i-a", "")) else {
            panic!()
        };
        h.advance(INITIAL_DELAY_MS);
        let first = h.join_result(t);
        assert_eq!(first.leader, first.member_id);
        let sync = SyncRequest {
            group_id: "g".into(),
            generation_id: first.generation_id,
            member_id: first.member_id.clone(),
            group_instance_id: Some("i-a".into()),
            protocol_type: None,
            protocol_name: None,
            assignments: vec![(first.member_id.clone(), Bytes::from_static(b"A"))],
        };
        let SyncOutcome::Parked(st) = h.sync(sync) else {
            panic!()
        };
        assert_eq!(h.sync_result(st).assignment, Bytes::from_static(b"A"));
        let mut rejoin = static_req("i-a", "");
        rejoin.supports_skip_assignment = supports_skip;
        let JoinOutcome::Parked(t) = h.join(rejoin) else {
            panic!()
        };
        let r = h.join_result(t);
        assert_eq!(r.generation_id, first.generation_id);
        if supports_skip {
            // KIP-814 (v9): the leader gets the members but is told to skip the assignment.
            assert_eq!(r.leader, r.member_id);
            assert!(r.skip_assignment);
            assert_eq!(r.members.len(), 1);
        } else {
            // Before v9, Kafka names the old id as leader so no assignment runs.
            assert_eq!(r.leader, first.member_id);
            assert!(!r.skip_assignment);
            assert!(r.members.is_empty());
        }
        let g = h.coord.find_group("g").expect("group");
        assert_eq!(
            g.leader_id.as_deref(),
            Some(r.member_id.as_str()),
            "internally the new id leads"
        );
    }
}
