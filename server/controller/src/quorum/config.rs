//! The quorum's configuration, and the one place Kafka node ids become raft-rs ids.

use super::error::QuorumError;
use super::limits::VOTERS_MAX;

/// Kafka's election timeout is 1 s (`controller.quorum.election.timeout.ms`); the server ticks
/// every 100 ms.
pub const ELECTION_TICKS_DEFAULT: usize = 10;

/// A leader heartbeats every 200 ms: five heartbeats per election timeout.
pub const HEARTBEAT_TICKS_DEFAULT: usize = 2;

/// The configuration of one voter of the metadata quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumConfig {
    /// This node's Kafka node id (`node.id`).
    pub node_id: i32,
    /// Every voter's Kafka node id (`controller.quorum.voters`), this node included. Fixed for
    /// the life of the data dir: no membership changes.
    pub voters: Vec<i32>,
    /// Ticks without hearing from a leader before a follower starts an election. The actual
    /// timeout of each round is drawn in `[election_ticks, 2 * election_ticks)`.
    pub election_ticks: usize,
    /// Ticks between a leader's heartbeats.
    pub heartbeat_ticks: usize,
    /// Seed of the election-timeout draws. Nodes must differ (else they time out together); the
    /// simulation passes its seed to replay a run exactly. The server passes anything random.
    pub election_seed: u64,
}

impl QuorumConfig {
    /// Kafka's timings: election timeout 10 ticks, heartbeat 2 ticks.
    pub fn with_kafka_timing(node_id: i32, voters: Vec<i32>, election_seed: u64) -> QuorumConfig {
        QuorumConfig {
            node_id,
            voters,
            election_ticks: ELECTION_TICKS_DEFAULT,
            heartbeat_ticks: HEARTBEAT_TICKS_DEFAULT,
            election_seed,
        }
    }

    /// Refuses what raft-rs would panic on or misread: duplicate or negative ids, a node that is
    /// not among the voters, timings raft-rs rejects.
    pub fn validate(&self) -> Result<(), QuorumError> {
        let invalid = |reason: String| Err(QuorumError::InvalidConfig(reason));
        if self.voters.is_empty() {
            return invalid("no voters".into());
        }
        if self.voters.len() > VOTERS_MAX {
            return invalid(format!(
                "{} voters, at most {VOTERS_MAX}",
                self.voters.len()
            ));
        }
        for (position, voter) in self.voters.iter().enumerate() {
            if *voter < 0 {
                return invalid(format!("voter id {voter} is negative"));
            }
            if self.voters[..position].contains(voter) {
                return invalid(format!("voter id {voter} appears twice"));
            }
        }
        if !self.voters.contains(&self.node_id) {
            return invalid(format!("node {} is not among the voters", self.node_id));
        }
        if self.heartbeat_ticks == 0 {
            return invalid("heartbeat_ticks is 0".into());
        }
        if self.election_ticks <= self.heartbeat_ticks {
            return invalid("election_ticks must exceed heartbeat_ticks".into());
        }
        Ok(())
    }
}

/// raft-rs reserves id 0 for "nobody"; Kafka node ids start at 0. Only this module converts.
pub(crate) fn raft_id(node_id: i32) -> u64 {
    assert!(node_id >= 0, "node id {node_id} is negative");
    u64::from(node_id.unsigned_abs()) + 1
}

/// The Kafka node id of a raft-rs id; `None` for raft-rs's "nobody" (0) and for ids no Kafka
/// node can have.
pub(crate) fn node_id(raft_id: u64) -> Option<i32> {
    if raft_id == 0 {
        return None;
    }
    i32::try_from(raft_id - 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_zero_is_nobody() {
        for id in [0, 1, 7, i32::MAX] {
            assert_eq!(node_id(raft_id(id)), Some(id));
        }
        assert_eq!(node_id(0), None);
        assert_eq!(raft_id(0), 1);
    }

    #[test]
    fn refuses_duplicates_outsiders_and_negative_ids() {
        let config =
            |node_id, voters: Vec<i32>| QuorumConfig::with_kafka_timing(node_id, voters, 1);
        assert!(config(1, vec![1, 2, 3]).validate().is_ok());
        assert!(config(4, vec![1, 2, 3]).validate().is_err());
        assert!(config(1, vec![1, 2, 1]).validate().is_err());
        assert!(config(1, vec![1, -2]).validate().is_err());
        assert!(config(1, vec![]).validate().is_err());
    }
}
