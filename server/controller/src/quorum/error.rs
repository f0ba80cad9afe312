//! What can go wrong in the quorum and on its disk.

use std::io;
use std::path::PathBuf;

/// A failure of the durable log, hard state or snapshot.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("{operation} {path}: {source}")]
    Io {
        operation: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Damage that is not a torn tail: an acknowledged write is unreadable.
    #[error("{path} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    /// A write or a loaded state that breaks the log's shape (a gap, an entry below the
    /// snapshot). A bug of the caller or of the quorum, never a disk fault.
    #[error("inconsistent raft disk: {0}")]
    Inconsistent(String),
    #[error("{what} is {bytes} bytes, more than {bytes_max}")]
    TooLarge {
        what: &'static str,
        bytes: u64,
        bytes_max: u64,
    },
}

/// A failure of the quorum: bad configuration, bad input from a peer, a proposal refused.
#[derive(Debug, thiserror::Error)]
pub enum QuorumError {
    #[error("invalid quorum configuration: {0}")]
    InvalidConfig(String),
    #[error(transparent)]
    Disk(#[from] DiskError),
    #[error("undecodable raft message from node {from}: {reason}")]
    Malformed { from: i32, reason: String },
    /// The connection says `from`, the message says otherwise: never trust the message.
    #[error("message from node {from} claims to be from raft id {claimed}")]
    WrongSender { from: i32, claimed: u64 },
    #[error("message from node {0}, which is not a voter")]
    NotVoter(i32),
    #[error("message from node {from} is addressed to raft id {to}, not to this node")]
    WrongRecipient { from: i32, to: u64 },
    /// A message type the quorum never exchanges (local, forwarding, read index, transfer).
    #[error("unexpected raft message {kind} from node {from}")]
    UnexpectedMessage { from: i32, kind: String },
    #[error("{what} is {bytes} bytes, more than {bytes_max}")]
    TooLarge {
        what: &'static str,
        bytes: usize,
        bytes_max: usize,
    },
    /// Proposals go to the leader only; `leader` is the one this node knows of.
    #[error("not the leader (leader: {leader:?})")]
    NotLeader { leader: Option<i32> },
    /// raft-rs refused the proposal (a leadership transfer, an uncommitted-size bound).
    #[error("proposal dropped")]
    ProposalDropped,
    #[error("cannot compact at {index}: {reason}")]
    Compact { index: u64, reason: String },
    /// Anything else raft-rs returned: its state is unchanged by a refused step.
    #[error("raft: {0}")]
    Raft(String),
}
