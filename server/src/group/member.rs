//! One member of a classic group, as the coordinator tracks it.

use bytes::Bytes;

use super::coordinator::Ticket;

/// A member of a group. Lives inside its `Group` on the coordinator's shard.
#[derive(Debug, Clone)]
pub struct Member {
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: u64,
    pub rebalance_timeout_ms: u64,
    /// Protocols in the member's order of preference: (assignor name, metadata).
    pub protocols: Vec<(String, Bytes)>,
    /// The assignment of the current generation (empty until SyncGroup distributes one).
    pub assignment: Bytes,
    /// A JoinGroup parked until the join phase completes.
    pub join_ticket: Option<Ticket>,
    /// A SyncGroup parked until the leader's assignment arrives.
    pub sync_ticket: Option<Ticket>,
    /// Joined during the current join phase and never completed one: cannot heartbeat yet, so
    /// it is dropped after `new_member_join_timeout_ms` instead of after its session timeout.
    pub is_new: bool,
}

impl Member {
    pub fn protocol_metadata(&self, name: &str) -> Option<&Bytes> {
        self.protocols
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m)
    }

    /// Same protocols, same order, same metadata: a rejoin that changes nothing.
    pub fn protocols_match(&self, protocols: &[(String, Bytes)]) -> bool {
        self.protocols == protocols
    }

    /// The member's vote: its most preferred protocol among `candidates`.
    pub fn vote<'a>(&'a self, candidates: &[&str]) -> Option<&'a str> {
        self.protocols
            .iter()
            .map(|(n, _)| n.as_str())
            .find(|n| candidates.contains(n))
    }
}
