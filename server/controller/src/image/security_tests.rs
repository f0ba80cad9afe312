//! The image's security contract: credentials and ACLs apply as KRaft replays them, removing
//! what does not exist is refused (the log and the image disagree), no two ACLs are
//! identical, the offsets of the last changes move only with them, and snapshots (new and
//! older) load.
// A test's unwrap is its assertion: the panic names the failing step.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use super::*;
use crate::records::security::{SCRAM_SHA_256, SCRAM_SHA_512};
use crate::records::{AclEntry, AclId, ConfigResource, MetadataRecord, RecordBatch, SecretBytes};

fn credential(name: &str, mechanism: i8, key_bytes: usize) -> MetadataRecord {
    MetadataRecord::UserScramCredential {
        name: name.into(),
        mechanism,
        salt: SecretBytes(vec![9; 16]),
        stored_key: SecretBytes(vec![1; key_bytes]),
        server_key: SecretBytes(vec![2; key_bytes]),
        iterations: 4096,
    }
}

fn acl(id: u128, principal: &str) -> MetadataRecord {
    let entry = AclEntry {
        resource_type: 3,
        resource_name: "payments".into(),
        pattern_type: 4,
        principal: principal.into(),
        host: "*".into(),
        operation: 3,
        permission_type: 2,
    };
    MetadataRecord::access_control_entry(AclId(id), entry)
}

fn batch(records: Vec<MetadataRecord>) -> RecordBatch {
    RecordBatch { records }
}

fn cluster_config(value: &str) -> MetadataRecord {
    MetadataRecord::Config {
        resource: ConfigResource::Broker,
        resource_name: String::new(),
        name: "x".into(),
        value: Some(value.into()),
    }
}

#[test]
fn credentials_and_acls_apply_and_their_offsets_follow_them() {
    let mut image = MetadataImage::default();
    let records = vec![credential("alice", SCRAM_SHA_256, 32), acl(1, "User:alice")];
    image.apply(3, &batch(records)).unwrap();
    assert_eq!(image.scram_offset, 3);
    assert_eq!(image.acls_offset, 3);
    assert!(image.scram_credential("alice", SCRAM_SHA_256).is_some());
    assert_eq!(image.acls().count(), 1);

    let acls_before = image.acls.clone();
    image.apply(4, &batch(vec![cluster_config("1")])).unwrap();
    assert_eq!(
        image.scram_offset, 3,
        "other entries leave the offsets alone"
    );
    assert_eq!(image.acls_offset, 3);
    assert!(Arc::ptr_eq(&acls_before, &image.acls), "and share the ACLs");

    let records = vec![MetadataRecord::RemoveAccessControlEntry { id: AclId(1) }];
    image.apply(5, &batch(records)).unwrap();
    assert_eq!(image.acls_offset, 5);
    assert_eq!(image.scram_offset, 3);
    assert_eq!(image.acls().count(), 0);
    assert_eq!(acls_before.len(), 1, "a reader's earlier view is unchanged");
}

#[test]
fn impossible_security_records_are_refused_and_change_nothing() {
    let mut image = MetadataImage::default();
    let records = vec![credential("alice", SCRAM_SHA_512, 64), acl(1, "User:alice")];
    image.apply(1, &batch(records)).unwrap();
    let before = image.clone();
    let refused = [
        (
            MetadataRecord::RemoveAccessControlEntry { id: AclId(2) },
            ApplyError::UnknownAclId(2),
        ),
        (
            MetadataRecord::RemoveUserScramCredential {
                name: "alice".into(),
                mechanism: SCRAM_SHA_256,
            },
            ApplyError::UnknownScramCredential {
                user: "alice".into(),
                mechanism: SCRAM_SHA_256,
            },
        ),
    ];
    for (record, error) in refused {
        assert_eq!(image.apply(2, &batch(vec![record])), Err(error));
        assert_eq!(image, before);
    }
    let inconsistent = [
        acl(1, "User:bob"),                   // id in use
        acl(2, "User:alice"),                 // identical to ACL 1
        credential("bob", SCRAM_SHA_512, 32), // keys of SHA-256's length
        credential("", SCRAM_SHA_256, 32),
        credential("bob", 3, 32),
    ];
    for record in inconsistent {
        let applied = image.apply(2, &batch(vec![record.clone()]));
        assert!(
            matches!(applied, Err(ApplyError::Inconsistent(_))),
            "{record:?}: {applied:?}"
        );
        assert_eq!(image, before);
    }
    let mut any_operation = acl(3, "User:carol");
    if let MetadataRecord::AccessControlEntry { operation, .. } = &mut any_operation {
        *operation = 1;
    }
    assert!(image.apply(2, &batch(vec![any_operation])).is_err());
    assert_eq!(image, before);
}

#[test]
fn a_batch_that_adds_and_removes_in_one_entry_applies_whole() {
    let mut image = MetadataImage::default();
    let records = vec![
        acl(1, "User:a"),
        MetadataRecord::RemoveAccessControlEntry { id: AclId(1) },
        acl(2, "User:a"),
        credential("a", SCRAM_SHA_256, 32),
        MetadataRecord::RemoveUserScramCredential {
            name: "a".into(),
            mechanism: SCRAM_SHA_256,
        },
    ];
    image.apply(1, &batch(records)).unwrap();
    let ids: Vec<AclId> = image.acls().map(|(id, _)| id).collect();
    assert_eq!(ids, vec![AclId(2)]);
    assert_eq!(
        image.scram_users().count(),
        0,
        "a user without credentials is gone"
    );
    assert_eq!(image.scram_offset, 1);
}

#[test]
fn snapshots_keep_security_and_older_snapshots_load_without_it() {
    let mut image = MetadataImage::default();
    let records = vec![
        credential("alice", SCRAM_SHA_256, 32),
        acl(0xfeed, "User:alice"),
    ];
    image.apply(7, &batch(records)).unwrap();
    let json = serde_json::to_vec(&image).unwrap();
    let loaded: MetadataImage = serde_json::from_slice(&json).unwrap();
    assert_eq!(loaded, image);
    assert_eq!(
        loaded.acl_id_of(image.acls.get(AclId(0xfeed)).unwrap()),
        Some(AclId(0xfeed))
    );
    loaded.check_invariants().unwrap();

    let older = br#"{"offset":5,"brokers":{},"topics":{},"broker_configs":{},
        "broker_epoch_max":0,"next_producer_id_block_start":0}"#;
    let loaded: MetadataImage = serde_json::from_slice(older).unwrap();
    assert_eq!(loaded.offset, 5);
    assert!(loaded.acls.is_empty());
    assert_eq!(loaded.scram_users().count(), 0);
    assert_eq!((loaded.scram_offset, loaded.acls_offset), (0, 0));
}

#[test]
fn a_snapshot_with_two_identical_acls_is_refused() {
    let mut image = MetadataImage::default();
    image.apply(1, &batch(vec![acl(1, "User:a")])).unwrap();
    let json = serde_json::to_string(&image).unwrap();
    let one = format!("{:032x}", 1);
    let two = format!("{:032x}", 2);
    let entry_start = json.find(&format!("\"{one}\":")).unwrap();
    let entry_end = entry_start + json[entry_start..].find('}').unwrap() + 1;
    let entry = &json[entry_start..entry_end];
    let doubled = json.replacen(entry, &format!("{entry},{}", entry.replace(&one, &two)), 1);
    let loaded = serde_json::from_str::<MetadataImage>(&doubled);
    assert!(loaded.is_err(), "{doubled}");
}
