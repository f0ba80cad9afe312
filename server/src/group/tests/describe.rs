//! ListGroups and DescribeGroups.

use super::harness::*;
use crate::group::state::GroupState;

#[test]
fn list_and_describe_show_state_members_and_assignment() {
    let mut h = Harness::new();
    let a = h.join_new("g1", &["range"]);
    h.finish_rebalance("g1", std::slice::from_ref(&a));
    let _pending = h.join_new("g2", &["range"]);
    let all = h.coord.list_groups(&[], &[]).expect("list");
    assert_eq!(
        all.iter().map(|g| g.group_id.as_str()).collect::<Vec<_>>(),
        vec!["g1", "g2"]
    );
    let stable = h.coord.list_groups(&["stable".into()], &[]).expect("list");
    assert_eq!(stable.len(), 1);
    assert_eq!(stable[0].state, GroupState::Stable);
    assert!(h
        .coord
        .list_groups(&[], &["consumer".into()])
        .expect("list")
        .is_empty());
    assert_eq!(
        h.coord
            .list_groups(&[], &["Classic".into()])
            .expect("list")
            .len(),
        2
    );
    let d = h.coord.describe_group("g1");
    assert_eq!(d.error, None);
    assert_eq!(d.state, GroupState::Stable);
    assert_eq!(d.protocol_type, "consumer");
    assert_eq!(d.protocol_data, "range");
    assert_eq!(d.members.len(), 1);
    assert_eq!(
        &d.members[0].assignment[..],
        format!("to-{}", a.0).as_bytes()
    );
    let d2 = h.coord.describe_group("g2");
    assert_eq!(d2.state, GroupState::PreparingRebalance);
    assert_eq!(d2.protocol_data, "");
    assert!(d2.members[0].assignment.is_empty());
    let missing = h.coord.describe_group("nope");
    assert_eq!(missing.state, GroupState::Dead);
    assert_eq!(missing.error, None);
}
