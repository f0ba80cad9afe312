//! Loading: replaying what the coordinator persisted rebuilds its groups and offsets; until a
//! partition is loaded its groups answer COORDINATOR_LOAD_IN_PROGRESS.

use kafka_protocol::ResponseError;

use super::harness::*;
use crate::group::batch::decode_batches;
use crate::group::coordinator::GroupCoordinator;
use crate::group::state::GroupState;

fn reload(h: &Harness, now_ms: u64) -> GroupCoordinator {
    h.reload(now_ms)
}

#[test]
fn replay_restores_offsets_and_stable_members() {
    let mut h = Harness::new();
    let members: Vec<_> = (0..2).map(|_| h.join_new("g", &["range"])).collect();
    let generation = h.finish_rebalance("g", &members);
    h.commit(
        "g",
        &members[0].0,
        generation,
        &[("t", 0, 10), ("t", 1, 11)],
    );
    h.commit("g", &members[0].0, generation, &[("t", 0, 12)]);
    h.commit("solo", "", -1, &[("u", 0, 5)]);
    let mut coord = reload(&h, h.now_ms);
    let topics = vec![("t".to_string(), vec![0, 1])];
    let rows = coord
        .fetch_offsets("g", Some(&topics), false)
        .expect("fetch");
    assert_eq!(
        rows.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![12, 11]
    );
    assert_eq!(rows[0].metadata, "meta-12");
    let g = coord.find_group("g").expect("group");
    assert_eq!(g.state, GroupState::Stable);
    assert_eq!(g.generation_id, generation);
    assert_eq!(g.members.len(), 2);
    assert_eq!(coord.find_group("solo").map(|g| g.offsets.len()), Some(1));
    // A member of the restored generation carries on without rejoining.
    let hb = crate::group::heartbeat::HeartbeatRequest {
        group_id: "g".into(),
        generation_id: generation,
        member_id: members[1].0.clone(),
        group_instance_id: None,
    };
    assert_eq!(coord.heartbeat(hb, h.now_ms), None);
}

#[test]
fn replay_honours_tombstones() {
    let mut h = Harness::new();
    let a = h.join_new("g", &["range"]);
    let generation = h.finish_rebalance("g", std::slice::from_ref(&a));
    h.commit("g", &a.0, generation, &[("t", 0, 10)]);
    let leaving = [crate::group::heartbeat::LeavingMember {
        member_id: a.0.clone(),
        group_instance_id: None,
    }];
    h.coord.leave("g", &leaving, h.now_ms).expect("leave");
    h.pump();
    let plan = h.coord.delete_groups(&["g".into()], h.now_ms);
    for (p, records) in plan.records {
        h.log.extend(records.into_iter().map(|r| (p, r)));
    }
    let coord = reload(&h, h.now_ms);
    assert!(coord.find_group("g").is_none());
}

#[test]
fn groups_answer_load_in_progress_until_loaded_and_not_coordinator_elsewhere() {
    let mut coord = GroupCoordinator::new(config(), 1);
    let p = coord.partition_of("g");
    let topics = vec![("t".to_string(), vec![0])];
    assert_eq!(
        coord.fetch_offsets("g", Some(&topics), false).err(),
        Some(ResponseError::NotCoordinator)
    );
    coord.begin_load(p);
    assert_eq!(
        coord.fetch_offsets("g", Some(&topics), false).err(),
        Some(ResponseError::CoordinatorLoadInProgress)
    );
    assert_eq!(
        coord.list_groups(&[], &[]).err(),
        Some(ResponseError::CoordinatorLoadInProgress)
    );
    coord.finish_load(p, 0);
    assert_eq!(
        coord
            .fetch_offsets("g", Some(&topics), false)
            .map(|r| r[0].offset),
        Ok(-1)
    );
}

#[test]
fn corrupt_records_are_errors_not_panics() {
    let mut coord = GroupCoordinator::new(config(), 1);
    coord.begin_load(0);
    let bad = [
        &b""[..],
        &[0, 1, 0][..],
        &[0, 9, 0, 0][..],
        &[0, 2, 0, 5, b'a'][..],
    ];
    for key in bad {
        let record = crate::group::batch::LoadedRecord {
            offset: 0,
            txn_producer_id: None,
            key: Some(bytes::Bytes::copy_from_slice(key)),
            value: None,
        };
        assert!(coord.load_record(0, record, 0).is_err());
    }
    assert!(decode_batches(bytes::Bytes::from_static(b"\x00\x00\x00\x00garbage")).is_err());
}
