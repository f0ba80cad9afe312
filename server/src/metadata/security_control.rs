//! Security metadata, both ways: changes go from the controller shard to the active
//! controller (AlterUserScramCredentials, CreateAcls, DeleteAcls by id) and are answered once
//! this broker applied their records; reads come from the shard's own `ClusterMeta`, which
//! shares the image's credentials and ACLs (no copy, no cross-shard call).
//!
//! How a shard learns that credentials or ACLs changed: every change of the image reaches
//! every shard as a new `ClusterMeta` (`MetadataService::apply`), and its `scram_offset` /
//! `acls_offset` name the metadata offset of the last entry that changed them. A consumer
//! (the SCRAM authenticator, the authorizer's index) keeps the offset it built from and
//! rebuilds only when the one in the current `ClusterMeta` differs: one comparison per use.

use super::messages::{DescribedScramUser, Refusal, ScramUserResult};
use super::partition_control::{refusal, wait_applied};
use crate::cluster::wire::{
    ControllerReply, ControllerRequest, WireScramDeletion, WireScramUpsertion,
};
use crate::cluster::ClusterService;
use crate::error_code::ResponseError;
use crate::topics::ClusterMeta;
use sluice_controller::records::{AclEntry, AclId};

pub(super) async fn alter_scram_credentials(
    cluster: &ClusterService,
    deletions: Vec<WireScramDeletion>,
    upsertions: Vec<WireScramUpsertion>,
) -> Result<Vec<ScramUserResult>, Refusal> {
    let request = ControllerRequest::AlterUserScramCredentials {
        deletions,
        upsertions,
    };
    match cluster.request(request).await {
        ControllerReply::ScramAlterations { results, offset } => {
            wait_applied(cluster, offset).await;
            Ok(results)
        }
        reply => Err(refusal(reply)),
    }
}

pub(super) async fn create_acls(
    cluster: &ClusterService,
    bindings: Vec<AclEntry>,
) -> Result<Vec<Result<AclId, Refusal>>, Refusal> {
    let count = bindings.len();
    match cluster
        .request(ControllerRequest::CreateAcls { bindings })
        .await
    {
        ControllerReply::AclsCreated { results, offset } => {
            assert_eq!(results.len(), count, "one result per binding");
            wait_applied(cluster, offset).await;
            Ok(results)
        }
        reply => Err(refusal(reply)),
    }
}

pub(super) async fn delete_acls(
    cluster: &ClusterService,
    ids: Vec<AclId>,
) -> Result<Vec<AclId>, Refusal> {
    let count = ids.len();
    match cluster.request(ControllerRequest::DeleteAcls { ids }).await {
        ControllerReply::AclsDeleted { ids, offset } => {
            assert!(ids.len() <= count, "only ids of the request are removed");
            wait_applied(cluster, offset).await;
            Ok(ids)
        }
        reply => Err(refusal(reply)),
    }
}

/// Kafka's `ScramImage.describe`: every user with a credential when `users` is None or empty,
/// else each user named, in request order and once; a user named twice gets
/// DUPLICATE_RESOURCE, one without a credential RESOURCE_NOT_FOUND.
pub(super) fn describe_scram(
    meta: &ClusterMeta,
    users: Option<&[String]>,
) -> Vec<DescribedScramUser> {
    let credentials = &meta.scram_credentials;
    let described = |user: &str| -> Result<Vec<(i8, i32)>, Refusal> {
        match credentials.get(user) {
            Some(by_mechanism) => Ok(by_mechanism
                .iter()
                .map(|(mechanism, credential)| (*mechanism, credential.iterations))
                .collect()),
            None => Err((
                ResponseError::ResourceNotFound.code(),
                format!("Attempt to describe a user credential that does not exist: {user}"),
            )),
        }
    };
    let named = users.filter(|users| !users.is_empty());
    let Some(named) = named else {
        return credentials
            .keys()
            .map(|user| (user.clone(), described(user)))
            .collect();
    };
    let mut results: Vec<DescribedScramUser> = Vec::with_capacity(named.len());
    for user in named {
        if let Some(earlier) = results.iter_mut().find(|(u, _)| u == user) {
            earlier.1 = Err((
                ResponseError::DuplicateResource.code(),
                format!(
                    "Cannot describe SCRAM credentials for the same user twice in a single \
                     request: {user}"
                ),
            ));
            continue;
        }
        results.push((user.clone(), described(user)));
    }
    results
}

#[cfg(test)]
mod tests {
    // A test's unwrap is its assertion.
    #![allow(clippy::unwrap_used)]

    use sluice_controller::image::MetadataImage;
    use sluice_controller::records::{MetadataRecord, RecordBatch, SecretBytes};

    use super::*;

    fn meta() -> ClusterMeta {
        let credential =
            |name: &str, mechanism: i8, key_bytes: usize| MetadataRecord::UserScramCredential {
                name: name.into(),
                mechanism,
                salt: SecretBytes(vec![1; 8]),
                stored_key: SecretBytes(vec![2; key_bytes]),
                server_key: SecretBytes(vec![3; key_bytes]),
                iterations: 4096 * i32::from(mechanism),
            };
        let records = vec![
            credential("alice", 1, 32),
            credential("alice", 2, 64),
            credential("bob", 1, 32),
        ];
        let mut image = MetadataImage::default();
        image.apply(4, &RecordBatch { records }).unwrap();
        ClusterMeta::from_image(&image, Some(1))
    }

    #[test]
    fn describing_no_user_lists_every_user() {
        let meta = meta();
        assert_eq!(meta.scram_offset, 4);
        let all = describe_scram(&meta, None);
        assert_eq!(
            all,
            vec![
                ("alice".to_string(), Ok(vec![(1, 4096), (2, 8192)])),
                ("bob".to_string(), Ok(vec![(1, 4096)])),
            ]
        );
        assert_eq!(describe_scram(&meta, Some(&[])), all);
    }

    #[test]
    fn unknown_and_repeated_users_get_kafka_errors() {
        let users = ["bob", "carol", "alice", "bob"].map(String::from);
        let described = describe_scram(&meta(), Some(&users));
        let codes: Vec<(&str, Option<i16>)> = described
            .iter()
            .map(|(user, result)| (user.as_str(), result.as_ref().err().map(|e| e.0)))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("bob", Some(ResponseError::DuplicateResource.code())),
                ("carol", Some(ResponseError::ResourceNotFound.code())),
                ("alice", None),
            ]
        );
    }
}
