//! AlterUserScramCredentials (Kafka's `ScramControlManager.alterCredentials`, KIP-554).
//!
//! Kafka's request carries each upsertion's salt and salted password, and its controller
//! derives StoredKey and ServerKey from them (HMAC and SHA). This crate does no cryptography,
//! so the broker that received the request derives the keys and sends them in the command:
//! the salted password never leaves that broker, and the log holds what Kafka's holds.

use std::collections::{BTreeMap, BTreeSet};

use super::batch::BatchBuilder;
use super::error::{ControllerError, ErrorKind};
use super::limits::{
    SCRAM_ALTERATIONS_PER_REQUEST_MAX, SCRAM_ITERATIONS_MAX, SCRAM_ITERATIONS_MIN,
    SCRAM_SALT_BYTES_MAX, SCRAM_USERS_MAX, SECURITY_NAME_BYTES_MAX,
};
use super::Controller;
use crate::image::MetadataImage;
use crate::records::security::{scram_key_bytes, scram_mechanism_name};
use crate::records::{MetadataRecord, RecordBatch, ScramCredential, SecretBytes};

/// Delete `name`'s credential for `mechanism` (1 SCRAM-SHA-256, 2 SCRAM-SHA-512).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramDeletion {
    pub name: String,
    pub mechanism: i8,
}

/// Set `name`'s credential for `mechanism`, with StoredKey and ServerKey already derived by
/// the broker from the request's salted password (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramUpsertion {
    pub name: String,
    pub mechanism: i8,
    pub iterations: i32,
    pub salt: SecretBytes,
    pub stored_key: SecretBytes,
    pub server_key: SecretBytes,
}

/// One user's outcome. A request gets one per distinct user, in the order users first appear
/// (deletions before upsertions), as Kafka answers one result per user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramAlteration {
    pub user: String,
    pub result: Result<(), ControllerError>,
}

impl Controller {
    /// Kafka's rules, per user: an empty name is UNACCEPTABLE_CREDENTIAL, an unknown mechanism
    /// UNSUPPORTED_SASL_MECHANISM, deleting a credential that does not exist
    /// RESOURCE_NOT_FOUND, iterations outside 4096..=16384 UNACCEPTABLE_CREDENTIAL, and a user
    /// named twice (by deletions, upsertions or both) DUPLICATE_RESOURCE for that user alone.
    /// Beyond Kafka: names, salts and keys within bounds (UNACCEPTABLE_CREDENTIAL), and no new
    /// user past [`SCRAM_USERS_MAX`]. The accepted alterations go into one batch, deletions
    /// first; a request of more than [`SCRAM_ALTERATIONS_PER_REQUEST_MAX`] is refused whole.
    pub fn alter_user_scram_credentials(
        &mut self,
        image: &MetadataImage,
        deletions: Vec<ScramDeletion>,
        upsertions: Vec<ScramUpsertion>,
    ) -> Result<(Vec<ScramAlteration>, RecordBatch), ControllerError> {
        let count = deletions.len() + upsertions.len();
        if count > SCRAM_ALTERATIONS_PER_REQUEST_MAX {
            return Err(ControllerError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "{count} SCRAM credential alterations exceed the limit of \
                     {SCRAM_ALTERATIONS_PER_REQUEST_MAX}"
                ),
            ));
        }
        let mut users = Vec::new();
        let mut errors: BTreeMap<String, ControllerError> = BTreeMap::new();
        let mut deleted: BTreeMap<String, ScramDeletion> = BTreeMap::new();
        let mut upserted: BTreeMap<String, ScramUpsertion> = BTreeMap::new();
        for deletion in deletions {
            let name = deletion.name.clone();
            if errors.contains_key(&name) {
                continue;
            }
            users.push(name.clone());
            let checked = if deleted.remove(&name).is_some() {
                Err(duplicate())
            } else {
                validate_deletion(image, &deletion)
            };
            match checked {
                Ok(()) => {
                    deleted.insert(name, deletion);
                }
                Err(error) => {
                    errors.insert(name, error);
                }
            }
        }
        for upsertion in upsertions {
            let name = upsertion.name.clone();
            if errors.contains_key(&name) {
                continue;
            }
            users.push(name.clone());
            let twice = deleted.remove(&name).is_some() || upserted.remove(&name).is_some();
            let checked = if twice {
                Err(duplicate())
            } else {
                validate_upsertion(&upsertion)
            };
            match checked {
                Ok(()) => {
                    upserted.insert(name, upsertion);
                }
                Err(error) => {
                    errors.insert(name, error);
                }
            }
        }
        let users = first_appearances(users);
        let mut batch = BatchBuilder::new(image);
        for user in &users {
            if let Some(deletion) = deleted.get(user) {
                batch.push(MetadataRecord::RemoveUserScramCredential {
                    name: deletion.name.clone(),
                    mechanism: deletion.mechanism,
                });
            }
        }
        for user in &users {
            let Some(upsertion) = upserted.remove(user) else {
                continue;
            };
            let is_new = batch.image().scram_credentials.get(user).is_none();
            if is_new && batch.image().scram_credentials.len() >= SCRAM_USERS_MAX {
                let full = format!("the cluster holds the most SCRAM users, {SCRAM_USERS_MAX}");
                errors.insert(user.clone(), unacceptable(full));
                continue;
            }
            batch.push(upsertion_record(upsertion));
        }
        let results = users
            .into_iter()
            .map(|user| {
                let result = errors.remove(&user).map_or(Ok(()), Err);
                ScramAlteration { user, result }
            })
            .collect();
        assert!(
            errors.is_empty(),
            "every error belongs to a user of the request"
        );
        Ok((results, batch.finish()))
    }
}

