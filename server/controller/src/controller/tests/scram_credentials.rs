//! AlterUserScramCredentials: Kafka's per-user rules (empty name, unknown mechanism,
//! iterations, deleting what does not exist, a user named twice), one result per user, and the
//! accepted alterations in one batch.

use super::*;
use crate::records::security::{SCRAM_SHA_256, SCRAM_SHA_512};
use crate::records::SecretBytes;

fn upsert(name: &str, mechanism: i8, iterations: i32) -> ScramUpsertion {
    let key_bytes = if mechanism == SCRAM_SHA_512 { 64 } else { 32 };
    ScramUpsertion {
        name: name.into(),
        mechanism,
        iterations,
        salt: SecretBytes(vec![7; 16]),
        stored_key: SecretBytes(vec![1; key_bytes]),
        server_key: SecretBytes(vec![2; key_bytes]),
    }
}

fn delete(name: &str, mechanism: i8) -> ScramDeletion {
    ScramDeletion {
        name: name.into(),
        mechanism,
    }
}

/// Runs the command, commits its batch, and returns each user's error kind (None: done).
fn alter(
    cluster: &mut Cluster,
    deletions: Vec<ScramDeletion>,
    upsertions: Vec<ScramUpsertion>,
) -> Vec<(String, Option<ErrorKind>)> {
    let (results, batch) = cluster
        .controller
        .alter_user_scram_credentials(&cluster.image, deletions, upsertions)
        .unwrap();
    cluster.commit(batch);
    let kinds = results
        .into_iter()
        .map(|r| (r.user, r.result.err().map(|e| e.kind)));
    kinds.collect()
}

fn done(user: &str) -> (String, Option<ErrorKind>) {
    (user.to_string(), None)
}

fn refused(user: &str, kind: ErrorKind) -> (String, Option<ErrorKind>) {
    (user.to_string(), Some(kind))
}

#[test]
fn upserted_credentials_are_in_the_image_and_replace_earlier_ones() {
    let mut cluster = Cluster::new();
    let results = alter(
        &mut cluster,
        vec![],
        vec![
            upsert("alice", SCRAM_SHA_256, 4096),
            upsert("bob", SCRAM_SHA_512, 8192),
        ],
    );
    assert_eq!(results, vec![done("alice"), done("bob")]);
    let alice = cluster
        .image
        .scram_credential("alice", SCRAM_SHA_256)
        .unwrap();
    assert_eq!(alice.iterations, 4096);
    assert!(cluster
        .image
        .scram_credential("alice", SCRAM_SHA_512)
        .is_none());
    assert_eq!(
        cluster.image.scram_users().collect::<Vec<_>>(),
        vec!["alice", "bob"]
    );
    let offset = cluster.image.offset;
    assert_eq!(
        cluster.image.scram_offset, offset,
        "the change is visible by offset"
    );

    let results = alter(
        &mut cluster,
        vec![],
        vec![upsert("alice", SCRAM_SHA_256, 16_384)],
    );
    assert_eq!(results, vec![done("alice")]);
    let alice = cluster
        .image
        .scram_credential("alice", SCRAM_SHA_256)
        .unwrap();
    assert_eq!(alice.iterations, 16_384);
    assert!(cluster.image.scram_offset > offset);
}

#[test]
fn kafka_refusals_per_user() {
    let mut cluster = Cluster::new();
    let results = alter(
        &mut cluster,
        vec![delete("ghost", SCRAM_SHA_256), delete("", SCRAM_SHA_256)],
        vec![
            upsert("few", SCRAM_SHA_256, 4095),
            upsert("many", SCRAM_SHA_512, 16_385),
            upsert("mechanism", 3, 4096),
            upsert("unknown", 0, 4096),
            upsert("fine", SCRAM_SHA_512, 4096),
        ],
    );
    assert_eq!(
        results,
        vec![
            refused("ghost", ErrorKind::ResourceNotFound),
            refused("", ErrorKind::UnacceptableCredential),
            refused("few", ErrorKind::UnacceptableCredential),
            refused("many", ErrorKind::UnacceptableCredential),
            refused("mechanism", ErrorKind::UnsupportedSaslMechanism),
            refused("unknown", ErrorKind::UnsupportedSaslMechanism),
            done("fine"),
        ]
    );
    assert_eq!(
        cluster.image.scram_users().collect::<Vec<_>>(),
        vec!["fine"]
    );
}

