//! DescribeUserScramCredentials (key 50): each user's SCRAM mechanisms and iterations (never
//! the keys). Null users: every user with a credential. Needs DESCRIBE on the cluster. A
//! user without credentials gets RESOURCE_NOT_FOUND, a user named twice DUPLICATE_RESOURCE.

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
    let users: Option<Vec<String>> = match &body.users {
        Some(users) if users.len() > SCRAM_USERS_PER_REQUEST_MAX => {
            response.error_code = ResponseError::InvalidRequest.code();
            response.error_message = Some(StrBytes::from_static_str("too many users"));
            return Ok(request.respond(&response)?.into());
        }
        Some(users) => Some(users.iter().map(|u| u.name.to_string()).collect()),
        None => None,
    };
    for (user, described) in metadata.scram_credentials_described(users.as_deref()) {
        let mut result = DescribeUserScramCredentialsResult::default();
        result.user = StrBytes::from_string(user);
        match described {
            Ok(credentials) => {
                result.error_code = NONE;
                result.credential_infos = credentials
                    .into_iter()
                    .map(|(mechanism, iterations)| {
                        let mut info = CredentialInfo::default();
                        info.mechanism = mechanism;
                        info.iterations = iterations;
                        info
                    })
                    .collect();
            }
            Err((code, message)) => {
                result.error_code = code;
                result.error_message = Some(StrBytes::from_string(message));
            }
        }
        response.results.push(result);
    }
    Ok(request.respond(&response)?.into())
}
