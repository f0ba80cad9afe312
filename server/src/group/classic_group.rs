//! One classic group: members, generation, selected protocol and committed offsets.
//! Pure data with invariant checks; the coordinator drives it.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::member::Member;
use super::offsets::CommittedOffset;
use super::state::GroupState;

/// (topic, partition) of a committed offset.
pub type TopicPartition = (String, i32);

/// A classic group. Lives on the shard owning its `__consumer_offsets` partition.
#[derive(Debug, Clone)]
pub struct Group {
    pub group_id: String,
    /// Its `__consumer_offsets` partition.
    pub partition: i32,
    pub state: GroupState,
    /// When the group entered its current state (Kafka's `currentStateTimestamp`).
    pub state_timestamp_ms: u64,
    pub generation_id: i32,
    /// `consumer` for consumers; `None` for groups that only hold standalone commits.
    pub protocol_type: Option<String>,
    /// The assignor chosen for the current generation.
    pub protocol_name: Option<String>,
    pub leader_id: Option<String>,
    pub members: BTreeMap<String, Member>,
    /// Member ids handed out with MEMBER_ID_REQUIRED whose second JoinGroup hasn't come yet.
    pub pending_members: BTreeSet<String>,
    /// `group.instance.id` → member id of the static members.
    pub static_members: BTreeMap<String, String>,
    /// Members of the current generation that haven't sent SyncGroup yet.
    pub pending_sync: BTreeSet<String>,
    /// A member joined while the initial rebalance delay ran (re-arms the delay).
    pub new_member_added: bool,
    pub offsets: BTreeMap<TopicPartition, CommittedOffset>,
    /// Offsets written by TxnOffsetCommit whose transaction has not ended, by producer id
    /// (Kafka's `pendingTransactionalOffsetCommits`). Invisible to OffsetFetch; the
    /// transaction's commit marker moves them into `offsets` (see `txn_offsets.rs`).
    pub pending_txn: BTreeMap<i64, BTreeMap<TopicPartition, CommittedOffset>>,
}

impl Group {
    pub fn new(group_id: &str, partition: i32, now_ms: u64) -> Group {
        assert!(partition >= 0);
        Group {
            group_id: group_id.to_string(),
            partition,
            state: GroupState::Empty,
            state_timestamp_ms: now_ms,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader_id: None,
            members: BTreeMap::new(),
            pending_members: BTreeSet::new(),
            static_members: BTreeMap::new(),
            pending_sync: BTreeSet::new(),
            new_member_added: false,
            offsets: BTreeMap::new(),
            pending_txn: BTreeMap::new(),
        }
    }

    pub fn is(&self, state: GroupState) -> bool {
        self.state == state
    }

    /// Moves to `to`; an illegal transition is a coordinator bug and panics with context.
    pub fn transition(&mut self, to: GroupState, now_ms: u64) {
        assert!(
            to.may_follow(self.state),
            "group {}: illegal transition {:?} -> {:?}",
            self.group_id,
            self.state,
            to
        );
        self.state = to;
        self.state_timestamp_ms = now_ms;
    }

    /// Does any open transaction hold an offset of `tp` for this group?
    pub fn has_pending_txn_offset(&self, tp: &TopicPartition) -> bool {
        self.pending_txn
            .values()
            .any(|offsets| offsets.contains_key(tp))
    }

    /// Kafka's `hasOffsets`: committed or pending transactional offsets keep a group alive.
    pub fn has_offsets(&self) -> bool {
        !self.offsets.is_empty() || !self.pending_txn.is_empty()
    }

    /// Drops `tp` from every open transaction (a tombstone for it was written, as Kafka's
    /// replay of an offset tombstone does).
    pub fn remove_pending_txn_offset(&mut self, tp: &TopicPartition) {
        for offsets in self.pending_txn.values_mut() {
            offsets.remove(tp);
        }
        self.pending_txn.retain(|_, offsets| !offsets.is_empty());
    }

    pub fn has_member(&self, member_id: &str) -> bool {
        self.members.contains_key(member_id)
    }

    pub fn is_leader(&self, member_id: &str) -> bool {
        self.leader_id.as_deref() == Some(member_id)
    }

