//! DeleteGroups (key 42): empty groups go, with their committed offsets (tombstones persisted
//! before the answer). Each group needs DELETE (else GROUP_AUTHORIZATION_FAILED for it), as in
//! Kafka.

use std::rc::Rc;

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse, GroupId};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;
use sluice_security::acl::AclOperation;

use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp};
use crate::group::wire::{code, str_bytes, string, unexpected};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::util::join_all;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 2 };

pub async fn handle(
    groups: &Rc<GroupService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DeleteGroupsRequest = request.decode()?;
    let calls = body
        .groups_names
        .iter()
        .map(|g| {
            let group_id = string(&g.0);
            let allowed = authz.group(AclOperation::Delete, &group_id);
            async move {
                if !allowed {
                    return (group_id, Some(ResponseError::GroupAuthorizationFailed));
                }
                let op = GroupOp::Delete {
                    group_id: group_id.clone(),
                };
                let error = match groups.call(&group_id, op).await {
                    Ok(GroupAnswer::Delete(error)) => error,
                    Ok(other) => Some(unexpected(&other)),
                    Err(e) => Some(e),
                };
                (group_id, error)
            }
        })
        .collect();
    let mut response = DeleteGroupsResponse::default();
    for (group_id, error) in join_all(calls).await {
        let mut result = DeletableGroupResult::default();
        result.group_id = GroupId(str_bytes(group_id));
        result.error_code = code(error);
        response.results.push(result);
    }
    Ok(request.respond(&response)?.into())
}
