//! JoinGroup (key 11): parks on the coordinator shard until the join phase ends, so the answer
//! is deferred (the connection keeps serving requests meanwhile; answers stay in order).
//! Needs READ on the group (else GROUP_AUTHORIZATION_FAILED), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::AclOperation;

use crate::group::join::{JoinRequest, JoinResult};
use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp};
use crate::group::wire::{
    client_host, code, opt_str_bytes, opt_string, str_bytes, string, unexpected,
};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 9 };

/// v1 added the rebalance timeout; v0 uses the session timeout for both.
const REBALANCE_TIMEOUT_VERSION_MIN: i16 = 1;
/// v4+: new members first get MEMBER_ID_REQUIRED.
const MEMBER_ID_REQUIRED_VERSION_MIN: i16 = 4;
/// v7+: protocol name is nullable; before, it must be a string.
const NULLABLE_PROTOCOL_VERSION_MIN: i16 = 7;
const SKIP_ASSIGNMENT_VERSION_MIN: i16 = 9;

pub fn handle(
    groups: &Rc<GroupService>,
    peer: &std::net::SocketAddr,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: JoinGroupRequest = request.decode()?;
    let version = request.version;
    if !authz.group(AclOperation::Read, body.group_id.0.as_str()) {
        // Kafka's error answer: no member id, generation -1.
        let refused = JoinResult::error(ResponseError::GroupAuthorizationFailed, "");
        return Ok(request.respond(&response(refused, version))?.into());
    }
    let rebalance_timeout_ms = if version >= REBALANCE_TIMEOUT_VERSION_MIN {
        body.rebalance_timeout_ms
    } else {
        body.session_timeout_ms
    };
    let req = JoinRequest {
        group_id: string(&body.group_id.0),
        member_id: string(&body.member_id),
        group_instance_id: opt_string(&body.group_instance_id),
        client_id: request.client_id.clone().unwrap_or_default(),
        client_host: client_host(peer),
        session_timeout_ms: body.session_timeout_ms,
        rebalance_timeout_ms,
        protocol_type: string(&body.protocol_type),
        protocols: body
            .protocols
            .iter()
            .map(|p| (string(&p.name), p.metadata.clone()))
            .collect(),
        require_known_member_id: version >= MEMBER_ID_REQUIRED_VERSION_MIN,
        supports_skip_assignment: version >= SKIP_ASSIGNMENT_VERSION_MIN,
    };
    let groups = groups.clone();
    Ok(Outcome::Deferred(Box::pin(async move {
        let group_id = req.group_id.clone();
        let member_id = req.member_id.clone();
        let result = match groups.call(&group_id, GroupOp::Join(req)).await {
            Ok(GroupAnswer::Join(result)) => result,
            Ok(other) => JoinResult::error(unexpected(&other), &member_id),
            Err(e) => JoinResult::error(e, &member_id),
        };
        Ok(Some(request.respond(&response(result, version))?))
    })))
}

fn response(result: JoinResult, version: i16) -> JoinGroupResponse {
    let mut r = JoinGroupResponse::default();
    r.error_code = code(result.error);
    r.generation_id = result.generation_id;
    r.protocol_type = opt_str_bytes(result.protocol_type);
    r.protocol_name = match result.protocol_name {
        Some(name) => Some(str_bytes(name)),
        None if version < NULLABLE_PROTOCOL_VERSION_MIN => Some(str_bytes("")),
        None => None,
    };
    r.leader = str_bytes(result.leader);
    r.skip_assignment = result.skip_assignment && version >= SKIP_ASSIGNMENT_VERSION_MIN;
    r.member_id = str_bytes(result.member_id);
    r.members = result
        .members
        .into_iter()
        .map(|m| {
            let mut out = JoinGroupResponseMember::default();
            out.member_id = str_bytes(m.member_id);
            out.group_instance_id = opt_str_bytes(m.group_instance_id);
            out.metadata = m.metadata;
            out
        })
        .collect();
    if result.error == Some(ResponseError::MemberIdRequired) {
        r.generation_id = -1;
    }
    r
}
