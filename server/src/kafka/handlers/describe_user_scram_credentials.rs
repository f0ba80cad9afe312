//! DescribeUserScramCredentials (key 50): each user's SCRAM mechanisms and iterations (never
//! the keys). Null users: every user with a credential. Needs DESCRIBE on the cluster. A
//! user without credentials gets RESOURCE_NOT_FOUND, a user named twice DUPLICATE_RESOURCE.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use sluice_security::acl::AclOperation;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::limits::SCRAM_USERS_PER_REQUEST_MAX;
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 0 };

pub fn handle(
    authz: &Authz,
    metadata: &MetadataService,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DescribeUserScramCredentialsRequest = request.decode()?;
    let mut response = DescribeUserScramCredentialsResponse::default();
    if !authz.cluster(AclOperation::Describe) {
        response.error_code = ResponseError::ClusterAuthorizationFailed.code();
        response.error_message = Some(StrBytes::from_static_str(
            "DescribeUserScramCredentials needs DESCRIBE on the cluster",
        ));
        return Ok(request.respond(&response)?.into());
    }
    let meta = metadata.meta();
    let scram = &meta.security.scram;
    let users: Vec<String> = match &body.users {
        None => scram.keys().cloned().collect(),
        Some(users) if users.len() > SCRAM_USERS_PER_REQUEST_MAX => {
            response.error_code = ResponseError::InvalidRequest.code();
            response.error_message = Some(StrBytes::from_static_str("too many users"));
            return Ok(request.respond(&response)?.into());
        }
        Some(users) => users.iter().map(|u| u.name.to_string()).collect(),
    };
    let mut times_named: BTreeMap<&str, usize> = BTreeMap::new();
    for user in &users {
        *times_named.entry(user.as_str()).or_default() += 1;
    }
    let mut answered: Vec<&str> = Vec::new();
    for user in &users {
        if answered.contains(&user.as_str()) {
            continue;
        }
        answered.push(user);
        let mut result = DescribeUserScramCredentialsResult::default();
        result.user = StrBytes::from_string(user.clone());
        match (times_named[user.as_str()], scram.get(user)) {
            (count, _) if count > 1 => {
                result.error_code = ResponseError::DuplicateResource.code();
                result.error_message = Some(StrBytes::from_string(format!(
                    "Cannot describe SCRAM credentials for the same user twice in a single request: {user}"
                )));
            }
            (_, Some(credentials)) if !credentials.is_empty() => {
                result.error_code = NONE;
                result.credential_infos = credentials
                    .iter()
                    .map(|(mechanism, credential)| {
                        let mut info = CredentialInfo::default();
                        info.mechanism = *mechanism;
                        info.iterations = credential.iterations;
                        info
                    })
                    .collect();
            }
            _ => {
                result.error_code = ResponseError::ResourceNotFound.code();
                result.error_message = Some(StrBytes::from_string(format!(
                    "Attempt to describe a user credential that does not exist: {user}"
                )));
            }
        }
        response.results.push(result);
    }
    Ok(request.respond(&response)?.into())
}
