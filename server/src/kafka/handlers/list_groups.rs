//! ListGroups (key 16): every shard lists the groups it coordinates; the answers are merged.
//! DESCRIBE on the cluster shows every group; otherwise only the groups the principal may
//! DESCRIBE are listed (the others are left out quietly), as in Kafka.

use std::rc::Rc;

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};
use kafka_protocol::protocol::VersionRange;
use sluice_security::acl::{AclOperation, ResourceType};

use crate::group::admin::GROUP_TYPE_CLASSIC;
use crate::group::service::GroupService;
use crate::group::service::{GroupAnswer, GroupOp};
use crate::group::wire::{str_bytes, string, unexpected};
use crate::kafka::authz::{Authz, CLUSTER_NAME};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::util::join_all;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 5 };

const GROUP_TYPE_VERSION_MIN: i16 = 5;
const GROUP_STATE_VERSION_MIN: i16 = 4;

pub async fn handle(
    groups: &Rc<GroupService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: ListGroupsRequest = request.decode()?;
    let sees_all = authz.can_see(AclOperation::Describe, ResourceType::Cluster, CLUSTER_NAME);
    let visible =
        |group: &str| sees_all || authz.can_see(AclOperation::Describe, ResourceType::Group, group);
    let states: Vec<String> = body.states_filter.iter().map(string).collect();
    let types: Vec<String> = body.types_filter.iter().map(string).collect();
    let calls = (0..groups.ctx().shards())
        .map(|target| {
            let op = GroupOp::ListGroups {
                states: states.clone(),
                types: types.clone(),
            };
            async move {
                match groups.call_shard(target, op).await {
                    Ok(GroupAnswer::ListGroups(listed)) => listed,
                    Ok(other) => Err(unexpected(&other)),
                    Err(e) => Err(e),
                }
            }
        })
        .collect();
    let mut response = ListGroupsResponse::default();
    for answer in join_all(calls).await {
        match answer {
            Err(e) => response.error_code = e.code(),
            Ok(groups) => {
                for g in groups.into_iter().filter(|g| visible(&g.group_id)) {
                    let mut out = ListedGroup::default();
                    out.group_id = GroupId(str_bytes(g.group_id));
                    out.protocol_type = str_bytes(g.protocol_type);
                    if request.version >= GROUP_STATE_VERSION_MIN {
                        out.group_state = str_bytes(g.state.name());
                    }
                    if request.version >= GROUP_TYPE_VERSION_MIN {
                        out.group_type = str_bytes(GROUP_TYPE_CLASSIC);
                    }
                    response.groups.push(out);
                }
            }
        }
    }
    Ok(request.respond(&response)?.into())
}
