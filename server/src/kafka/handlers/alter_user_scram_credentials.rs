//! AlterUserScramCredentials (key 51): deletes and sets users' SCRAM credentials through the
//! controller. An upsertion carries the salt and the SaltedPassword (the client ran PBKDF2);
//! this broker derives StoredKey and ServerKey from them, so neither the password nor the
//! salted password reaches the metadata log. Needs ALTER on the cluster. Kafka's per-user
//! refusals (unknown mechanism, iterations out of bounds, a missing credential to delete, a
//! user twice) come back as each user's error.

use std::rc::Rc;

use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use sluice_controller::records::SecretBytes;
use sluice_security::acl::AclOperation;
use sluice_security::scram::{ScramCredential, ScramMechanism};

use crate::cluster::wire::{WireScramDeletion, WireScramUpsertion};
use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::limits::SCRAM_USERS_PER_REQUEST_MAX;
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };

pub async fn handle(
    authz: &Authz,
    metadata: &Rc<MetadataService>,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: AlterUserScramCredentialsRequest = request.decode()?;
    let mut response = AlterUserScramCredentialsResponse::default();
    let users_in_order = || {
        let mut users: Vec<String> = Vec::new();
        let names = body.deletions.iter().map(|d| &d.name);
        for name in names.chain(body.upsertions.iter().map(|u| &u.name)) {
            if !users.iter().any(|u| u == name.as_str()) {
                users.push(name.to_string());
            }
        }
        users
    };
    let whole_request_refused = if !authz.cluster(AclOperation::Alter) {
        Some((
            ResponseError::ClusterAuthorizationFailed,
            "AlterUserScramCredentials needs ALTER on the cluster".to_string(),
        ))
    } else if body.deletions.len() + body.upsertions.len() > SCRAM_USERS_PER_REQUEST_MAX {
        Some((
            ResponseError::InvalidRequest,
            "too many credentials".to_string(),
        ))
    } else {
        None
    };
    if let Some((error, message)) = whole_request_refused {
        response.results = users_in_order()
            .into_iter()
            .map(|user| result(user, error.code(), Some(message.clone())))
            .collect();
        return Ok(request.respond(&response)?.into());
    }
    // Refused here: the user's other changes are not applied either (Kafka fails the user).
    let mut refused: Vec<(String, i16, String)> = Vec::new();
    let mut upsertions = Vec::new();
    for upsertion in &body.upsertions {
        let name = upsertion.name.to_string();
        let Some(mechanism) = ScramMechanism::from_code(upsertion.mechanism) else {
            refused.push((
                name,
                ResponseError::UnsupportedSaslMechanism.code(),
                "Unknown SCRAM mechanism".to_string(),
            ));
            continue;
        };
        let iterations = u32::try_from(upsertion.iterations).unwrap_or(0);
        match ScramCredential::from_salted_password(
            mechanism,
            &upsertion.salt,
            &upsertion.salted_password,
            iterations,
        ) {
            Ok(credential) => upsertions.push(WireScramUpsertion {
                name,
                mechanism: upsertion.mechanism,
                iterations: upsertion.iterations,
                salt: SecretBytes(credential.salt),
                stored_key: SecretBytes(credential.stored_key),
                server_key: SecretBytes(credential.server_key),
            }),
            Err(err) => refused.push((name, err.error_code(), err.to_string())),
        }
    }
    let refused_user = |name: &str| refused.iter().any(|(user, _, _)| user == name);
    let deletions: Vec<WireScramDeletion> = body
        .deletions
        .iter()
        .filter(|d| !refused_user(d.name.as_str()))
        .map(|d| WireScramDeletion {
            name: d.name.to_string(),
            mechanism: d.mechanism,
        })
        .collect();
    upsertions.retain(|u| !refused_user(&u.name));
    let outcome = if deletions.is_empty() && upsertions.is_empty() {
        Ok(Vec::new())
    } else {
        metadata
            .alter_user_scram_credentials(deletions, upsertions)
            .await
    };
    let answers = match outcome {
        Ok(answers) => answers,
        Err((code, message)) => {
            response.results = users_in_order()
                .into_iter()
                .map(|user| result(user, code, Some(message.clone())))
                .collect();
            return Ok(request.respond(&response)?.into());
        }
    };
    for user in users_in_order() {
        let own = refused.iter().find(|(name, _, _)| *name == user);
        let answer = answers.iter().find(|(name, _)| *name == user);
        response.results.push(match (own, answer) {
            (Some((_, code, message)), _) => result(user, *code, Some(message.clone())),
            (None, Some((_, Some((code, message))))) => result(user, *code, Some(message.clone())),
            (None, Some((_, None))) => result(user, NONE, None),
            (None, None) => result(
                user,
                ResponseError::UnknownServerError.code(),
                Some("the controller did not answer for this user".to_string()),
            ),
        });
    }
    Ok(request.respond(&response)?.into())
}

fn result(user: String, code: i16, message: Option<String>) -> AlterUserScramCredentialsResult {
    let mut result = AlterUserScramCredentialsResult::default();
    result.user = StrBytes::from_string(user);
    result.error_code = code;
    result.error_message = message.map(StrBytes::from_string);
    result
}
