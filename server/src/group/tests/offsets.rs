//! OffsetCommit / OffsetFetch / OffsetDelete / DeleteGroups / expiry.

use kafka_protocol::ResponseError;

use super::harness::*;
use crate::group::heartbeat::LeavingMember;
use crate::group::state::GroupState;

#[test]
fn commit_and_fetch_keep_metadata() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    let plan = h.commit("g", &a.0, generation, &[("t", 0, 10), ("t", 1, 20)]);
    assert!(plan.results.iter().all(|r| r.2.is_none()));
    assert_eq!(plan.records.len(), 2);
    let topics = vec![("t".to_string(), vec![0, 1, 2])];
    let rows = h
        .coord
        .fetch_offsets("g", Some(&topics), false)
        .expect("fetch");
    assert_eq!(
        rows.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![10, 20, -1]
    );
    assert_eq!(rows[0].metadata, "meta-10");
    assert_eq!(
        h.coord.fetch_offsets("g", None, false).expect("all").len(),
        2
    );
    assert_eq!(
        h.coord
            .fetch_offsets("unknown", Some(&topics), false)
            .expect("none")[0]
            .offset,
        -1
    );
}

#[test]
fn commit_fencing_matches_kafka() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    let err = |plan: crate::group::offsets::CommitPlan| plan.results[0].2;
    assert_eq!(
        err(h.commit("g", "ghost", generation, &[("t", 0, 1)])),
        Some(ResponseError::UnknownMemberId)
    );
    assert_eq!(
        err(h.commit("g", &a.0, generation - 1, &[("t", 0, 1)])),
        Some(ResponseError::IllegalGeneration)
    );
    assert_eq!(
        err(h.commit("nogroup", "m", 3, &[("t", 0, 1)])),
        Some(ResponseError::IllegalGeneration)
    );
    // A new member makes the group rebalance; the old generation's member may still commit
    // while PreparingRebalance (Kafka allows it), but not during CompletingRebalance.
    let b = h.join_new("g", &["range"]);
    assert_eq!(err(h.commit("g", &a.0, generation, &[("t", 0, 5)])), None);
    let crate::group::join::JoinOutcome::Parked(ta) = h.join(join_req("g", &a.0, &["range"]))
    else {
        panic!()
    };
    assert!(h.has_reply(ta) && h.has_reply(b.1));
    assert_eq!(
        err(h.commit("g", &a.0, generation + 1, &[("t", 0, 6)])),
        Some(ResponseError::RebalanceInProgress)
    );
    let topics = vec![("t".to_string(), vec![0])];
    assert_eq!(
        h.coord
            .fetch_offsets("g", Some(&topics), false)
            .expect("fetch")[0]
            .offset,
        5
    );
}

#[test]
fn standalone_commits_need_no_membership() {
    let mut h = Harness::new();
    let plan = h.commit("simple", "", -1, &[("t", 3, 99)]);
    assert_eq!(plan.results[0].2, None);
    let g = h.coord.find_group("simple").expect("created by the commit");
    assert_eq!(g.state, GroupState::Empty);
    assert_eq!(g.protocol_type, None);
    let listed = h.coord.list_groups(&[], &[]).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].protocol_type, "");
}

#[test]
fn oversized_metadata_is_refused_per_partition() {
    let mut h = Harness::new();
    let req = crate::group::offsets::CommitRequest {
        group_id: "g".into(),
        generation_id: -1,
        member_id: String::new(),
        group_instance_id: None,
        entries: vec![
            crate::group::offsets::CommitEntry {
                topic: "t".into(),
                partition: 0,
                offset: 1,
                leader_epoch: -1,
                metadata: Some("x".repeat(5000)),
            },
            crate::group::offsets::CommitEntry {
                topic: "t".into(),
                partition: 1,
                offset: 1,
                leader_epoch: -1,
                metadata: None,
            },
        ],
    };
    let plan = h.coord.prepare_commit(&req, h.now_ms);
    assert_eq!(
        plan.results[0].2,
        Some(ResponseError::OffsetMetadataTooLarge)
    );
    assert_eq!(plan.results[1].2, None);
    assert_eq!(plan.records.len(), 1);
}

#[test]
fn failed_persist_commits_nothing() {
    let mut h = Harness::new();
    let req = crate::group::offsets::CommitRequest {
        group_id: "g".into(),
        generation_id: -1,
        member_id: String::new(),
        group_instance_id: None,
        entries: vec![crate::group::offsets::CommitEntry {
            topic: "t".into(),
            partition: 0,
            offset: 7,
            leader_epoch: -1,
            metadata: None,
        }],
    };
    let mut plan = h.coord.prepare_commit(&req, h.now_ms);
    h.coord.finish_commit(&mut plan, None);
    assert_eq!(
        plan.results[0].2,
        Some(ResponseError::CoordinatorNotAvailable)
    );
    let topics = vec![("t".to_string(), vec![0])];
    assert_eq!(
        h.coord
            .fetch_offsets("g", Some(&topics), false)
            .expect("fetch")[0]
            .offset,
        -1
    );
}

