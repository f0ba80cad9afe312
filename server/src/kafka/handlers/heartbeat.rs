//! Heartbeat (key 12): keeps a member alive; tells it when to rejoin. Needs READ on the group
//! (else GROUP_AUTHORIZATION_FAILED), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::AclOperation;

use crate::group::heartbeat::HeartbeatRequest as Beat;
use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp};
use crate::group::wire::{code, opt_string, string, unexpected};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 4 };

pub async fn handle(
    groups: &Rc<GroupService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: HeartbeatRequest = request.decode()?;
    if !authz.group(AclOperation::Read, body.group_id.0.as_str()) {
        let mut response = HeartbeatResponse::default();
        response.error_code = ResponseError::GroupAuthorizationFailed.code();
        return Ok(request.respond(&response)?.into());
    }
    let beat = Beat {
        group_id: string(&body.group_id.0),
        generation_id: body.generation_id,
        member_id: string(&body.member_id),
        group_instance_id: opt_string(&body.group_instance_id),
    };
    let group_id = beat.group_id.clone();
    let error = match groups.call(&group_id, GroupOp::Heartbeat(beat)).await {
        Ok(GroupAnswer::Heartbeat(error)) => error,
        Ok(other) => Some(unexpected(&other)),
        Err(e) => Some(e),
    };
    let mut response = HeartbeatResponse::default();
    response.error_code = code(error);
    Ok(request.respond(&response)?.into())
}
