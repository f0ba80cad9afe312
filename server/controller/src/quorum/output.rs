//! What the quorum hands its caller: messages to send, entries to apply, its status.

use super::disk::{DiskWrite, SnapshotData};

/// A raft message for a peer, encoded (protobuf `eraftpb.Message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    pub to: i32,
    pub bytes: Vec<u8>,
}

/// An entry the quorum committed, to apply in index order. `data` is empty for the no-op a new
/// leader appends; apply it anyway (it advances the applied index). If a proposal's index
/// comes out with another term than the proposal got, the proposal was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub index: u64,
    pub term: u64,
    pub data: Vec<u8>,
}

/// What the caller replays at start: the snapshot (if any), then the committed entries after
/// it, up to the durable commit index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    pub snapshot: Option<SnapshotData>,
    pub committed: Vec<Committed>,
}

/// One round of work from [`super::Quorum::ready`].
///
/// `messages` may go out at once (a leader's appends travel while it persists them itself).
/// `write` must be made durable (`RaftDisk::write`, maybe on a blocking thread) and then the
/// `Ready` handed back to [`super::Quorum::persisted`], in the order the readies came out.
#[derive(Debug)]
#[must_use = "a Ready must be written and handed back to Quorum::persisted"]
pub struct Ready {
    pub messages: Vec<OutMessage>,
    pub write: DiskWrite,
    /// raft-rs's number of this ready, to check the order readies come back in.
    pub(crate) number: u64,
}

/// What became possible once a [`Ready`]'s write was durable.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Acknowledgements and votes: they were waiting for the write.
    pub messages: Vec<OutMessage>,
    /// A snapshot from the leader: replace the state machine with it before applying
    /// `committed` (which follows it).
    pub snapshot: Option<SnapshotData>,
    pub committed: Vec<Committed>,
}

/// A raft role, as Kafka's quorum state names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Leader,
    Follower,
    Candidate,
    PreCandidate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuorumStatus {
    pub leader: Option<i32>,
    pub term: u64,
    pub role: Role,
    /// Highest index known committed (in memory: the durable one may lag behind).
    pub commit_index: u64,
    pub last_index: u64,
}
