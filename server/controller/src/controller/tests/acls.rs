//! CreateAcls and DeleteAcls: concrete bindings only, an identical binding is a no-op
//! success, ids are unique, and deletion removes the ids that still live.

use super::*;
use crate::records::{AclEntry, AclId};

fn binding(principal: &str, operation: i8) -> AclEntry {
    AclEntry {
        resource_type: 2,
        resource_name: "orders".into(),
        pattern_type: 3,
        principal: principal.into(),
        host: "*".into(),
        operation,
        permission_type: 3,
    }
}

fn create(cluster: &mut Cluster, bindings: Vec<AclEntry>) -> Vec<Result<AclId, ErrorKind>> {
    let (results, batch) = cluster
        .controller
        .create_acls(&cluster.image, bindings)
        .unwrap();
    cluster.commit(batch);
    results.into_iter().map(|r| r.map_err(|e| e.kind)).collect()
}

fn delete(cluster: &mut Cluster, ids: Vec<AclId>) -> Vec<AclId> {
    let (removed, batch) = cluster.controller.delete_acls(&cluster.image, ids).unwrap();
    cluster.commit(batch);
    removed
}

#[test]
fn created_acls_get_distinct_ids_and_identical_ones_are_no_ops() {
    let mut cluster = Cluster::new();
    let alice_read = binding("User:alice", 3);
    let results = create(
        &mut cluster,
        vec![
            alice_read.clone(),
            binding("User:bob", 3),
            alice_read.clone(),
        ],
    );
    let [Ok(first), Ok(second), Ok(repeat)] = results[..] else {
        panic!("{results:?}");
    };
    assert_ne!(first, second);
    assert_eq!(
        repeat, first,
        "a binding repeated in the request is the same ACL"
    );
    assert_eq!(cluster.image.acls().count(), 2);
    let offset = cluster.image.acls_offset;
    assert_eq!(offset, cluster.image.offset);

    let results = create(&mut cluster, vec![alice_read]);
    assert_eq!(
        results,
        vec![Ok(first)],
        "an existing binding: success, nothing written"
    );
    assert_eq!(cluster.image.acls_offset, offset);
    assert_eq!(cluster.image.acls().count(), 2);
}

#[test]
fn bindings_that_are_not_concrete_are_refused_one_by_one() {
    let mut cluster = Cluster::new();
    let any_resource = AclEntry {
        resource_type: 1,
        ..binding("User:a", 3)
    };
    let match_pattern = AclEntry {
        pattern_type: 2,
        ..binding("User:a", 3)
    };
    let unknown_operation = binding("User:a", 0);
    let any_permission = AclEntry {
        permission_type: 1,
        ..binding("User:a", 3)
    };
    let no_name = AclEntry {
        resource_name: String::new(),
        ..binding("User:a", 3)
    };
    let long_principal = binding(&"x".repeat(limits::SECURITY_NAME_BYTES_MAX + 1), 3);
    let results = create(
        &mut cluster,
        vec![
            any_resource,
            match_pattern,
            unknown_operation,
            any_permission,
            no_name,
            long_principal,
            binding("User:a", 4),
        ],
    );
    let refused = Err(ErrorKind::InvalidRequest);
    assert_eq!(results[..6], [refused; 6]);
    assert!(results[6].is_ok());
    assert_eq!(cluster.image.acls().count(), 1);
}

#[test]
fn deletion_removes_the_ids_that_still_live() {
    let mut cluster = Cluster::new();
    let results = create(
        &mut cluster,
        vec![
            binding("User:a", 3),
            binding("User:b", 3),
            binding("User:c", 3),
        ],
    );
    let ids: Vec<AclId> = results.into_iter().map(Result::unwrap).collect();
    let removed = delete(&mut cluster, vec![ids[0], ids[0], AclId(12345), ids[2]]);
    assert_eq!(
        removed,
        vec![ids[0], ids[2]],
        "repeats and unknown ids are skipped"
    );
    let left: Vec<AclId> = cluster.image.acls().map(|(id, _)| id).collect();
    assert_eq!(left, vec![ids[1]]);
    let offset = cluster.image.offset;
    assert!(delete(&mut cluster, vec![ids[0]]).is_empty());
    assert_eq!(
        cluster.image.offset, offset,
        "nothing to remove writes nothing"
    );
}

#[test]
fn ids_are_seeded_and_a_new_controller_keeps_them_unique() {
    let ids = |seed| {
        let mut cluster = Cluster::with_seed(seed);
        create(&mut cluster, vec![binding("User:a", 3)])
    };
    assert_eq!(ids(5), ids(5), "the same seed draws the same id");
    let mut cluster = Cluster::with_seed(5);
    create(&mut cluster, vec![binding("User:a", 3)]);
    // A new controller with the same seed draws the same id first: it must draw again.
    cluster.controller = Controller::new(cluster.controller.config().clone(), 5);
    let results = create(&mut cluster, vec![binding("User:b", 3)]);
    assert!(results[0].is_ok());
    assert_eq!(cluster.image.acls().count(), 2);
}

#[test]
fn limits_bound_requests_and_the_cluster() {
    let mut cluster = Cluster::new();
    let too_many: Vec<AclEntry> = (0..=limits::ACL_BINDINGS_PER_REQUEST_MAX)
        .map(|i| binding(&format!("User:{i}"), 3))
        .collect();
    let refusal = cluster
        .controller
        .create_acls(&cluster.image, too_many)
        .unwrap_err();
    assert_eq!(refusal.kind, ErrorKind::InvalidRequest);
    let ids = vec![AclId(1); limits::ACL_IDS_PER_DELETE_MAX + 1];
    let refusal = cluster
        .controller
        .delete_acls(&cluster.image, ids)
        .unwrap_err();
    assert_eq!(refusal.kind, ErrorKind::InvalidRequest);

    let per_request = limits::ACL_BINDINGS_PER_REQUEST_MAX;
    for round in 0..limits::ACLS_MAX / per_request {
        let bindings = (0..per_request)
            .map(|i| binding(&format!("User:{round}-{i}"), 3))
            .collect();
        assert!(create(&mut cluster, bindings).iter().all(Result::is_ok));
    }
    assert_eq!(cluster.image.acls().count(), limits::ACLS_MAX);
    let results = create(&mut cluster, vec![binding("User:one-more", 3)]);
    assert_eq!(results, vec![Err(ErrorKind::InvalidRequest)]);
}
