//! A partition's replica role (leader, follower, or the sole replica before the metadata
//! spoke) and the role changes the metadata drives. The leader's bookkeeping is the pure
//! `sluice_replica::LeaderState`; this file keeps it next to the log and answers what the
//! produce, fetch and ISR paths ask of it.
//!
//! Lives inside a `Partition`, on its owner shard.

use sluice_replica::{AcksAllState, Assignment, LeaderState};

use super::partition::Partition;
use crate::error_code::ResponseError;

/// This broker's role for one partition.
#[derive(Debug)]
pub enum ReplicaRole {
    /// Opened, and the metadata has not named a role yet (a log opened outside a cluster
    /// image, as unit tests do): the only replica, its high watermark the flushed offset.
    Sole,
    Leader(Box<LeaderState>),
    Follower(FollowerView),
}

/// What a follower knows: whom it follows, in which epoch, and the high watermark as of its
/// last fetch (Kafka's rule: min(the leader's high watermark, its own log end)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowerView {
    pub leader: i32,
    pub leader_epoch: i32,
    pub high_watermark: i64,
}

/// Why a client append was refused before touching the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoleRefusal {
    #[error("this broker does not lead the partition")]
    NotLeader,
    #[error("the ISR has {isr} members, fewer than min.insync.replicas ({min})")]
    NotEnoughReplicas { isr: usize, min: usize },
}

impl RoleRefusal {
    pub fn code(self) -> i16 {
        match self {
            RoleRefusal::NotLeader => ResponseError::NotLeaderOrFollower.code(),
            RoleRefusal::NotEnoughReplicas { .. } => ResponseError::NotEnoughReplicas.code(),
        }
    }
}

/// Where an acks=all produce stands on its partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcksAll {
    Replicated,
    NotEnoughReplicasAfterAppend,
    NotLeader,
    Waiting,
}

impl ReplicaRole {
    /// The high watermark given the leader's durable and whole log ends; a leader moves it up
    /// first.
    pub fn high_watermark(&mut self, flushed: i64, log_end: i64) -> i64 {
        assert!(flushed <= log_end);
        match self {
            ReplicaRole::Sole => flushed,
            ReplicaRole::Leader(state) => {
                state.advance_high_watermark(flushed);
                state.high_watermark()
            }
            ReplicaRole::Follower(view) => view.high_watermark.min(log_end),
        }
    }

    /// Clients may append only to a leader (or the sole replica).
    pub fn check_appendable(&self) -> Result<(), RoleRefusal> {
        match self {
            ReplicaRole::Sole | ReplicaRole::Leader(_) => Ok(()),
            ReplicaRole::Follower(_) => Err(RoleRefusal::NotLeader),
        }
    }

    /// acks=all appends need `min.insync.replicas` in the committed ISR (KIP: checked before
    /// the append, so nothing is written when it fails).
    pub fn check_enough_replicas(&self) -> Result<(), RoleRefusal> {
        self.check_appendable()?;
        match self {
            ReplicaRole::Leader(state) if !state.has_enough_replicas() => {
                Err(RoleRefusal::NotEnoughReplicas {
                    isr: state.assignment().isr.len(),
                    min: state.min_insync(),
                })
            }
            _ => Ok(()),
        }
    }

    pub fn leader(&self) -> Option<&LeaderState> {
        match self {
            ReplicaRole::Leader(state) => Some(state),
            _ => None,
        }
    }

    pub fn leader_mut(&mut self) -> Option<&mut LeaderState> {
        match self {
            ReplicaRole::Leader(state) => Some(state),
            _ => None,
        }
    }

    pub fn follower(&self) -> Option<FollowerView> {
        match self {
            ReplicaRole::Follower(view) => Some(*view),
            _ => None,
        }
    }
}

/// The metadata's word on a partition this broker hosts.
#[derive(Debug, Clone)]
pub struct RoleChange {
    pub node_id: i32,
    pub assignment: Assignment,
    pub min_insync: usize,
    pub lag_max_ms: u64,
    pub now_ms: u64,
}