    /// Adds a member; the first member of an empty group fixes the group's protocol type.
    pub fn add_member(&mut self, member: Member, protocol_type: &str) {
        assert!(!self.members.contains_key(&member.member_id));
        assert!(!protocol_type.is_empty());
        if self.members.is_empty() {
            self.protocol_type = Some(protocol_type.to_string());
        }
        if self.leader_id.is_none() {
            self.leader_id = Some(member.member_id.clone());
        }
        if let Some(instance) = &member.group_instance_id {
            self.static_members
                .insert(instance.clone(), member.member_id.clone());
        }
        self.pending_members.remove(&member.member_id);
        self.members.insert(member.member_id.clone(), member);
    }

    /// Removes a member; a new leader is picked among those still there, preferring members
    /// already waiting in JoinGroup (they will get the member list).
    pub fn remove_member(&mut self, member_id: &str) -> Option<Member> {
        let member = self.members.remove(member_id)?;
        if let Some(instance) = &member.group_instance_id {
            if self.static_members.get(instance).map(String::as_str) == Some(member_id) {
                self.static_members.remove(instance);
            }
        }
        self.pending_sync.remove(member_id);
        if self.is_leader(member_id) {
            self.leader_id = self.pick_leader();
        }
        Some(member)
    }

    fn pick_leader(&self) -> Option<String> {
        let joined = self.members.values().find(|m| m.join_ticket.is_some());
        joined
            .or_else(|| self.members.values().next())
            .map(|m| m.member_id.clone())
    }

    /// Makes sure the leader is a member that rejoined (Kafka's `maybeElectNewJoinedLeader`).
    pub fn elect_joined_leader(&mut self) {
        let leader_joined = self
            .leader_id
            .as_ref()
            .and_then(|l| self.members.get(l))
            .is_some_and(|m| m.join_ticket.is_some());
        if !leader_joined {
            self.leader_id = self.pick_leader();
        }
    }

    pub fn awaiting_join_count(&self) -> usize {
        self.members
            .values()
            .filter(|m| m.join_ticket.is_some())
            .count()
    }

    /// Kafka's `hasAllMembersJoined`.
    pub fn all_members_joined(&self) -> bool {
        self.awaiting_join_count() == self.members.len() && self.pending_members.is_empty()
    }

    /// The largest rebalance timeout among members: how long a join phase may last.
    pub fn rebalance_timeout_ms(&self) -> u64 {
        self.members
            .values()
            .map(|m| m.rebalance_timeout_ms)
            .max()
            .unwrap_or(0)
    }

    /// Kafka's `supportsProtocols`: may a member with these protocols join?
    pub fn supports_protocols(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        if self.members.is_empty() {
            return true;
        }
        if self.protocol_type.as_deref() != Some(protocol_type) {
            return false;
        }
        let n = self.members.len();
        protocols.iter().any(|(name, _)| {
            self.members
                .values()
                .filter(|m| m.protocol_metadata(name).is_some())
                .count()
                == n
        })
    }

    /// Kafka's `selectProtocol`: the candidates are the protocols every member supports; each
    /// member votes for its most preferred candidate; most votes wins. Ties go to the candidate
    /// the leader prefers, so the choice is deterministic.
    pub fn select_protocol(&self) -> Option<String> {
        let first = self.members.values().next()?;
        let candidates: Vec<&str> = first
            .protocols
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| {
                self.members
                    .values()
                    .all(|m| m.protocol_metadata(n).is_some())
            })
            .collect();
        let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
        for member in self.members.values() {
            if let Some(v) = member.vote(&candidates) {
                *votes.entry(v).or_default() += 1;
            }
        }
        let top = votes.values().copied().max()?;
        let preference: Vec<&str> = match self.leader_id.as_ref().and_then(|l| self.members.get(l))
        {
            Some(leader) => leader.protocols.iter().map(|(n, _)| n.as_str()).collect(),
            None => candidates.clone(),
        };
        let chosen = preference
            .iter()
            .chain(candidates.iter())
            .find(|n| votes.get(*n) == Some(&top))?;
        Some(chosen.to_string())
    }

    /// Topics the members subscribe to under the selected `consumer` protocol; `None` when the
    /// group isn't a consumer group (subscriptions unknown).
    pub fn subscribed_topics(&self) -> Option<BTreeSet<String>> {
        if self.protocol_type.as_deref() != Some("consumer") {
            return None;
        }
        let protocol = self.protocol_name.as_deref()?;
        let mut topics = BTreeSet::new();
        for member in self.members.values() {
            let metadata = member.protocol_metadata(protocol)?;
            topics.extend(super::consumer_protocol::subscription_topics(metadata)?);
        }
        Some(topics)
    }
}
