//! JoinGroup: Kafka's `handleJoinGroup` for new, pending, known and static members.

use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::classic_group::Group;
use super::coordinator::{GroupCoordinator, Reply, Ticket};
use super::member::Member;
use super::rebalance::{current_join_result, MemberUpdate};
use super::state::GroupState;

/// A JoinGroup request, version-independent.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub group_id: String,
    /// Empty for a member that has none yet.
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    /// v0 has none: the handler passes the session timeout, as Kafka does.
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    /// v4+: a new member first gets MEMBER_ID_REQUIRED with its id.
    pub require_known_member_id: bool,
    /// v9+: a static leader rejoining a stable group gets the members with skip_assignment.
    pub supports_skip_assignment: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub metadata: Bytes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JoinResult {
    pub error: Option<ResponseError>,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub skip_assignment: bool,
    pub member_id: String,
    /// Only the leader gets the members.
    pub members: Vec<JoinMember>,
}

impl JoinResult {
    pub fn error(error: ResponseError, member_id: &str) -> JoinResult {
        JoinResult {
            error: Some(error),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            skip_assignment: false,
            member_id: member_id.to_string(),
            members: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum JoinOutcome {
    Done(JoinResult),
    /// The answer comes later as `Reply::Join` for this ticket.
    Parked(Ticket),
}

impl GroupCoordinator {
    pub fn join(&mut self, req: JoinRequest, now_ms: u64) -> JoinOutcome {
        let fail = |e| JoinOutcome::Done(JoinResult::error(e, &req.member_id));
        if let Err(e) = self.access(&req.group_id) {
            return fail(e);
        }
        let session_ms = u64::try_from(req.session_timeout_ms).unwrap_or(0);
        if session_ms < self.config.session_timeout_ms_min
            || session_ms > self.config.session_timeout_ms_max
        {
            return fail(ResponseError::InvalidSessionTimeout);
        }
        if req.rebalance_timeout_ms <= 0 {
            return fail(ResponseError::InvalidRequest);
        }
        let is_new = req.member_id.is_empty();
        if !self.groups.contains_key(&req.group_id) {
            if !is_new {
                return fail(ResponseError::UnknownMemberId);
            }
            // Checked before creating so a refused join leaves no group behind.
            if req.protocol_type.is_empty() || req.protocols.is_empty() {
                return fail(ResponseError::InconsistentGroupProtocol);
            }
            let partition = self.partition_of(&req.group_id);
            let group = Group::new(&req.group_id, partition, now_ms);
            self.groups.insert(req.group_id.clone(), group);
        }
        let group = self.group(&req.group_id);
        if group.is(GroupState::Dead) {
            return fail(ResponseError::CoordinatorNotAvailable);
        }
        if !group.supports_protocols(&req.protocol_type, &req.protocols) {
            return fail(ResponseError::InconsistentGroupProtocol);
        }
        let joins_anew = is_new || !group.has_member(&req.member_id);
        if joins_anew && group.members.len() >= self.config.group_size_max {
            return fail(ResponseError::GroupMaxSizeReached);
        }
        if is_new {
            self.join_new_member(req, now_ms)
        } else {
            self.join_known_member(req, now_ms)
        }
    }

    fn join_new_member(&mut self, req: JoinRequest, now_ms: u64) -> JoinOutcome {
        let member_id = self.new_member_id(&req.client_id);
        if req.group_instance_id.is_some() {
            return self.join_static_member(req, member_id, now_ms);
        }
        if req.require_known_member_id {
            let session_ms = req.session_timeout_ms as u64;
            self.group_mut(&req.group_id)
                .pending_members
                .insert(member_id.clone());
            self.arm_heartbeat(&req.group_id, &member_id, now_ms + session_ms);
            let result = JoinResult::error(ResponseError::MemberIdRequired, &member_id);
            return JoinOutcome::Done(result);
        }
        let member = new_member(&req, member_id);
        let protocol_type = req.protocol_type.clone();
        JoinOutcome::Parked(self.add_member_and_rebalance(
            &req.group_id,
            member,
            &protocol_type,
            now_ms,
        ))
    }

    fn join_known_member(&mut self, req: JoinRequest, now_ms: u64) -> JoinOutcome {
        let group = self.group(&req.group_id);
        let fail = |e| JoinOutcome::Done(JoinResult::error(e, &req.member_id));
        if group.pending_members.contains(&req.member_id) {
            if req.group_instance_id.is_some() {
                return fail(ResponseError::UnknownMemberId);
            }
            let member = new_member(&req, req.member_id.clone());
            let protocol_type = req.protocol_type.clone();
            let ticket =
                self.add_member_and_rebalance(&req.group_id, member, &protocol_type, now_ms);
            return JoinOutcome::Parked(ticket);
        }
        if let Err(e) = validate_member(group, &req.member_id, req.group_instance_id.as_deref()) {
            return fail(e);
        }
        let member = &group.members[&req.member_id];
        let unchanged = member.protocols_match(&req.protocols);
        let rejoin_needed = match group.state {
            GroupState::PreparingRebalance => true,
            GroupState::CompletingRebalance => !unchanged,
            GroupState::Stable => group.is_leader(&req.member_id) || !unchanged,
            GroupState::Empty | GroupState::Dead => return fail(ResponseError::UnknownMemberId),
        };
        if !rejoin_needed {
            // Nothing changed for a follower: hand back the current generation so it syncs.
            let leader_gets = group.is(GroupState::CompletingRebalance);
            let result = current_join_result(group, &req.member_id, leader_gets);
            self.heartbeat_seen(&req.group_id, &req.member_id, now_ms);
            return JoinOutcome::Done(result);
        }
        let update = member_update(&req);
        JoinOutcome::Parked(self.update_member_and_rebalance(
            &req.group_id,
            &req.member_id,
            update,
            now_ms,
        ))
    }

    /// A static member (group.instance.id) without a member id: a newcomer joins like any
    /// member (no MEMBER_ID_REQUIRED round); a known instance takes over under the new id and
    /// the old id is fenced. A stable group with unchanged protocols skips the rebalance.
    fn join_static_member(
        &mut self,
        req: JoinRequest,
        member_id: String,
        now_ms: u64,
    ) -> JoinOutcome {
        let instance = req
            .group_instance_id
            .clone()
            .expect("static join has an instance id");
        let group = self.group(&req.group_id);
        let Some(old_id) = group.static_members.get(&instance).cloned() else {
            let member = new_member(&req, member_id);
            let protocol_type = req.protocol_type.clone();
            let ticket =
                self.add_member_and_rebalance(&req.group_id, member, &protocol_type, now_ms);
            return JoinOutcome::Parked(ticket);
        };
        let unchanged = group.members[&old_id].protocols_match(&req.protocols);
        let stable = group.is(GroupState::Stable);
        self.replace_static_member(&req.group_id, &old_id, &member_id, now_ms);
        if stable && unchanged {
            let group = self.group(&req.group_id);
            let is_leader = group.is_leader(&member_id);
            let skip = is_leader && req.supports_skip_assignment;
            let mut result = current_join_result(group, &member_id, skip);
            result.skip_assignment = skip;
            if is_leader && !skip {
                // Kafka's trick before KIP-814: name the old id as leader, so the restarted
                // leader doesn't run a trivial assignment over an empty member list (which a
                // stable group would ignore, and which makes clients rejoin).
                result.leader = old_id.clone();
            }
            let partition = group.partition;
            let ticket = self.issue_ticket();
            let record = self.group_record(&req.group_id);
            self.persist(partition, vec![record], vec![(ticket, Reply::Join(result))]);
            self.heartbeat_seen(&req.group_id, &member_id, now_ms);
            return JoinOutcome::Parked(ticket);
        }
        let update = member_update(&req);
        JoinOutcome::Parked(self.update_member_and_rebalance(
            &req.group_id,
            &member_id,
            update,
            now_ms,
        ))
    }

    /// Moves a static member to a new member id; whatever the old id had parked is fenced.
    fn replace_static_member(&mut self, group_id: &str, old_id: &str, new_id: &str, now_ms: u64) {
        self.cancel_heartbeat(group_id, old_id);
        let group = self.group_mut(group_id);
        let mut member = group
            .members
            .remove(old_id)
            .expect("static member is a member");
        let fenced_join = member.join_ticket.take();
        let fenced_sync = member.sync_ticket.take();
        member.member_id = new_id.to_string();
        let instance = member
            .group_instance_id
            .clone()
            .expect("static member has an instance id");
        group.static_members.insert(instance, new_id.to_string());
        if group.pending_sync.remove(old_id) {
            group.pending_sync.insert(new_id.to_string());
        }
        if group.is_leader(old_id) {
            group.leader_id = Some(new_id.to_string());
        }
        group.members.insert(new_id.to_string(), member);
        if let Some(t) = fenced_join {
            let result = JoinResult::error(ResponseError::FencedInstanceId, old_id);
            self.reply(t, Reply::Join(result));
        }
        if let Some(t) = fenced_sync {
            let result = super::sync::SyncResult::error(ResponseError::FencedInstanceId);
            self.reply(t, Reply::Sync(result));
        }
        self.heartbeat_seen(group_id, new_id, now_ms);
    }
}

/// Kafka's `validateCurrentMember`: the member exists, and a static member's instance id still
/// maps to it.
pub(super) fn validate_member(
    group: &Group,
    member_id: &str,
    group_instance_id: Option<&str>,
) -> Result<(), ResponseError> {
    if let Some(instance) = group_instance_id {
        match group.static_members.get(instance) {
            Some(id) if id == member_id => {}
            Some(_) => return Err(ResponseError::FencedInstanceId),
            None if group.has_member(member_id) => return Err(ResponseError::FencedInstanceId),
            None => return Err(ResponseError::UnknownMemberId),
        }
    }
    if !group.has_member(member_id) {
        return Err(ResponseError::UnknownMemberId);
    }
    Ok(())
}

fn new_member(req: &JoinRequest, member_id: String) -> Member {
    Member {
        member_id,
        group_instance_id: req.group_instance_id.clone(),
        client_id: req.client_id.clone(),
        client_host: req.client_host.clone(),
        session_timeout_ms: req.session_timeout_ms as u64,
        rebalance_timeout_ms: req.rebalance_timeout_ms as u64,
        protocols: req.protocols.clone(),
        assignment: Bytes::new(),
        join_ticket: None,
        sync_ticket: None,
        is_new: true,
    }
}

fn member_update(req: &JoinRequest) -> MemberUpdate {
    MemberUpdate {
        protocols: req.protocols.clone(),
        session_timeout_ms: req.session_timeout_ms as u64,
        rebalance_timeout_ms: req.rebalance_timeout_ms as u64,
    }
}
