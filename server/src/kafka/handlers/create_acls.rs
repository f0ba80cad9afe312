//! CreateAcls (key 30): new ACL bindings, through the controller, so every broker applies
//! them (each connection's next request sees them). Needs ALTER on the cluster. A binding
//! equal to a live one succeeds without a second copy (Kafka keeps a set).

use std::rc::Rc;

use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::{CreateAclsRequest, CreateAclsResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use sluice_security::acl::{
    AclBinding, AclOperation, AclPermissionType, PatternType, ResourceType,
};

use crate::error_code::{ResponseError, NONE};
use crate::kafka::acl_wire::entry_of;
use crate::kafka::acl_wire::refuse_whole_change;
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;

pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 3 };

pub async fn handle(
    authz: &Authz,
    metadata: &Rc<MetadataService>,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: CreateAclsRequest = request.decode()?;
    let refusal = |error: ResponseError, message: &str| {
        let mut result = AclCreationResult::default();
        result.error_code = error.code();
        result.error_message = Some(StrBytes::from_string(message.to_string()));
        result
    };
    let mut response = CreateAclsResponse::default();
    let whole_request_refused = refuse_whole_change(authz, "CreateAcls", body.creations.len());
    if let Some((error, message)) = whole_request_refused {
        response.results = body
            .creations
            .iter()
            .map(|_| refusal(error, &message))
            .collect();
        return Ok(request.respond(&response)?.into());
    }
    // Checked here; the valid ones go to the controller together, in request order.
    let mut results: Vec<Option<AclCreationResult>> = Vec::with_capacity(body.creations.len());
    let mut entries = Vec::new();
    for creation in &body.creations {
        let binding = AclBinding {
            resource_type: ResourceType::from_code(creation.resource_type),
            resource_name: creation.resource_name.to_string(),
            pattern_type: PatternType::from_code(creation.resource_pattern_type),
            principal: creation.principal.to_string(),
            host: creation.host.to_string(),
            operation: AclOperation::from_code(creation.operation),
            permission: AclPermissionType::from_code(creation.permission_type),
        };
        match binding.validate() {
            Ok(()) => {
                entries.push(entry_of(&binding));
                results.push(None);
            }
            Err(err) => results.push(Some(refusal(ResponseError::InvalidRequest, &err.message))),
        }
    }
    let created = if entries.is_empty() {
        Ok(Vec::new())
    } else {
        metadata.create_acls(entries).await
    };
    let mut created = match created {
        Ok(created) => created.into_iter(),
        Err((code, message)) => {
            response.results = body
                .creations
                .iter()
                .map(|_| {
                    let mut result = AclCreationResult::default();
                    result.error_code = code;
                    result.error_message = Some(StrBytes::from_string(message.clone()));
                    result
                })
                .collect();
            return Ok(request.respond(&response)?.into());
        }
    };
    response.results = results
        .into_iter()
        .map(|checked| match checked {
            Some(refused) => refused,
            None => {
                let mut result = AclCreationResult::default();
                match created.next() {
                    Some(Ok(_)) => result.error_code = NONE,
                    Some(Err((code, message))) => {
                        result.error_code = code;
                        result.error_message = Some(StrBytes::from_string(message));
                    }
                    None => {
                        result.error_code = ResponseError::UnknownServerError.code();
                        result.error_message =
                            Some(StrBytes::from_static_str("the controller answered too few"));
                    }
                }
                result
            }
        })
        .collect();
    Ok(request.respond(&response)?.into())
}
