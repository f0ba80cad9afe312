//! DescribeGroups (key 15): state, protocol and members of each group (assignments when Stable).

use std::rc::Rc;

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse, GroupId};
use kafka_protocol::protocol::VersionRange;

use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp};
use crate::group::state::GroupState;
use crate::group::wire::{code, opt_str_bytes, str_bytes, string, unexpected};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::util::join_all;

/// v6 reports unknown groups as GROUP_ID_NOT_FOUND; through v5 they are "Dead" with no error.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 5 };

pub async fn handle(groups: &Rc<GroupService>, request: Request) -> Result<Outcome, RequestError> {
    let body: DescribeGroupsRequest = request.decode()?;
    let calls = body
        .groups
        .iter()
        .map(|g| {
            let group_id = string(&g.0);
            async move {
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
                out.group_id = GroupId(str_bytes(group_id));
                out.error_code = e.code();
                out.group_state = str_bytes(GroupState::Dead.name());
            }
            Ok(d) => {
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
