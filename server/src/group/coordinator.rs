//! The group coordinator of one shard: every group whose `__consumer_offsets` partition the
//! shard owns. Runtime-agnostic and single-threaded: it reads no clock (callers pass `now_ms`),
//! does no I/O, and never blocks. A request that must wait (JoinGroup, SyncGroup) is parked
//! under a `Ticket`; its reply, and every record that must reach the log, come out of
//! `take_actions`. The caller persists each `Action::Persist` (append + flush) *before*
//! delivering the replies it carries, and calls `tick` when `next_deadline_ms` has passed.

use std::collections::{BTreeMap, HashMap};

use kafka_protocol::ResponseError;

use super::classic_group::Group;
use super::config::GroupConfig;
use super::join::JoinResult;
use super::placement::offsets_partition;
use super::records::OffsetsRecord;
use super::sync::SyncResult;
use super::timers::Timers;

/// Identifies a parked request until its reply comes out of `take_actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// The reply to a parked request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Join(JoinResult),
    Sync(SyncResult),
}

impl Reply {
    /// The same reply turned into a failure, for when persisting what it depends on failed.
    pub fn into_error(self, error: ResponseError) -> Reply {
        match self {
            Reply::Join(r) => Reply::Join(JoinResult::error(error, &r.member_id)),
            Reply::Sync(_) => Reply::Sync(SyncResult::error(error)),
        }
    }
}

