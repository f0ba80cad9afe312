//! SyncGroup: the leader hands in the assignment, every member gets its share.

use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::coordinator::{GroupCoordinator, Reply, Ticket, TimerKey};
use super::join::validate_member;
use super::state::GroupState;

#[derive(Debug, Clone)]
pub struct SyncRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    /// v5+: checked against the group's when present.
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// Only the leader's are used: (member id, assignment).
    pub assignments: Vec<(String, Bytes)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncResult {
    pub error: Option<ResponseError>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncResult {
    pub fn error(error: ResponseError) -> SyncResult {
        SyncResult {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SyncOutcome {
    Done(SyncResult),
    Parked(Ticket),
}

impl GroupCoordinator {
    pub fn sync(&mut self, req: SyncRequest, now_ms: u64) -> SyncOutcome {
        let fail = |e| SyncOutcome::Done(SyncResult::error(e));
        if let Err(e) = self.access(&req.group_id) {
            return fail(e);
        }
        let Some(group) = self.groups.get(&req.group_id) else {
            return fail(ResponseError::UnknownMemberId);
        };
        if group.is(GroupState::Dead) {
            return fail(ResponseError::CoordinatorNotAvailable);
        }
        if let Err(e) = validate_member(group, &req.member_id, req.group_instance_id.as_deref()) {
            return fail(e);
        }
        if req.generation_id != group.generation_id {
            return fail(ResponseError::IllegalGeneration);
        }
        let type_differs = req.protocol_type.is_some() && req.protocol_type != group.protocol_type;
        let name_differs = req.protocol_name.is_some() && req.protocol_name != group.protocol_name;
        if type_differs || name_differs {
            return fail(ResponseError::InconsistentGroupProtocol);
        }
        match group.state {
            GroupState::Empty | GroupState::Dead => fail(ResponseError::UnknownMemberId),
            GroupState::PreparingRebalance => fail(ResponseError::RebalanceInProgress),
            GroupState::CompletingRebalance => {
                SyncOutcome::Parked(self.sync_completing(req, now_ms))
            }
            GroupState::Stable => {
                let result = SyncResult {
                    error: None,
                    protocol_type: group.protocol_type.clone(),
                    protocol_name: group.protocol_name.clone(),
                    assignment: group.members[&req.member_id].assignment.clone(),
                };
                self.synced(&req.group_id, &req.member_id, now_ms);
                SyncOutcome::Done(result)
            }
        }
    }

    /// Parks the member; when it is the leader, installs the assignment, moves to Stable and
    /// answers every parked member once the group record is persisted.
    fn sync_completing(&mut self, req: SyncRequest, now_ms: u64) -> Ticket {
        let ticket = self.issue_ticket();
        let group = self.group_mut(&req.group_id);
        let member = group.members.get_mut(&req.member_id).expect("validated");
        if let Some(stale) = member.sync_ticket.replace(ticket) {
            self.reply(
                stale,
                Reply::Sync(SyncResult::error(ResponseError::RebalanceInProgress)),
            );
        }
        self.synced(&req.group_id, &req.member_id, now_ms);
        let group = self.group_mut(&req.group_id);
        if !group.is_leader(&req.member_id) {
            return ticket;
        }
        for member in group.members.values_mut() {
            member.assignment = req
                .assignments
                .iter()
                .find(|(id, _)| *id == member.member_id)
                .map(|(_, a)| a.clone())
                .unwrap_or_default();
        }
        group.transition(GroupState::Stable, now_ms);
        let mut replies = Vec::new();
        for member in group.members.values_mut() {
            if let Some(t) = member.sync_ticket.take() {
                let result = SyncResult {
                    error: None,
                    protocol_type: group.protocol_type.clone(),
                    protocol_name: group.protocol_name.clone(),
                    assignment: member.assignment.clone(),
                };
                replies.push((t, Reply::Sync(result)));
            }
        }
        let partition = group.partition;
        let record = self.group_record(&req.group_id);
        self.persist(partition, vec![record], replies);
        ticket
    }

    /// The member synced: it is live, and no longer owes a SyncGroup.
    fn synced(&mut self, group_id: &str, member_id: &str, now_ms: u64) {
        let group = self.group_mut(group_id);
        group.pending_sync.remove(member_id);
        if group.pending_sync.is_empty() {
            self.timers.cancel(&TimerKey::PendingSync {
                group: group_id.into(),
            });
        }
        self.heartbeat_seen(group_id, member_id, now_ms);
    }
}
