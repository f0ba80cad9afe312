//! The rebalance cycle shared by every group API: start a join phase, finish it (new generation,
//! protocol selection, JoinGroup answers), remove members that left or expired, and the timers
//! that bound each phase.

use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::coordinator::{GroupCoordinator, JoinPhase, Reply, Ticket, TimerKey};
use super::join::{JoinMember, JoinResult};
use super::member::Member;
use super::state::GroupState;
use super::sync::SyncResult;

impl GroupCoordinator {
    /// Starts a rebalance if the group's state allows one, else tries to end the current one.
    pub(super) fn maybe_prepare_rebalance(&mut self, group_id: &str, now_ms: u64) {
        let state = self.group(group_id).state;
        match state {
            GroupState::Stable | GroupState::CompletingRebalance | GroupState::Empty => {
                self.prepare_rebalance(group_id, now_ms)
            }
            GroupState::PreparingRebalance => self.try_complete_join(group_id, now_ms),
            GroupState::Dead => {}
        }
    }

    /// Kafka's `prepareRebalance`: parked SyncGroups fail with REBALANCE_IN_PROGRESS, and the
    /// join phase starts (the initial delay for an empty group, else the rebalance timeout).
    pub(super) fn prepare_rebalance(&mut self, group_id: &str, now_ms: u64) {
        if self.group(group_id).is(GroupState::CompletingRebalance) {
            self.reset_and_propagate_error(group_id, ResponseError::RebalanceInProgress);
        }
        self.timers.cancel(&TimerKey::PendingSync {
            group: group_id.into(),
        });
        let delay_ms = self.config.initial_rebalance_delay_ms;
        let group = self.group_mut(group_id);
        group.pending_sync.clear();
        let rebalance_ms = group.rebalance_timeout_ms();
        let (phase, deadline_ms) = if group.is(GroupState::Empty) && delay_ms > 0 {
            let delay_ms = delay_ms.min(rebalance_ms);
            let remaining_ms = rebalance_ms - delay_ms;
            (JoinPhase::InitialDelay { remaining_ms }, now_ms + delay_ms)
        } else {
            (JoinPhase::Rebalance, now_ms + rebalance_ms)
        };
        group.transition(GroupState::PreparingRebalance, now_ms);
        self.join_phases.insert(group_id.into(), phase);
        self.timers.arm(
            TimerKey::Join {
                group: group_id.into(),
            },
            deadline_ms,
        );
        self.try_complete_join(group_id, now_ms);
    }

    /// Ends the join phase early once every known member has rejoined (never during the
    /// initial delay, which exists to gather more members).
    pub(super) fn try_complete_join(&mut self, group_id: &str, now_ms: u64) {
        let group = self.group(group_id);
        if !group.is(GroupState::PreparingRebalance) {
            return;
        }
        if self.join_phases.get(group_id) != Some(&JoinPhase::Rebalance) {
            return;
        }
        if group.all_members_joined() {
            self.complete_join(group_id, now_ms);
        }
    }

    pub(super) fn on_join_timer(&mut self, group_id: &str, now_ms: u64) {
        let Some(phase) = self.join_phases.get(group_id).copied() else {
            return;
        };
        let delay_ms = self.config.initial_rebalance_delay_ms;
        let Some(group) = self.groups.get_mut(group_id) else {
            return;
        };
        if let JoinPhase::InitialDelay { remaining_ms } = phase {
            if group.new_member_added && remaining_ms > 0 {
                group.new_member_added = false;
                let step_ms = delay_ms.min(remaining_ms);
                let phase = JoinPhase::InitialDelay {
                    remaining_ms: remaining_ms - step_ms,
                };
                self.join_phases.insert(group_id.into(), phase);
                self.timers.arm(
                    TimerKey::Join {
                        group: group_id.into(),
                    },
                    now_ms + step_ms,
                );
                return;
            }
        }
        self.complete_join(group_id, now_ms);
    }