/// Work for the caller, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Reply {
        ticket: Ticket,
        reply: Reply,
    },
    /// Append `records` to `__consumer_offsets` partition `partition`, flush, then deliver
    /// `replies` (turned into errors if the append or flush failed).
    Persist {
        partition: i32,
        records: Vec<OffsetsRecord>,
        replies: Vec<(Ticket, Reply)>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum TimerKey {
    /// Session expiry of a member (or of a pending member that got MEMBER_ID_REQUIRED).
    Heartbeat {
        group: String,
        member: String,
    },
    /// End of the join phase (initial delay or rebalance timeout).
    Join {
        group: String,
    },
    /// Members that got their JoinGroup answer must send SyncGroup before this.
    PendingSync {
        group: String,
    },
    OffsetExpiry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JoinPhase {
    /// `group.initial.rebalance.delay.ms` for a group that was empty; `remaining_ms` of the
    /// rebalance timeout may still be spent re-arming it while new members arrive.
    InitialDelay { remaining_ms: u64 },
    /// Waiting for every known member, at most the rebalance timeout.
    Rebalance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionStatus {
    Loading,
    Loaded,
}

/// The coordinator of one shard's groups. Owned by that shard; not `Send`-shared.
#[derive(Debug)]
pub struct GroupCoordinator {
    pub(super) config: GroupConfig,
    pub(super) partitions: BTreeMap<i32, PartitionStatus>,
    pub(super) groups: HashMap<String, Group>,
    pub(super) timers: Timers<TimerKey>,
    pub(super) join_phases: HashMap<String, JoinPhase>,
    /// Transaction ends (producer id, commit) reported for a partition while it was loading;
    /// applied once it is loaded (`txn_offsets::complete_txn`).
    pub(super) deferred_txn_ends: BTreeMap<i32, Vec<(i64, bool)>>,
    outbox: Vec<Action>,
    ticket_seq: u64,
    rng_state: u64,
}

impl GroupCoordinator {
    /// `seed` makes member ids unique across restarts (e.g. wall-clock nanos ^ shard id).
    pub fn new(config: GroupConfig, seed: u64) -> GroupCoordinator {
        assert!(config.offsets_partitions > 0);
        assert!(config.session_timeout_ms_min <= config.session_timeout_ms_max);
        GroupCoordinator {
            config,
            partitions: BTreeMap::new(),
            groups: HashMap::new(),
            timers: Timers::default(),
            join_phases: HashMap::new(),
            deferred_txn_ends: BTreeMap::new(),
            outbox: Vec::new(),
            ticket_seq: 0,
            rng_state: seed | 1,
        }
    }

    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// The `__consumer_offsets` partition of a group.
    pub fn partition_of(&self, group_id: &str) -> i32 {
        offsets_partition(group_id, self.config.offsets_partitions)
    }

    /// Everything the caller must do, in order. Call after every other method.
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.outbox)
    }

    /// When `tick` must next be called.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.timers.next_deadline_ms()
    }

    /// Runs every timer due at `now_ms`: session expiry, join-phase end, sync deadline,
    /// offsets expiry.
    pub fn tick(&mut self, now_ms: u64) {
        while let Some(key) = self.timers.pop_due(now_ms) {
            match key {
                TimerKey::Heartbeat { group, member } => {
                    self.on_heartbeat_expired(&group, &member, now_ms)
                }
                TimerKey::Join { group } => self.on_join_timer(&group, now_ms),
                TimerKey::PendingSync { group } => self.on_pending_sync_expired(&group, now_ms),
                TimerKey::OffsetExpiry => {
                    self.expire_offsets(now_ms);
                    let next = now_ms + self.config.offsets_retention_check_interval_ms;
                    self.timers.arm(TimerKey::OffsetExpiry, next);
                }
            }
        }
    }

    /// May this shard answer for `group_id` now? Kafka's checks, in Kafka's order.
    pub(super) fn access(&self, group_id: &str) -> Result<i32, ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let partition = self.partition_of(group_id);
        match self.partitions.get(&partition) {
            None => Err(ResponseError::NotCoordinator),
            Some(PartitionStatus::Loading) => Err(ResponseError::CoordinatorLoadInProgress),
            Some(PartitionStatus::Loaded) => Ok(partition),
        }
    }

    pub(super) fn issue_ticket(&mut self) -> Ticket {
        self.ticket_seq += 1;
        Ticket(self.ticket_seq)
    }

    pub(super) fn reply(&mut self, ticket: Ticket, reply: Reply) {
        self.outbox.push(Action::Reply { ticket, reply });
    }

    pub(super) fn persist(
        &mut self,
        partition: i32,
        records: Vec<OffsetsRecord>,
        replies: Vec<(Ticket, Reply)>,
    ) {
        assert!(!records.is_empty());
        assert!(self.partitions.contains_key(&partition));
        self.outbox.push(Action::Persist {
            partition,
            records,
            replies,
        });
    }

    /// Kafka-style member id: `<client.id>-<random uuid>`.
    pub(super) fn new_member_id(&mut self, client_id: &str) -> String {
        let hi = self.next_random();
        let lo = self.next_random();
        format!(
            "{}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            client_id,
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xffff,
            lo >> 48,
            lo & 0xffff_ffff_ffff
        )
    }

    /// xorshift64*: ids need uniqueness, not secrecy.
    fn next_random(&mut self) -> u64 {
        let mut x = self.rng_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng_state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(super) fn group(&self, group_id: &str) -> &Group {
        match self.groups.get(group_id) {
            Some(g) => g,
            None => panic!("group {group_id} vanished while the coordinator held it"),
        }
    }

    pub(super) fn group_mut(&mut self, group_id: &str) -> &mut Group {
        match self.groups.get_mut(group_id) {
            Some(g) => g,
            None => panic!("group {group_id} vanished while the coordinator held it"),
        }
    }

    #[cfg(test)]
    pub fn find_group(&self, group_id: &str) -> Option<&Group> {
        self.groups.get(group_id)
    }

    pub(super) fn arm_heartbeat(&mut self, group_id: &str, member_id: &str, deadline_ms: u64) {
        let key = TimerKey::Heartbeat {
            group: group_id.into(),
            member: member_id.into(),
        };
        self.timers.arm(key, deadline_ms);
    }

    pub(super) fn cancel_heartbeat(&mut self, group_id: &str, member_id: &str) {
        let key = TimerKey::Heartbeat {
            group: group_id.into(),
            member: member_id.into(),
        };
        self.timers.cancel(&key);
    }

    /// Re-arms the session timer of a member after a heartbeat, commit, join or sync.
    pub(super) fn heartbeat_seen(&mut self, group_id: &str, member_id: &str, now_ms: u64) {
        let session_ms = match self
            .groups
            .get(group_id)
            .and_then(|g| g.members.get(member_id))
        {
            Some(m) => m.session_timeout_ms,
            None => return,
        };
        self.arm_heartbeat(group_id, member_id, now_ms + session_ms);
    }
}