#[test]
fn a_user_named_twice_is_a_duplicate_and_changes_nothing() {
    let mut cluster = Cluster::new();
    alter(
        &mut cluster,
        vec![],
        vec![upsert("alice", SCRAM_SHA_256, 4096)],
    );
    let before = cluster.image.clone();
    let results = alter(
        &mut cluster,
        vec![delete("alice", SCRAM_SHA_256)],
        vec![
            upsert("alice", SCRAM_SHA_512, 4096),
            upsert("bob", SCRAM_SHA_256, 4096),
            upsert("bob", SCRAM_SHA_512, 4096),
            upsert("bob", SCRAM_SHA_512, 4096),
            upsert("carol", SCRAM_SHA_256, 4096),
        ],
    );
    assert_eq!(
        results,
        vec![
            refused("alice", ErrorKind::DuplicateResource),
            refused("bob", ErrorKind::DuplicateResource),
            done("carol"),
        ],
        "one result per user"
    );
    assert_eq!(
        cluster.image.scram_credentials.get("alice"),
        before.scram_credentials.get("alice")
    );
    assert!(cluster.image.scram_credentials.get("bob").is_none());
    assert!(cluster
        .image
        .scram_credential("carol", SCRAM_SHA_256)
        .is_some());
}

#[test]
fn deleting_the_last_credential_removes_the_user() {
    let mut cluster = Cluster::new();
    alter(
        &mut cluster,
        vec![],
        vec![upsert("alice", SCRAM_SHA_256, 4096)],
    );
    alter(
        &mut cluster,
        vec![],
        vec![upsert("alice", SCRAM_SHA_512, 4096)],
    );
    let results = alter(&mut cluster, vec![delete("alice", SCRAM_SHA_256)], vec![]);
    assert_eq!(results, vec![done("alice")]);
    assert!(cluster
        .image
        .scram_credential("alice", SCRAM_SHA_512)
        .is_some());
    let results = alter(&mut cluster, vec![delete("alice", SCRAM_SHA_512)], vec![]);
    assert_eq!(results, vec![done("alice")]);
    assert_eq!(cluster.image.scram_users().count(), 0);
    let results = alter(&mut cluster, vec![delete("alice", SCRAM_SHA_512)], vec![]);
    assert_eq!(results, vec![refused("alice", ErrorKind::ResourceNotFound)]);
}

#[test]
fn keys_of_the_wrong_length_and_oversized_requests_are_refused() {
    let mut cluster = Cluster::new();
    let mut short = upsert("short", SCRAM_SHA_512, 4096);
    short.stored_key = SecretBytes(vec![1; 32]);
    let mut saltless = upsert("saltless", SCRAM_SHA_256, 4096);
    saltless.salt = SecretBytes(Vec::new());
    let results = alter(&mut cluster, vec![], vec![short, saltless]);
    assert_eq!(
        results,
        vec![
            refused("short", ErrorKind::UnacceptableCredential),
            refused("saltless", ErrorKind::UnacceptableCredential),
        ]
    );
    let too_many: Vec<ScramUpsertion> = (0..=limits::SCRAM_ALTERATIONS_PER_REQUEST_MAX)
        .map(|i| upsert(&format!("user{i}"), SCRAM_SHA_256, 4096))
        .collect();
    let refusal = cluster
        .controller
        .alter_user_scram_credentials(&cluster.image, vec![], too_many)
        .unwrap_err();
    assert_eq!(refusal.kind, ErrorKind::InvalidRequest);
}
