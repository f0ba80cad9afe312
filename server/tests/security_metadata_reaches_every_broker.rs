//! In a cluster of three voters, a SCRAM credential and an ACL created through one broker's
//! `MetadataService` (forwarded to whichever voter is the active controller) show in every
//! broker's metadata, with the same ACL id and the same offsets of the last change.

mod security_support;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Barrier};

use security_support::{read_orders, spawn_node, start_node, stop, upsertion, wait_for_meta};

/// A loopback port free at the time of asking.
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("its address")
}

#[test]
fn security_metadata_reaches_every_broker() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let voters: Vec<(i32, Option<SocketAddr>)> =
        (1..=3).map(|id| (id, Some(free_port()))).collect();
    // Every node keeps running until all of them saw the changes (a voter that stopped early
    // could leave the others without a majority).
    let all_saw = Arc::new(Barrier::new(3));
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let nodes: Vec<std::thread::JoinHandle<()>> = (1..=3)
        .map(|node_id: i32| {
            let settings = security_support::settings(
                node_id,
                dirs[node_id as usize - 1].path(),
                voters.clone(),
            );
            let all_saw = all_saw.clone();
            let seen_tx = seen_tx.clone();
            spawn_node(&format!("node-{node_id}"), move || async move {
                let node = start_node(settings).await;
                if node_id == 1 {
                    let results = node
                        .metadata
                        .alter_user_scram_credentials(Vec::new(), vec![upsertion("alice")])
                        .await;
                    assert_eq!(results, Ok(vec![("alice".to_string(), None)]));
                    let created = node
                        .metadata
                        .create_acls(vec![read_orders("User:bob")])
                        .await;
                    assert!(matches!(created.as_deref(), Ok([Ok(_)])), "{created:?}");
                }
                wait_for_meta(&node, "the credential and the ACL", |meta| {
                    meta.scram_credentials.contains_key("alice")
                        && meta.acls.id_of(&read_orders("User:bob")).is_some()
                })
                .await;
                let meta = node.metadata.meta();
                let id = meta.acls.id_of(&read_orders("User:bob"));
                let credential = node.metadata.scram_credential("alice", 1);
                seen_tx
                    .send((node_id, id, meta.scram_offset, meta.acls_offset, credential))
                    .expect("the test waits");
                let barrier = all_saw.clone();
                glommio::executor()
                    .spawn_blocking(move || {
                        barrier.wait();
                    })
                    .await;
                stop(&node);
            })
        })
        .collect();
    drop(seen_tx);
    let mut seen: Vec<_> = seen_rx.iter().collect();
    for node in nodes {
        node.join().expect("node");
    }
    seen.sort_by_key(|s| s.0);
    assert_eq!(seen.len(), 3, "every broker saw the changes");
    let first = seen[0].clone();
    for other in &seen[1..] {
        assert_eq!(other.1, first.1, "the same ACL id everywhere");
        assert_eq!(other.4, first.4, "the same credential everywhere");
        assert_eq!(other.2, first.2, "the same offset of the last SCRAM change");
        assert_eq!(other.3, first.3, "the same offset of the last ACL change");
    }
    assert_eq!(
        first.4,
        Some(security_support::credential_of(&upsertion("alice")))
    );
    assert!(first.2 > 0);
    assert!(first.3 > 0);
}
