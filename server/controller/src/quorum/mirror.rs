//! raft-rs's `Storage`: the log, hard state and snapshot as the disk will hold them once every
//! handed-out write is durable. raft-rs reads entries from it to send appends and to hand out
//! committed entries (which it bounds by what was reported persisted, not by this mirror).

use raft::eraftpb::{ConfState, Entry, EntryType, HardState, Snapshot};
use raft::{GetEntriesContext, RaftState, Storage, StorageError};

use super::disk::{entries_after_snapshot, LogEntry, SnapshotData};

/// The in-memory image of the raft disk, owned by the `RawNode`.
pub struct LogMirror {
    hard_state: HardState,
    conf_state: ConfState,
    /// Index 0 (and no data) until the first snapshot.
    snapshot: Snapshot,
    /// Contiguous, starting right after the snapshot.
    entries: Vec<Entry>,
}

impl LogMirror {
    pub fn new(conf_state: ConfState, hard_state: HardState) -> LogMirror {
        LogMirror {
            hard_state,
            conf_state,
            snapshot: Snapshot::default(),
            entries: Vec::new(),
        }
    }

    pub fn snapshot_index(&self) -> u64 {
        self.snapshot.get_metadata().index
    }

    pub fn last_index(&self) -> u64 {
        self.entries
            .last()
            .map_or(self.snapshot_index(), |entry| entry.index)
    }

    pub fn set_hard_state(&mut self, hard_state: HardState) {
        self.hard_state = hard_state;
    }

    /// Installs `snapshot`, keeping the entries after it only if the log holds its entry.
    pub fn install_snapshot(&mut self, snapshot: &SnapshotData) {
        assert!(snapshot.index >= self.snapshot_index());
        let kept = entries_after_snapshot(
            &self.entries,
            |entry| (entry.index, entry.term),
            snapshot.index,
            snapshot.term,
        );
        self.entries.drain(..self.entries.len() - kept);
        let mut installed = Snapshot {
            data: snapshot.data.clone().into(),
            ..Snapshot::default()
        };
        let metadata = installed.mut_metadata();
        metadata.index = snapshot.index;
        metadata.term = snapshot.term;
        metadata.set_conf_state(self.conf_state.clone());
        self.snapshot = installed;
        if self.hard_state.commit < snapshot.index {
            self.hard_state.commit = snapshot.index;
        }
        assert!(self
            .entries
            .first()
            .is_none_or(|e| e.index == snapshot.index + 1));
    }

    /// Appends `entries`, replacing the ones at and after the first one's index.
    pub fn append(&mut self, entries: &[Entry]) {
        let Some(first) = entries.first() else {
            return;
        };
        assert!(
            first.index > self.snapshot_index(),
            "append below the snapshot"
        );
        assert!(first.index <= self.last_index() + 1, "append leaves a gap");
        let kept = usize::try_from(first.index - self.snapshot_index() - 1).unwrap_or(usize::MAX);
        self.entries.truncate(kept);
        self.entries.extend_from_slice(entries);
    }
}

pub fn snapshot_data(snapshot: &Snapshot) -> SnapshotData {
    SnapshotData {
        index: snapshot.get_metadata().index,
        term: snapshot.get_metadata().term,
        data: snapshot.data.to_vec(),
    }
}

/// A raft-rs entry of the metadata log. The caller checked that it is a normal entry.
pub fn raft_entry(entry: &LogEntry) -> Entry {
    let mut converted = Entry::default();
    converted.set_entry_type(EntryType::EntryNormal);
    converted.index = entry.index;
    converted.term = entry.term;
    converted.data = entry.data.clone().into();
    converted
}

pub fn log_entry(entry: &Entry) -> LogEntry {
    assert_eq!(entry.get_entry_type(), EntryType::EntryNormal);
    assert!(entry.context.is_empty());
    LogEntry {
        index: entry.index,
        term: entry.term,
        data: entry.data.to_vec(),
    }
}

impl Storage for LogMirror {
    fn initial_state(&self) -> raft::Result<RaftState> {
        Ok(RaftState::new(
            self.hard_state.clone(),
            self.conf_state.clone(),
        ))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        if low <= self.snapshot_index() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if high > self.last_index() + 1 || low > high {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        let offset = self.snapshot_index() + 1;
        let range = (low - offset) as usize..(high - offset) as usize;
        let bytes_max = max_size.into().unwrap_or(u64::MAX);
        let mut bytes = 0_u64;
        let mut fetched = Vec::new();
        for entry in &self.entries[range] {
            bytes += u64::from(protobuf::Message::compute_size(entry));
            // At least one entry, even one larger than the bound.
            if !fetched.is_empty() && bytes > bytes_max {
                break;
            }
            fetched.push(entry.clone());
        }
        Ok(fetched)
    }

    fn term(&self, index: u64) -> raft::Result<u64> {
        if index == self.snapshot_index() {
            return Ok(self.snapshot.get_metadata().term);
        }
        if index < self.snapshot_index() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if index > self.last_index() {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        Ok(self.entries[(index - self.snapshot_index() - 1) as usize].term)
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.snapshot_index() + 1)
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(LogMirror::last_index(self))
    }

    fn snapshot(&self, request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        if self.snapshot_index() == 0 || self.snapshot_index() < request_index {
            return Err(raft::Error::Store(
                StorageError::SnapshotTemporarilyUnavailable,
            ));
        }
        Ok(self.snapshot.clone())
    }
}
