//! LeaveGroup (key 13): one member (v0–v2) or a batch (v3+) leaves; the group rebalances now.
//! Needs READ on the group (else GROUP_AUTHORIZATION_FAILED at the top), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::AclOperation;

use crate::group::heartbeat::LeavingMember;
use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp};
use crate::group::wire::{code, opt_string, string, unexpected};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 5 };

const BATCH_VERSION_MIN: i16 = 3;

pub async fn handle(
    groups: &Rc<GroupService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: LeaveGroupRequest = request.decode()?;
    if !authz.group(AclOperation::Read, body.group_id.0.as_str()) {
        let mut response = LeaveGroupResponse::default();
        response.error_code = ResponseError::GroupAuthorizationFailed.code();
        return Ok(request.respond(&response)?.into());
    }
    let batch = request.version >= BATCH_VERSION_MIN;
    let members: Vec<LeavingMember> = if batch {
        body.members
            .iter()
            .map(|m| LeavingMember {
                member_id: string(&m.member_id),
                group_instance_id: opt_string(&m.group_instance_id),
            })
            .collect()
    } else {
        vec![LeavingMember {
            member_id: string(&body.member_id),
            group_instance_id: None,
        }]
    };
    let group_id = string(&body.group_id.0);
    let op = GroupOp::Leave {
        group_id: group_id.clone(),
        members: members.clone(),
    };
    let outcome = match groups.call(&group_id, op).await {
        Ok(GroupAnswer::Leave(outcome)) => outcome,
        Ok(other) => Err(unexpected(&other)),
        Err(e) => Err(e),
    };
    let mut response = LeaveGroupResponse::default();
    match outcome {
        Err(e) => response.error_code = e.code(),
        Ok(results) if !batch => response.error_code = code(results.first().copied().flatten()),
        Ok(results) => {
            response.members = members
                .into_iter()
                .zip(results)
                .map(|(m, error)| {
                    let mut out = MemberResponse::default();
                    out.member_id = crate::group::wire::str_bytes(m.member_id);
                    out.group_instance_id = m.group_instance_id.map(crate::group::wire::str_bytes);
                    out.error_code = code(error);
                    out
                })
                .collect();
        }
    }
    Ok(request.respond(&response)?.into())
}
