//! SyncGroup (key 14): followers park until the leader's assignment arrives (deferred answer).
//! Needs READ on the group (else GROUP_AUTHORIZATION_FAILED), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::AclOperation;

use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp};
use crate::group::sync::{SyncRequest, SyncResult};
use crate::group::wire::{code, opt_str_bytes, opt_string, string, unexpected};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 5 };

pub fn handle(
    groups: &Rc<GroupService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: SyncGroupRequest = request.decode()?;
    if !authz.group(AclOperation::Read, body.group_id.0.as_str()) {
        let mut response = SyncGroupResponse::default();
        response.error_code = ResponseError::GroupAuthorizationFailed.code();
        return Ok(request.respond(&response)?.into());
    }
    let req = SyncRequest {
        group_id: string(&body.group_id.0),
        generation_id: body.generation_id,
        member_id: string(&body.member_id),
        group_instance_id: opt_string(&body.group_instance_id),
        protocol_type: opt_string(&body.protocol_type),
        protocol_name: opt_string(&body.protocol_name),
        assignments: body
            .assignments
            .iter()
            .map(|a| (string(&a.member_id), a.assignment.clone()))
            .collect(),
    };
    let groups = groups.clone();
    Ok(Outcome::Deferred(Box::pin(async move {
        let group_id = req.group_id.clone();
        let result = match groups.call(&group_id, GroupOp::Sync(req)).await {
            Ok(GroupAnswer::Sync(result)) => result,
            Ok(other) => SyncResult::error(unexpected(&other)),
            Err(e) => SyncResult::error(e),
        };
        let mut response = SyncGroupResponse::default();
        response.error_code = code(result.error);
        response.protocol_type = opt_str_bytes(result.protocol_type);
        response.protocol_name = opt_str_bytes(result.protocol_name);
        response.assignment = result.assignment;
        Ok(Some(request.respond(&response)?))
    })))
}
