//! The simulated state machine: the list of applied entries, (term, data) by index from 1.
//! Its snapshot is the whole list.

use sluice_controller::quorum::{Committed, SnapshotData};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedLog {
    /// `entries[i]` is the entry at index `i + 1`.
    pub entries: Vec<(u64, Vec<u8>)>,
}

impl AppliedLog {
    pub fn applied_index(&self) -> u64 {
        self.entries.len() as u64
    }

    pub fn apply(&mut self, committed: &Committed) {
        assert_eq!(
            committed.index,
            self.applied_index() + 1,
            "applied out of order"
        );
        self.entries.push((committed.term, committed.data.clone()));
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (term, data) in &self.entries {
            bytes.extend_from_slice(&term.to_le_bytes());
            bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
            bytes.extend_from_slice(data);
        }
        bytes
    }

    pub fn load(snapshot: &SnapshotData) -> AppliedLog {
        let mut entries = Vec::new();
        let mut rest = snapshot.data.as_slice();
        while !rest.is_empty() {
            let term = u64::from_le_bytes(rest[..8].try_into().expect("term"));
            let length = u32::from_le_bytes(rest[8..12].try_into().expect("length")) as usize;
            entries.push((term, rest[12..12 + length].to_vec()));
            rest = &rest[12 + length..];
        }
        assert_eq!(
            entries.len() as u64,
            snapshot.index,
            "snapshot holds every applied entry"
        );
        assert_eq!(entries.last().map_or(0, |(term, _)| *term), snapshot.term);
        AppliedLog { entries }
    }
}