    /// Kafka's `onCompleteJoin`: members that didn't rejoin are dropped, the generation moves
    /// on, the protocol is selected and every parked JoinGroup is answered (the leader gets
    /// the members' metadata).
    pub(super) fn complete_join(&mut self, group_id: &str, now_ms: u64) {
        self.timers.cancel(&TimerKey::Join {
            group: group_id.into(),
        });
        self.join_phases.remove(group_id);
        let not_joined: Vec<String> = self
            .group(group_id)
            .members
            .values()
            .filter(|m| m.join_ticket.is_none())
            .map(|m| m.member_id.clone())
            .collect();
        for member_id in not_joined {
            self.cancel_heartbeat(group_id, &member_id);
            self.group_mut(group_id).remove_member(&member_id);
        }
        let group = self.group_mut(group_id);
        assert!(group.is(GroupState::PreparingRebalance));
        group.new_member_added = false;
        group.elect_joined_leader();
        group.generation_id += 1;
        if group.members.is_empty() {
            group.protocol_name = None;
            group.leader_id = None;
            group.transition(GroupState::Empty, now_ms);
            let partition = group.partition;
            let record = self.group_record(group_id);
            self.persist(partition, vec![record], Vec::new());
            return;
        }
        group.protocol_name = group.select_protocol();
        assert!(
            group.protocol_name.is_some(),
            "members joined without a common protocol"
        );
        group.transition(GroupState::CompletingRebalance, now_ms);
        let rebalance_ms = group.rebalance_timeout_ms();
        let mut replies = Vec::new();
        let mut sessions = Vec::new();
        let member_ids: Vec<String> = group.members.keys().cloned().collect();
        for member_id in &member_ids {
            let result = current_join_result(group, member_id, true);
            let member = group.members.get_mut(member_id).expect("listed above");
            member.is_new = false;
            let ticket = member
                .join_ticket
                .take()
                .expect("all remaining members joined");
            sessions.push((member_id.clone(), member.session_timeout_ms));
            replies.push((ticket, Reply::Join(result)));
        }
        group.pending_sync = member_ids.into_iter().collect();
        for (ticket, reply) in replies {
            self.reply(ticket, reply);
        }
        for (member_id, session_ms) in sessions {
            self.arm_heartbeat(group_id, &member_id, now_ms + session_ms);
        }
        self.timers.arm(
            TimerKey::PendingSync {
                group: group_id.into(),
            },
            now_ms + rebalance_ms,
        );
    }

    /// Fails every parked SyncGroup and forgets the assignment (Kafka's
    /// `resetAndPropagateAssignmentError`).
    pub(super) fn reset_and_propagate_error(&mut self, group_id: &str, error: ResponseError) {
        let group = self.group_mut(group_id);
        let mut tickets = Vec::new();
        for member in group.members.values_mut() {
            member.assignment = Bytes::new();
            tickets.extend(member.sync_ticket.take());
        }
        for ticket in tickets {
            self.reply(ticket, Reply::Sync(SyncResult::error(error)));
        }
    }

    /// A new member enters a join phase (starting one if needed). Returns its parked ticket.
    pub(super) fn add_member_and_rebalance(
        &mut self,
        group_id: &str,
        mut member: Member,
        protocol_type: &str,
        now_ms: u64,
    ) -> Ticket {
        let ticket = self.issue_ticket();
        member.join_ticket = Some(ticket);
        member.is_new = true;
        let member_id = member.member_id.clone();
        let group = self.group_mut(group_id);
        group.add_member(member, protocol_type);
        if group.is(GroupState::PreparingRebalance) {
            group.new_member_added = true;
        }
        let deadline_ms = now_ms + self.config.new_member_join_timeout_ms;
        self.arm_heartbeat(group_id, &member_id, deadline_ms);
        self.maybe_prepare_rebalance(group_id, now_ms);
        ticket
    }