#[test]
fn delete_groups_only_empty_ones_and_their_offsets() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    h.commit("g", &a.0, generation, &[("t", 0, 10)]);
    let plan = h
        .coord
        .delete_groups(&["g".into(), "missing".into()], h.now_ms);
    assert_eq!(plan.results[0].1, Some(ResponseError::NonEmptyGroup));
    assert_eq!(plan.results[1].1, Some(ResponseError::GroupIdNotFound));
    let leaving = [LeavingMember {
        member_id: a.0.clone(),
        group_instance_id: None,
    }];
    h.coord.leave("g", &leaving, h.now_ms).expect("leave");
    h.pump();
    let plan = h.coord.delete_groups(&["g".into()], h.now_ms);
    assert_eq!(plan.results[0].1, None);
    let records: Vec<_> = plan.records.values().flatten().collect();
    assert_eq!(
        records.len(),
        2,
        "an offset tombstone and a group tombstone"
    );
    assert!(records.iter().all(|r| r.value.is_none()));
    assert!(h.coord.find_group("g").is_none());
    let topics = vec![("t".to_string(), vec![0])];
    assert_eq!(
        h.coord
            .fetch_offsets("g", Some(&topics), false)
            .expect("fetch")[0]
            .offset,
        -1
    );
}

#[test]
fn offset_delete_refuses_subscribed_topics_of_active_groups() {
    use bytes::{BufMut, BytesMut};
    use kafka_protocol::messages::ConsumerProtocolSubscription;
    use kafka_protocol::protocol::{Encodable, StrBytes};
    let mut h = Harness::new();
    let sub =
        ConsumerProtocolSubscription::default().with_topics(vec![StrBytes::from_static_str("t")]);
    let mut meta = BytesMut::new();
    meta.put_i16(1);
    sub.encode(&mut meta, 1).expect("encode");
    let mut req = join_req("g", "", &["range"]);
    req.protocols = vec![("range".into(), meta.freeze())];
    req.require_known_member_id = false;
    let crate::group::join::JoinOutcome::Parked(t) = h.join(req) else {
        panic!()
    };
    let generation = h.finish_rebalance("g", &[("?".to_string(), t)]);
    let member = h
        .coord
        .find_group("g")
        .and_then(|g| g.leader_id.clone())
        .expect("member");
    h.commit("g", &member, generation, &[("t", 0, 1), ("u", 0, 2)]);
    let topics = vec![("t".to_string(), vec![0]), ("u".to_string(), vec![0])];
    let plan = h.coord.delete_offsets("g", &topics).expect("delete");
    assert_eq!(
        plan.results[0].2,
        Some(ResponseError::GroupSubscribedToTopic)
    );
    assert_eq!(plan.results[1].2, None);
    assert_eq!(plan.records.len(), 1);
    assert_eq!(
        h.coord.delete_offsets("missing", &topics).err(),
        Some(ResponseError::GroupIdNotFound)
    );
}

#[test]
fn offsets_of_an_empty_group_expire_after_retention() {
    let mut config = config();
    config.offsets_retention_ms = 60_000;
    config.offsets_retention_check_interval_ms = 10_000;
    let mut h = Harness::with_config(config);
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    h.commit("g", &a.0, generation, &[("t", 0, 10)]);
    // While the member lives, nothing expires.
    for _ in 0..30 {
        h.advance(3_000);
        assert_eq!(h.heartbeat("g", &a.0, generation), None);
    }
    assert!(h
        .coord
        .find_group("g")
        .is_some_and(|g| !g.offsets.is_empty()));
    h.coord
        .leave(
            "g",
            &[LeavingMember {
                member_id: a.0.clone(),
                group_instance_id: None,
            }],
            h.now_ms,
        )
        .expect("leave");
    h.pump();
    h.advance(50_000);
    assert!(h
        .coord
        .find_group("g")
        .is_some_and(|g| !g.offsets.is_empty()));
    h.advance(20_000);
    assert!(
        h.coord.find_group("g").is_none(),
        "offsets expired, then the empty group"
    );
    let tail: Vec<_> = h.log.iter().rev().take(2).collect();
    assert!(tail.iter().all(|(_, r)| r.value.is_none()));
}