impl Partition {
    /// Applies the metadata's assignment: lead, follow, or (leader epoch unchanged) take the new
    /// ISR and settings. An older leader epoch than this replica has seen is a stale image and
    /// is ignored. Becoming leader records the epoch's start in the log first (an error leaves
    /// the role as it was and is returned).
    pub async fn apply_role(&self, change: RoleChange) -> Result<(), sluice_engine::LogError> {
        let RoleChange {
            node_id,
            assignment,
            min_insync,
            lag_max_ms,
            now_ms,
        } = change;
        let epoch = assignment.leader_epoch;
        if epoch < self.leader_epoch() {
            tracing::warn!(topic = %self.topic(), partition = self.index(), current = self.leader_epoch(), epoch, "ignoring an older leader epoch");
            return Ok(());
        }
        if assignment.leader != node_id {
            self.become_follower(assignment.leader, epoch);
            return Ok(());
        }
        let same_epoch = self
            .role
            .borrow()
            .leader()
            .is_some_and(|state| state.leader_epoch() == epoch);
        if same_epoch {
            let mut role = self.role.borrow_mut();
            if let Some(state) = role.leader_mut() {
                // Within an epoch, partition epochs only grow: an older one is a stale image.
                if assignment.partition_epoch >= state.assignment().partition_epoch {
                    state.update_assignment(assignment, min_insync, lag_max_ms, now_ms);
                }
            }
            return Ok(());
        }
        let high_watermark = self.high_watermark();
        self.log().start_leader_epoch(epoch).await?;
        let epoch_start = self.log_end_offset();
        let high_watermark = high_watermark
            .min(epoch_start)
            .max(self.log_start_offset().min(epoch_start));
        let state = LeaderState::new(
            node_id,
            assignment,
            min_insync,
            lag_max_ms,
            high_watermark,
            epoch_start,
            now_ms,
        );
        *self.role.borrow_mut() = ReplicaRole::Leader(Box::new(state));
        self.set_leader_epoch(epoch);
        tracing::info!(topic = %self.topic(), partition = self.index(), epoch, epoch_start, "leading");
        Ok(())
    }

    /// Follows `leader` from `leader_epoch` on: client appends are refused, batches come from
    /// the leader's log.
    fn become_follower(&self, leader: i32, leader_epoch: i32) {
        let was = self.role.borrow().follower();
        if was.is_some_and(|view| view.leader == leader && view.leader_epoch == leader_epoch) {
            return;
        }
        let high_watermark = self.high_watermark();
        *self.role.borrow_mut() = ReplicaRole::Follower(FollowerView {
            leader,
            leader_epoch,
            high_watermark,
        });
        self.set_leader_epoch(leader_epoch);
        tracing::info!(topic = %self.topic(), partition = self.index(), leader, leader_epoch, "following");
    }

    /// Where an acks=all produce whose last offset is `last_offset` stands.
    pub fn acks_all(&self, last_offset: i64) -> AcksAll {
        let high_watermark = self.high_watermark();
        let role = self.role.borrow();
        match &*role {
            ReplicaRole::Sole if high_watermark > last_offset => AcksAll::Replicated,
            ReplicaRole::Sole => AcksAll::Waiting,
            ReplicaRole::Follower(_) => AcksAll::NotLeader,
            ReplicaRole::Leader(state) => match state.acks_all_state(last_offset) {
                AcksAllState::Replicated => AcksAll::Replicated,
                AcksAllState::NotEnoughReplicasAfterAppend => AcksAll::NotEnoughReplicasAfterAppend,
                AcksAllState::Waiting => AcksAll::Waiting,
            },
        }
    }

    /// Refuses an acks=all append before it is written when the ISR is below
    /// `min.insync.replicas`, and any client append on a follower.
    pub fn check_enough_replicas(&self) -> Result<(), RoleRefusal> {
        self.role.borrow().check_enough_replicas()
    }

    /// The follower's view, when following.
    pub fn follower_view(&self) -> Option<FollowerView> {
        self.role.borrow().follower()
    }

    /// True when this broker leads the partition (or is its only replica).
    pub fn is_leader(&self) -> bool {
        self.role.borrow().check_appendable().is_ok()
    }

    /// Runs `f` on the leader state, when leading.
    pub fn with_leader_state<R>(&self, f: impl FnOnce(&mut LeaderState) -> R) -> Option<R> {
        self.role.borrow_mut().leader_mut().map(f)
    }
}
