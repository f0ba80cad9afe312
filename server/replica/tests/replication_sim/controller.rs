//! The controller, as far as one partition needs it (KRaft's `ReplicationControlManager` and
//! broker heartbeat handling, as pure state; its Raft quorum is simulated in the controller
//! crate and never fails here):
//!
//! - A broker that sends no heartbeat for `SESSION_TIMEOUT_MS` is fenced. A heartbeat from a
//!   new incarnation (a restart) fences the old incarnation first, then registers the new one:
//!   a restarted broker never goes on with the leader epoch it crashed in.
//! - Fencing removes the broker from the ISR unless it is the last member. A fenced leader is
//!   replaced by the first unfenced ISR member in replica order, or by no leader (-1).
//! - A leaderless partition elects the first unfenced ISR member when one appears. Every
//!   leader change bumps the leader epoch; every change bumps the partition epoch.
//! - AlterPartition is refused from anyone but the current leader at its current epoch
//!   (FENCED_LEADER_EPOCH), at a stale partition epoch (INVALID_UPDATE_VERSION), and when it
//!   adds a fenced broker (INELIGIBLE_REPLICA, KIP-841).

use std::collections::BTreeMap;

use sluice_replica::Assignment;

use super::messages::ErrorCode;

/// A broker is fenced after this long without a heartbeat (`broker.session.timeout.ms`).
pub const SESSION_TIMEOUT_MS: u64 = 300;

#[derive(Debug, Clone, Copy)]
struct Session {
    incarnation: u64,
    heartbeat_last_ms: u64,
    fenced: bool,
}

pub struct Controller {
    partition: Assignment,
    sessions: BTreeMap<i32, Session>,
}

impl Controller {
    /// All brokers registered at time 0 as incarnation 0, all in sync, the first one leading.
    pub fn new(replicas: Vec<i32>) -> Controller {
        let sessions = replicas
            .iter()
            .map(|&broker| {
                let session = Session {
                    incarnation: 0,
                    heartbeat_last_ms: 0,
                    fenced: false,
                };
                (broker, session)
            })
            .collect();
        let partition = Assignment {
            leader: replicas[0],
            isr: replicas.clone(),
            replicas,
            leader_epoch: 0,
            partition_epoch: 0,
        };
        Controller {
            partition,
            sessions,
        }
    }

    pub fn partition(&self) -> &Assignment {
        &self.partition
    }

    /// A heartbeat from `broker`'s `incarnation`. True when the partition changed.
    pub fn heartbeat(&mut self, now_ms: u64, broker: i32, incarnation: u64) -> bool {
        let session = self.sessions[&broker];
        if incarnation < session.incarnation {
            return false; // From an incarnation that has been replaced: late, ignored.
        }
        let mut changed = false;
        if incarnation > session.incarnation && !session.fenced {
            changed |= self.fence(broker);
        }
        let session = self.sessions.get_mut(&broker).expect("a known broker");
        session.incarnation = incarnation;
        session.heartbeat_last_ms = now_ms;
        if session.fenced {
            session.fenced = false;
            changed |= self.elect_if_leaderless();
        }
        changed
    }

    /// Fences every broker whose session expired. True when the partition changed.
    pub fn expire_sessions(&mut self, now_ms: u64) -> bool {
        let expired: Vec<i32> = self
            .sessions
            .iter()
            .filter(|(_, session)| {
                !session.fenced && now_ms - session.heartbeat_last_ms > SESSION_TIMEOUT_MS
            })
            .map(|(&broker, _)| broker)
            .collect();
        let mut changed = false;
        for broker in expired {
            changed |= self.fence(broker);
        }
        changed
    }

    /// An AlterPartition from `broker`; a success bumps the partition epoch.
    pub fn alter_partition(
        &mut self,
        broker: i32,
        leader_epoch: i32,
        partition_epoch: i32,
        isr: &[i32],
    ) -> Result<Assignment, ErrorCode> {
        let current = &self.partition;
        if broker != current.leader || leader_epoch != current.leader_epoch {
            return Err(ErrorCode::FencedLeaderEpoch);
        }
        if partition_epoch != current.partition_epoch {
            return Err(ErrorCode::InvalidUpdateVersion);
        }
        assert!(
            isr.contains(&broker),
            "the leader proposes itself out: {isr:?}"
        );
        assert!(isr.iter().all(|member| current.replicas.contains(member)));
        let adds_fenced = isr
            .iter()
            .any(|member| !current.isr.contains(member) && self.sessions[member].fenced);
        if adds_fenced {
            return Err(ErrorCode::IneligibleReplica);
        }
        self.partition.isr = isr.to_vec();
        self.partition.partition_epoch += 1;
        self.check();
        Ok(self.partition.clone())
    }

    fn fence(&mut self, broker: i32) -> bool {
        self.sessions
            .get_mut(&broker)
            .expect("a known broker")
            .fenced = true;
        let before = self.partition.clone();
        if self.partition.isr.contains(&broker) && self.partition.isr.len() > 1 {
            self.partition.isr.retain(|&member| member != broker);
        }
        if self.partition.leader == broker {
            self.partition.leader = self.first_eligible().unwrap_or(-1);
            self.partition.leader_epoch += 1;
        }
        let changed = self.partition != before;
        if changed {
            self.partition.partition_epoch += 1;
        }
        self.check();
        changed
    }

    /// Elects a leader when there is none and one is eligible. True when it elected.
    fn elect_if_leaderless(&mut self) -> bool {
        if self.partition.leader >= 0 {
            return false;
        }
        let Some(leader) = self.first_eligible() else {
            return false;
        };
        self.partition.leader = leader;
        self.partition.leader_epoch += 1;
        self.partition.partition_epoch += 1;
        self.check();
        true
    }

    /// The first unfenced ISR member in replica order (clean elections only).
    fn first_eligible(&self) -> Option<i32> {
        let partition = &self.partition;
        partition
            .replicas
            .iter()
            .copied()
            .find(|replica| partition.isr.contains(replica) && !self.sessions[replica].fenced)
    }

    fn check(&self) {
        let partition = &self.partition;
        assert!(!partition.isr.is_empty());
        assert!(partition
            .isr
            .iter()
            .all(|member| partition.replicas.contains(member)));
        assert!(partition.leader < 0 || partition.isr.contains(&partition.leader));
    }
}