    /// A known member rejoins with (possibly new) protocols. Returns its parked ticket.
    pub(super) fn update_member_and_rebalance(
        &mut self,
        group_id: &str,
        member_id: &str,
        update: MemberUpdate,
        now_ms: u64,
    ) -> Ticket {
        let ticket = self.issue_ticket();
        let member = self
            .group_mut(group_id)
            .members
            .get_mut(member_id)
            .expect("validated");
        member.protocols = update.protocols;
        member.session_timeout_ms = update.session_timeout_ms;
        member.rebalance_timeout_ms = update.rebalance_timeout_ms;
        // A client that retried its JoinGroup no longer waits on the old one.
        let stale = member.join_ticket.replace(ticket);
        if let Some(stale) = stale {
            let result = JoinResult::error(ResponseError::RebalanceInProgress, member_id);
            self.reply(stale, Reply::Join(result));
        }
        self.maybe_prepare_rebalance(group_id, now_ms);
        ticket
    }

    /// Kafka's `removeMemberAndUpdateGroup`: a member left or expired.
    pub(super) fn remove_member_and_update(
        &mut self,
        group_id: &str,
        member_id: &str,
        now_ms: u64,
    ) {
        self.cancel_heartbeat(group_id, member_id);
        let Some(member) = self.group_mut(group_id).remove_member(member_id) else {
            return;
        };
        if let Some(ticket) = member.join_ticket {
            let result = JoinResult::error(ResponseError::UnknownMemberId, member_id);
            self.reply(ticket, Reply::Join(result));
        }
        if let Some(ticket) = member.sync_ticket {
            self.reply(
                ticket,
                Reply::Sync(SyncResult::error(ResponseError::UnknownMemberId)),
            );
        }
        self.maybe_prepare_rebalance(group_id, now_ms);
    }

    /// Session timer fired. Members parked in JoinGroup (except brand-new ones) and in
    /// SyncGroup are kept alive: the join and sync deadlines bound those phases instead.
    pub(super) fn on_heartbeat_expired(&mut self, group_id: &str, member_id: &str, now_ms: u64) {
        let Some(group) = self.groups.get_mut(group_id) else {
            return;
        };
        if group.pending_members.remove(member_id) {
            self.try_complete_join(group_id, now_ms);
            return;
        }
        let Some(member) = group.members.get(member_id) else {
            return;
        };
        let keep_alive = if member.join_ticket.is_some() {
            !member.is_new
        } else {
            member.sync_ticket.is_some()
        };
        if keep_alive {
            return;
        }
        tracing::info!(
            group = group_id,
            member = member_id,
            "member session expired"
        );
        self.remove_member_and_update(group_id, member_id, now_ms);
    }

    /// Members that got their JoinGroup answer but never sent SyncGroup are removed.
    pub(super) fn on_pending_sync_expired(&mut self, group_id: &str, now_ms: u64) {
        let Some(group) = self.groups.get(group_id) else {
            return;
        };
        if !matches!(
            group.state,
            GroupState::CompletingRebalance | GroupState::Stable
        ) {
            return;
        }
        let late: Vec<String> = group.pending_sync.iter().cloned().collect();
        for member_id in late {
            tracing::info!(
                group = group_id,
                member = member_id,
                "member never sent SyncGroup"
            );
            self.remove_member_and_update(group_id, &member_id, now_ms);
        }
    }
}

/// What a rejoining member may change.
pub(super) struct MemberUpdate {
    pub protocols: Vec<(String, Bytes)>,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
}

/// The JoinGroup answer of the current generation for `member_id`; the leader gets the member
/// list when `leader_gets_members`.
pub(super) fn current_join_result(
    group: &super::classic_group::Group,
    member_id: &str,
    leader_gets_members: bool,
) -> JoinResult {
    let protocol = group.protocol_name.clone().unwrap_or_default();
    let members = if leader_gets_members && group.is_leader(member_id) {
        group
            .members
            .values()
            .map(|m| JoinMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.protocol_metadata(&protocol).cloned().unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    JoinResult {
        error: None,
        generation_id: group.generation_id,
        protocol_type: group.protocol_type.clone(),
        protocol_name: group.protocol_name.clone(),
        leader: group.leader_id.clone().unwrap_or_default(),
        skip_assignment: false,
        member_id: member_id.to_string(),
        members,
    }
}