/// Each name once, where it first appears.
fn first_appearances(names: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    names
        .into_iter()
        .filter(|name| seen.insert(name.clone()))
        .collect()
}

fn duplicate() -> ControllerError {
    ControllerError::new(
        ErrorKind::DuplicateResource,
        "A user credential cannot be altered twice in the same request",
    )
}

fn unacceptable(message: impl Into<String>) -> ControllerError {
    ControllerError::new(ErrorKind::UnacceptableCredential, message)
}

/// Kafka's `validateScramUsernameAndMechanism`, then our bound on the name.
fn validate_name_and_mechanism(name: &str, mechanism: i8) -> Result<(), ControllerError> {
    if name.is_empty() {
        return Err(unacceptable("Username must not be empty"));
    }
    if scram_key_bytes(mechanism).is_none() {
        return Err(ControllerError::new(
            ErrorKind::UnsupportedSaslMechanism,
            format!("Unknown SCRAM mechanism {mechanism}"),
        ));
    }
    if name.len() > SECURITY_NAME_BYTES_MAX {
        return Err(unacceptable(format!(
            "user name of {} bytes exceeds the limit of {SECURITY_NAME_BYTES_MAX}",
            name.len()
        )));
    }
    Ok(())
}

fn validate_deletion(
    image: &MetadataImage,
    deletion: &ScramDeletion,
) -> Result<(), ControllerError> {
    validate_name_and_mechanism(&deletion.name, deletion.mechanism)?;
    if image
        .scram_credential(&deletion.name, deletion.mechanism)
        .is_none()
    {
        return Err(ControllerError::new(
            ErrorKind::ResourceNotFound,
            format!(
                "Attempt to delete a user credential that does not exist ({} of {:?})",
                scram_mechanism_name(deletion.mechanism),
                deletion.name
            ),
        ));
    }
    Ok(())
}

fn validate_upsertion(upsertion: &ScramUpsertion) -> Result<(), ControllerError> {
    validate_name_and_mechanism(&upsertion.name, upsertion.mechanism)?;
    if upsertion.iterations < SCRAM_ITERATIONS_MIN {
        return Err(unacceptable("Too few iterations"));
    }
    if upsertion.iterations > SCRAM_ITERATIONS_MAX {
        return Err(unacceptable("Too many iterations"));
    }
    if upsertion.salt.0.len() > SCRAM_SALT_BYTES_MAX {
        return Err(unacceptable(format!(
            "salt of {} bytes exceeds the limit of {SCRAM_SALT_BYTES_MAX}",
            upsertion.salt.0.len()
        )));
    }
    let credential = ScramCredential {
        salt: upsertion.salt.clone(),
        stored_key: upsertion.stored_key.clone(),
        server_key: upsertion.server_key.clone(),
        iterations: upsertion.iterations,
    };
    match credential.malformed(upsertion.mechanism) {
        Some(why) => Err(unacceptable(why)),
        None => Ok(()),
    }
}

fn upsertion_record(upsertion: ScramUpsertion) -> MetadataRecord {
    MetadataRecord::UserScramCredential {
        name: upsertion.name,
        mechanism: upsertion.mechanism,
        salt: upsertion.salt,
        stored_key: upsertion.stored_key,
        server_key: upsertion.server_key,
        iterations: upsertion.iterations,
    }
}
