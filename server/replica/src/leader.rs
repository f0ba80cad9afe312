//! The leader's replication state for one partition (Kafka's `Partition` leader side with its
//! `Replica`s): each follower's durable log end and when it last caught up, the ISR, the high
//! watermark, and the ISR change to propose to the controller (AlterPartition, KIP-497).
//!
//! Rules (Kafka's, with durability made explicit):
//! - A follower's fetch offset is its durable log end: it fetches offset N only after
//!   fdatasyncing everything below N.
//! - The high watermark is the minimum durable log end over the *maximal* ISR (the committed
//!   ISR plus members being added: a member is counted from the moment it is proposed, so the
//!   high watermark never depends on a change that may not commit). It never goes back, and it
//!   does not advance while the committed ISR is smaller than `min.insync.replicas`.
//! - The leader never changes the ISR itself: it proposes, the controller commits, and the new
//!   ISR arrives in the metadata ([`LeaderState::update_assignment`]). One proposal at a time,
//!   pending until the metadata answers it or the controller refuses it without change (see
//!   [`LeaderState::clear_pending_isr`]): a lost or late answer never clears it.
//! - A follower leaves after `replica.lag.time.max.ms` without catching up with the leader's
//!   log end; it joins once its durable end has reached the high watermark and the start of
//!   the current leader epoch.
//!
//! Lives on the partition's owner shard, inside its `Partition`.

use std::collections::BTreeMap;

/// The controller's assignment of a partition, as the metadata shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub leader: i32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
}

/// Why a replica's fetch is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowerRefusal {
    /// The fetching broker holds no replica of the partition.
    NotAReplica,
}

/// Where an acks=all produce that appended up to an offset stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcksAllState {
    /// Every in-sync replica has it durably: answer success.
    Replicated,
    /// The ISR shrank below `min.insync.replicas` before the high watermark passed it.
    NotEnoughReplicasAfterAppend,
    Waiting,
}

/// How the controller answered an ISR proposal (AlterPartition), or did not, as far as the
/// pending proposal goes: Kafka's `Partition.handleAlterPartitionError` table, see
/// [`LeaderState::on_isr_answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsrAnswer {
    /// Committed: the new ISR and partition epoch come with the metadata.
    Committed,
    /// Refused at the partition epoch this leader holds, nothing applied: INELIGIBLE_REPLICA,
    /// OPERATION_NOT_ATTEMPTED.
    RefusedUnchanged,
    /// Refused because the partition moved on (its metadata is on the way):
    /// INVALID_UPDATE_VERSION, FENCED_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER.
    RefusedStale,
    /// No answer in time, or the connection broke: it may have been committed.
    Lost,
}

/// What the leader knows of one follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Follower {
    /// Durable log end from its last fetch; None until it fetches from this leader.
    durable_end: Option<i64>,
    /// The last time its fetch reached the leader's log end (Kafka's lastCaughtUpTimeMs).
    caught_up_ms: u64,
    /// When it last fetched, and the leader's log end then.
    last_fetch_ms: u64,
    leader_end_at_last_fetch: Option<i64>,
}

