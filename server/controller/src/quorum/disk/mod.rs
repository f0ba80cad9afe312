//! The quorum's durable state: the log, the hard state (term, vote, commit) and the latest
//! snapshot, behind [`RaftDisk`] so that the simulation swaps the files for memory.
//!
//! The shape rules live in [`DiskState::apply`]; both disks follow them, the file disk
//! crash-safely (see `file.rs` for what a crash at each step leaves behind).

mod atomic_file;
pub mod file;
pub mod mem;
mod record;
mod state_file;

use super::error::DiskError;

/// One entry of the Raft log. Entries are opaque bytes here; an empty `data` is the no-op a
/// new leader appends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub index: u64,
    pub term: u64,
    pub data: Vec<u8>,
}

/// What a vote or an acknowledgement depends on: it reaches the disk before either is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HardState {
    pub term: u64,
    /// The candidate voted for in `term`.
    pub voted_for: Option<i32>,
    /// Highest index known committed. Entries up to it are replayed at start.
    pub commit_index: u64,
}

/// The caller's state machine at `index`, standing in for the log up to `index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotData {
    pub index: u64,
    /// Term of the entry at `index`.
    pub term: u64,
    pub data: Vec<u8>,
}

/// Everything on a raft disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskState {
    pub snapshot: Option<SnapshotData>,
    /// Contiguous, starting right after the snapshot (or at 1).
    pub entries: Vec<LogEntry>,
    pub hard_state: HardState,
}

/// One durable change, applied in this order: the snapshot, the entries, the hard state.
///
/// - `snapshot`: replaces the older one. The log keeps only the entries after it, and only if
///   it holds the snapshot's own entry (same index and term): otherwise the log belongs to
///   another history and is dropped whole.
/// - `entries`: the first one's index is at most the last index plus one; the entries at and
///   after that index are replaced (a conflicting suffix is truncated).
/// - `hard_state`: replaces the older one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskWrite {
    pub snapshot: Option<SnapshotData>,
    pub entries: Vec<LogEntry>,
    pub hard_state: Option<HardState>,
}

impl DiskWrite {
    pub fn is_empty(&self) -> bool {
        self.snapshot.is_none() && self.entries.is_empty() && self.hard_state.is_none()
    }
}

/// A durable home for one node's raft state. `write` returns once the write is durable (for
/// files: fdatasync'd), since votes and acknowledgements are sent right after it. Writes are
/// applied in the order the quorum handed them out.
pub trait RaftDisk: Send {
    /// Everything durable, after repairing a torn tail. An empty disk gives the default state.
    fn load(&mut self) -> Result<DiskState, DiskError>;
    /// Makes `write` durable, all of it, before returning.
    fn write(&mut self, write: &DiskWrite) -> Result<(), DiskError>;
}

impl DiskState {
    pub fn is_empty(&self) -> bool {
        *self == DiskState::default()
    }

    pub fn snapshot_index(&self) -> u64 {
        self.snapshot.as_ref().map_or(0, |snapshot| snapshot.index)
    }

    pub fn last_index(&self) -> u64 {
        self.entries
            .last()
            .map_or(self.snapshot_index(), |entry| entry.index)
    }

    /// Applies `write` by the rules of [`DiskWrite`]; refuses a write that would leave a gap.
    pub fn apply(&mut self, write: &DiskWrite) -> Result<(), DiskError> {
        if let Some(snapshot) = &write.snapshot {
            if snapshot.index < self.snapshot_index() {
                return Err(DiskError::Inconsistent(format!(
                    "snapshot at {} is older than the one at {}",
                    snapshot.index,
                    self.snapshot_index()
                )));
            }
            let kept = entries_after_snapshot(
                &self.entries,
                |entry| (entry.index, entry.term),
                snapshot.index,
                snapshot.term,
            );
            self.entries.drain(..self.entries.len() - kept);
            self.snapshot = Some(snapshot.clone());
        }
        if let Some(first) = write.entries.first() {
            check_append(self.snapshot_index(), self.last_index(), &write.entries)?;
            let kept = usize::try_from(first.index - self.snapshot_index() - 1)
                .map_err(|_| DiskError::Inconsistent("log longer than memory".into()))?;
            self.entries.truncate(kept);
            self.entries.extend(write.entries.iter().cloned());
        }
        if let Some(hard_state) = write.hard_state {
            self.hard_state = hard_state;
        }
        assert!(self
            .entries
            .first()
            .is_none_or(|e| e.index == self.snapshot_index() + 1));
        Ok(())
    }
}

/// How many of the contiguous `entries` stay after a snapshot at (`index`, `term`): those
/// after it if the log holds that very entry, none otherwise. `key` gives an entry's index and
/// term.
pub(crate) fn entries_after_snapshot<T>(
    entries: &[T],
    key: impl Fn(&T) -> (u64, u64),
    index: u64,
    term: u64,
) -> usize {
    let Some(first) = entries.first() else {
        return 0;
    };
    let first_index = key(first).0;
    if index + 1 == first_index {
        // The log already starts right after the snapshot: a log only takes this shape through
        // a snapshot at `index`, whose entry it extends.
        return entries.len();
    }
    if index < first_index {
        return 0;
    }
    let position = usize::try_from(index - first_index).unwrap_or(usize::MAX);
    match entries.get(position).map(&key) {
        Some((entry_index, entry_term)) if entry_term == term => {
            assert_eq!(entry_index, index);
            entries.len() - position - 1
        }
        _ => 0,
    }
}

/// An append must start within `[snapshot_index + 1, last_index + 1]` and be contiguous.
pub(crate) fn check_append(
    snapshot_index: u64,
    last_index: u64,
    entries: &[LogEntry],
) -> Result<(), DiskError> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    if first.index <= snapshot_index || first.index > last_index + 1 {
        return Err(DiskError::Inconsistent(format!(
            "append at {} outside [{}, {}]",
            first.index,
            snapshot_index + 1,
            last_index + 1
        )));
    }
    for pair in entries.windows(2) {
        if pair[1].index != pair[0].index + 1 {
            return Err(DiskError::Inconsistent(format!(
                "append jumps from {} to {}",
                pair[0].index, pair[1].index
            )));
        }
    }
    Ok(())
}
