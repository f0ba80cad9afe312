//! Heartbeat and LeaveGroup: liveness and departure of members.

use kafka_protocol::ResponseError;

use super::coordinator::GroupCoordinator;
use super::join::validate_member;
use super::state::GroupState;

#[derive(Debug, Clone)]
pub struct HeartbeatRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
}

/// One member named in a LeaveGroup (v0–v2 name exactly one).
#[derive(Debug, Clone)]
pub struct LeavingMember {
    /// Empty when an admin removes a static member by instance id only.
    pub member_id: String,
    pub group_instance_id: Option<String>,
}

impl GroupCoordinator {
    /// Kafka's `handleHeartbeat`. `None` is success.
    pub fn heartbeat(&mut self, req: HeartbeatRequest, now_ms: u64) -> Option<ResponseError> {
        if let Err(e) = self.access(&req.group_id) {
            return Some(e);
        }
        let Some(group) = self.groups.get(&req.group_id) else {
            return Some(ResponseError::UnknownMemberId);
        };
        match group.state {
            GroupState::Dead => return Some(ResponseError::CoordinatorNotAvailable),
            GroupState::Empty => return Some(ResponseError::UnknownMemberId),
            _ => {}
        }
        if let Err(e) = validate_member(group, &req.member_id, req.group_instance_id.as_deref()) {
            return Some(e);
        }
        if req.generation_id != group.generation_id {
            return Some(ResponseError::IllegalGeneration);
        }
        let state = group.state;
        self.heartbeat_seen(&req.group_id, &req.member_id, now_ms);
        match state {
            GroupState::PreparingRebalance => Some(ResponseError::RebalanceInProgress),
            _ => None,
        }
    }

    /// Kafka's `handleLeaveGroup`: `Err` is a group-level error, else one result per member.
    pub fn leave(
        &mut self,
        group_id: &str,
        members: &[LeavingMember],
        now_ms: u64,
    ) -> Result<Vec<Option<ResponseError>>, ResponseError> {
        self.access(group_id)?;
        let Some(group) = self.groups.get(group_id) else {
            return Ok(vec![Some(ResponseError::UnknownMemberId); members.len()]);
        };
        if group.is(GroupState::Dead) {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        let mut results = Vec::with_capacity(members.len());
        for leaving in members {
            results.push(self.leave_one(group_id, leaving, now_ms));
        }
        Ok(results)
    }

    fn leave_one(
        &mut self,
        group_id: &str,
        leaving: &LeavingMember,
        now_ms: u64,
    ) -> Option<ResponseError> {
        let group = self.group_mut(group_id);
        let member_id = match &leaving.group_instance_id {
            Some(instance) => match group.static_members.get(instance) {
                None => return Some(ResponseError::UnknownMemberId),
                Some(id) if !leaving.member_id.is_empty() && *id != leaving.member_id => {
                    return Some(ResponseError::FencedInstanceId)
                }
                Some(id) => id.clone(),
            },
            None => leaving.member_id.clone(),
        };
        if group.pending_members.remove(&member_id) {
            self.cancel_heartbeat(group_id, &member_id);
            self.try_complete_join(group_id, now_ms);
            return None;
        }
        if !group.has_member(&member_id) {
            return Some(ResponseError::UnknownMemberId);
        }
        tracing::debug!(group = group_id, member = member_id, "member left");
        self.remove_member_and_update(group_id, &member_id, now_ms);
        None
    }
}