impl Follower {
    fn new(now_ms: u64) -> Follower {
        Follower {
            durable_end: None,
            // Kafka gives every follower a full lag window from the leader's election.
            caught_up_ms: now_ms,
            last_fetch_ms: now_ms,
            leader_end_at_last_fetch: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LeaderState {
    node_id: i32,
    assignment: Assignment,
    /// An ISR proposed to the controller and not answered yet.
    pending_isr: Option<Vec<i32>>,
    min_insync: usize,
    lag_max_ms: u64,
    followers: BTreeMap<i32, Follower>,
    high_watermark: i64,
    /// The first offset of the current leader epoch (the log end at election).
    epoch_start_offset: i64,
}

impl LeaderState {
    /// This broker became the leader. `high_watermark` is what it knew as a follower (or its
    /// log start); `epoch_start_offset` its log end at election.
    pub fn new(
        node_id: i32,
        assignment: Assignment,
        min_insync: usize,
        lag_max_ms: u64,
        high_watermark: i64,
        epoch_start_offset: i64,
        now_ms: u64,
    ) -> LeaderState {
        assert_eq!(assignment.leader, node_id);
        assert!(min_insync >= 1);
        assert!(high_watermark <= epoch_start_offset);
        let followers = assignment
            .replicas
            .iter()
            .filter(|&&r| r != node_id)
            .map(|&r| (r, Follower::new(now_ms)))
            .collect();
        let state = LeaderState {
            node_id,
            assignment,
            pending_isr: None,
            min_insync,
            lag_max_ms,
            followers,
            high_watermark,
            epoch_start_offset,
        };
        state.check();
        state
    }

    pub fn assignment(&self) -> &Assignment {
        &self.assignment
    }

    pub fn leader_epoch(&self) -> i32 {
        self.assignment.leader_epoch
    }

    pub fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    pub fn epoch_start_offset(&self) -> i64 {
        self.epoch_start_offset
    }

    pub fn min_insync(&self) -> usize {
        self.min_insync
    }

    /// True when an ISR change is waiting for the controller.
    pub fn has_pending_isr(&self) -> bool {
        self.pending_isr.is_some()
    }

    /// A newer assignment of the same leader epoch (an ISR change, a reassignment) or new
    /// settings. Clears the pending proposal once the controller answered it (the partition
    /// epoch moved). Followers added to the replicas start with a full lag window.
    pub fn update_assignment(
        &mut self,
        assignment: Assignment,
        min_insync: usize,
        lag_max_ms: u64,
        now_ms: u64,
    ) {
        assert_eq!(assignment.leader, self.node_id);
        assert_eq!(assignment.leader_epoch, self.assignment.leader_epoch);
        assert!(min_insync >= 1);
        if assignment.partition_epoch != self.assignment.partition_epoch {
            self.pending_isr = None;
        }
        self.followers
            .retain(|replica, _| assignment.replicas.contains(replica));
        for &replica in &assignment.replicas {
            if replica != self.node_id {
                self.followers
                    .entry(replica)
                    .or_insert_with(|| Follower::new(now_ms));
            }
        }
        self.assignment = assignment;
        self.min_insync = min_insync;
        self.lag_max_ms = lag_max_ms;
        self.check();
    }

    /// A follower fetched at `fetch_offset` (its durable log end) while the leader's log ended
    /// at `leader_end`. Kafka's `Replica.updateFetchState`: it caught up now if it reached the
    /// leader's end, or at its previous fetch if it reached the end the leader had then.
    pub fn on_follower_fetch(
        &mut self,
        replica: i32,
        fetch_offset: i64,
        leader_end: i64,
        now_ms: u64,
    ) -> Result<(), FollowerRefusal> {
        assert!(fetch_offset >= 0);
        let Some(follower) = self.followers.get_mut(&replica) else {
            return Err(FollowerRefusal::NotAReplica);
        };
        if fetch_offset >= leader_end {
            follower.caught_up_ms = follower.caught_up_ms.max(now_ms);
        } else if follower
            .leader_end_at_last_fetch
            .is_some_and(|end| fetch_offset >= end)
        {
            follower.caught_up_ms = follower.caught_up_ms.max(follower.last_fetch_ms);
        }
        follower.durable_end = Some(fetch_offset);
        follower.last_fetch_ms = now_ms;
        follower.leader_end_at_last_fetch = Some(leader_end);
        Ok(())
    }

    /// The committed ISR plus members being added.
    pub fn maximal_isr(&self) -> Vec<i32> {
        let mut isr = self.assignment.isr.clone();
        for &replica in self.pending_isr.iter().flatten() {
            if !isr.contains(&replica) {
                isr.push(replica);
            }
        }
        isr
    }

    /// True when the committed ISR has at least `min.insync.replicas` members.
    pub fn has_enough_replicas(&self) -> bool {
        self.assignment.isr.len() >= self.min_insync
    }

    /// Moves the high watermark up to the minimum durable log end over the maximal ISR (the
    /// leader counting `leader_durable_end`). Returns the new value when it moved.
    pub fn advance_high_watermark(&mut self, leader_durable_end: i64) -> Option<i64> {
        if !self.has_enough_replicas() {
            return None;
        }
        let mut candidate = leader_durable_end;
        for replica in self.maximal_isr() {
            if replica == self.node_id {
                continue;
            }
            let end = self.followers.get(&replica).and_then(|f| f.durable_end);
            match end {
                Some(end) => candidate = candidate.min(end),
                // Not heard from since this leader's election: nothing is known to be safe.
                None => return None,
            }
        }
        if candidate <= self.high_watermark {
            return None;
        }
        self.high_watermark = candidate;
        self.check();
        Some(candidate)
    }

    /// Where an acks=all produce whose last offset is `last_offset` stands.
    pub fn acks_all_state(&self, last_offset: i64) -> AcksAllState {
        if self.high_watermark > last_offset {
            AcksAllState::Replicated
        } else if !self.has_enough_replicas() {
            AcksAllState::NotEnoughReplicasAfterAppend
        } else {
            AcksAllState::Waiting
        }
    }

    /// The ISR to propose now, if any: laggards out (no catch-up for `replica.lag.time.max.ms`),
    /// caught-up replicas in (durable end at or past both the high watermark and the start of
    /// this epoch). None while a proposal is pending or when nothing changes.
    pub fn isr_change(&self, now_ms: u64) -> Option<Vec<i32>> {
        if self.pending_isr.is_some() {
            return None;
        }
        let current = &self.assignment.isr;
        let mut proposed: Vec<i32> = current
            .iter()
            .copied()
            .filter(|&r| r == self.node_id || !self.lagging(r, now_ms))
            .collect();
        for (&replica, follower) in &self.followers {
            if current.contains(&replica) {
                continue;
            }
            let caught_up = follower
                .durable_end
                .is_some_and(|end| end >= self.high_watermark && end >= self.epoch_start_offset);
            if caught_up && !self.lagging(replica, now_ms) {
                proposed.push(replica);
            }
        }
        assert!(proposed.contains(&self.node_id));
        (proposed != *current).then_some(proposed)
    }

    /// The proposal was sent to the controller.
    pub fn set_pending_isr(&mut self, isr: Vec<i32>) {
        assert!(self.pending_isr.is_none());
        assert!(isr.contains(&self.node_id));
        self.pending_isr = Some(isr);
    }

    /// The ISR change waiting for the controller, if any: after a timeout or a lost answer the
    /// broker sends this same proposal again (Kafka retries it), it does not clear it.
    pub fn pending_isr(&self) -> Option<&[i32]> {
        self.pending_isr.as_deref()
    }

    /// The controller's answer to the pending proposal; returns the proposal to send again,
    /// if any. Only a refusal that leaves the ISR as this leader holds it clears the proposal
    /// here; a commit or a stale refusal keeps it pending until the metadata's new partition
    /// epoch reaches `update_assignment`; a lost answer sends it again.
    pub fn on_isr_answer(&mut self, answer: IsrAnswer) -> Option<Vec<i32>> {
        match answer {
            IsrAnswer::RefusedUnchanged => {
                self.clear_pending_isr();
                None
            }
            IsrAnswer::Committed | IsrAnswer::RefusedStale => None,
            IsrAnswer::Lost => self.pending_isr.clone(),
        }
    }

    /// The controller refused the proposal *and* said the ISR is still the one this leader
    /// holds: INELIGIBLE_REPLICA or OPERATION_NOT_ATTEMPTED (it checked the partition epoch
    /// first, so nothing was applied, by this or any other controller). The next `isr_change`
    /// proposes afresh.
    ///
    /// Not for any other outcome: the proposal may have been committed, and until the metadata
    /// says so its added members must keep holding the high watermark back (else it passes what
    /// a member of the controller's ISR has, and that member may be elected). A success, an
    /// INVALID_UPDATE_VERSION (the partition epoch moved) or a FENCED_LEADER_EPOCH: wait for
    /// the metadata, whose new partition epoch clears the proposal in `update_assignment`. A
    /// timeout or a lost answer: send [`LeaderState::pending_isr`] again. (Kafka's
    /// `Partition.handleAlterPartitionError` draws the same line; [`LeaderState::on_isr_answer`]
    /// applies it.)
    pub fn clear_pending_isr(&mut self) {
        self.pending_isr = None;
    }

    /// A follower's lag in offsets behind the leader's end and in ms since it caught up (None
    /// until it fetched from this leader).
    pub fn follower_lag(&self, replica: i32, leader_end: i64, now_ms: u64) -> Option<(i64, u64)> {
        let follower = self.followers.get(&replica)?;
        let end = follower.durable_end?;
        Some((
            (leader_end - end).max(0),
            now_ms.saturating_sub(follower.caught_up_ms),
        ))
    }

    fn lagging(&self, replica: i32, now_ms: u64) -> bool {
        self.followers
            .get(&replica)
            .is_none_or(|f| now_ms.saturating_sub(f.caught_up_ms) > self.lag_max_ms)
    }

    fn check(&self) {
        let assignment = &self.assignment;
        assert!(
            assignment.isr.contains(&self.node_id),
            "the leader is in its ISR"
        );
        assert!(assignment
            .isr
            .iter()
            .all(|r| assignment.replicas.contains(r)));
        assert!(self.high_watermark >= 0);
        assert!(self
            .followers
            .keys()
            .all(|r| assignment.replicas.contains(r)));
    }
}

#[cfg(test)]
mod tests;
