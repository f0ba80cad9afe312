//! A SCRAM credential and an ACL created through `MetadataService` are in the metadata log:
//! a broker restarted on the same data dir replays them into its image and every shard's
//! metadata, and deleting them afterwards works on the replayed state.

mod security_support;

use security_support::{read_orders, spawn_node, start_node, stop, upsertion, wait_for_meta};
use sluice_server::cluster::wire::WireScramDeletion;

#[test]
fn security_metadata_survives_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_path_buf();

    let first_dir = data_dir.clone();
    let acl_id = std::sync::Arc::new(std::sync::Mutex::new(None));
    let created_id = acl_id.clone();
    spawn_node("first-life", move || async move {
        let node = start_node(security_support::settings(1, &first_dir, vec![(1, None)])).await;
        let results = node
            .metadata
            .alter_user_scram_credentials(Vec::new(), vec![upsertion("alice")])
            .await
            .expect("a controller answers");
        assert_eq!(results, vec![("alice".to_string(), None)]);
        let created = node
            .metadata
            .create_acls(vec![read_orders("User:alice")])
            .await
            .expect("a controller answers");
        let [Ok(id)] = created[..] else {
            panic!("{created:?}");
        };
        *created_id.lock().expect("not poisoned") = Some(id);
        // Answered once applied here: this shard's metadata shows both at once.
        let credential = node.metadata.scram_credential("alice", 1);
        assert_eq!(credential.map(|c| c.iterations), Some(4096));
        let (acls, acls_offset) = node.metadata.acl_entries();
        assert_eq!(acls.get(id), Some(&read_orders("User:alice")));
        assert!(acls_offset > 0);
        stop(&node);
    })
    .join()
    .expect("first life");

    let id = acl_id
        .lock()
        .expect("not poisoned")
        .expect("an ACL was created");
    spawn_node("second-life", move || async move {
        let node = start_node(security_support::settings(1, &data_dir, vec![(1, None)])).await;
        wait_for_meta(&node, "replayed security", |meta| {
            meta.scram_offset > 0 && meta.acls_offset > 0
        })
        .await;
        let credential = node
            .metadata
            .scram_credential("alice", 1)
            .expect("replayed");
        assert_eq!(
            credential,
            security_support::credential_of(&upsertion("alice"))
        );
        let described = node.metadata.scram_credentials_described(None);
        assert_eq!(described, vec![("alice".to_string(), Ok(vec![(1, 4096)]))]);
        let (acls, _) = node.metadata.acl_entries();
        assert_eq!(acls.id_of(&read_orders("User:alice")), Some(id));

        // The replayed state is the controller's too: an identical binding is the same ACL,
        // and deletions find what was replayed.
        let again = node
            .metadata
            .create_acls(vec![read_orders("User:alice")])
            .await;
        assert_eq!(again, Ok(vec![Ok(id)]));
        let removed = node.metadata.delete_acls(vec![id]).await;
        assert_eq!(removed, Ok(vec![id]));
        let deletion = WireScramDeletion {
            name: "alice".into(),
            mechanism: 1,
        };
        let results = node
            .metadata
            .alter_user_scram_credentials(vec![deletion], Vec::new())
            .await;
        assert_eq!(results, Ok(vec![("alice".to_string(), None)]));
        assert!(node.metadata.scram_credential("alice", 1).is_none());
        assert!(node.metadata.acl_entries().0.is_empty());
        stop(&node);
    })
    .join()
    .expect("second life");
}
