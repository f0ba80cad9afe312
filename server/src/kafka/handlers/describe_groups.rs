//! DescribeGroups (key 15): state, protocol and members of each group (assignments when Stable).
//! Each group needs DESCRIBE (else GROUP_AUTHORIZATION_FAILED for it, state ""), as in Kafka;
//! v3+ fills `authorized_operations` when asked.

use std::rc::Rc;

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse, GroupId};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::{AclOperation, ResourceType};

use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp};
use crate::group::state::GroupState;
use crate::group::wire::{code, opt_str_bytes, str_bytes, string, unexpected};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::util::join_all;

/// v6 reports unknown groups as GROUP_ID_NOT_FOUND; through v5 they are "Dead" with no error.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 5 };

/// `include_authorized_operations` exists from v3.
const AUTHORIZED_OPERATIONS_VERSION_MIN: i16 = 3;

/// The state Kafka names for a group it does not describe (`DescribeGroupsResponse.UNKNOWN_STATE`).
const UNKNOWN_STATE: &str = "";

pub async fn handle(
    groups: &Rc<GroupService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DescribeGroupsRequest = request.decode()?;
    let with_operations =
        request.version >= AUTHORIZED_OPERATIONS_VERSION_MIN && body.include_authorized_operations;
    let calls = body
        .groups
        .iter()
        .map(|g| {
            let group_id = string(&g.0);
            let allowed = authz.group(AclOperation::Describe, &group_id);
            async move {
                if !allowed {
                    return Err((group_id, ResponseError::GroupAuthorizationFailed));
                }
                let op = GroupOp::Describe {
                    group_id: group_id.clone(),
                };
                match groups.call(&group_id, op).await {
                    Ok(GroupAnswer::Describe(d)) => Ok(d),
                    Ok(other) => Err((group_id, unexpected(&other))),
                    Err(e) => Err((group_id, e)),
                }
            }
        })
        .collect();
    let mut response = DescribeGroupsResponse::default();
    for answer in join_all(calls).await {
        let mut out = DescribedGroup::default();
        match answer {
            Err((group_id, e)) => {
                let state = if e == ResponseError::GroupAuthorizationFailed {
                    UNKNOWN_STATE
                } else {
                    GroupState::Dead.name()
                };
                out.group_id = GroupId(str_bytes(group_id));
                out.error_code = e.code();
                out.group_state = str_bytes(state);
            }
            Ok(d) => {
                if with_operations && d.error.is_none() {
                    out.authorized_operations =
                        authz.authorized_operations(ResourceType::Group, &d.group_id);
                }
                out.group_id = GroupId(str_bytes(d.group_id));
                out.error_code = code(d.error);
                out.group_state = str_bytes(d.state.name());
                out.protocol_type = str_bytes(d.protocol_type);
                out.protocol_data = str_bytes(d.protocol_data);
                out.members = d
                    .members
                    .into_iter()
                    .map(|m| {
                        let mut member = DescribedGroupMember::default();
                        member.member_id = str_bytes(m.member_id);
                        member.group_instance_id = opt_str_bytes(m.group_instance_id);
                        member.client_id = str_bytes(m.client_id);
                        member.client_host = str_bytes(m.client_host);
                        member.member_metadata = m.metadata;
                        member.member_assignment = m.assignment;
                        member
                    })
                    .collect();
            }
        }
        response.groups.push(out);
    }
    Ok(request.respond(&response)?.into())
}
