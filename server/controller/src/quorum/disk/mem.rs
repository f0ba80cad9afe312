//! The quorum's disk in memory, for the simulation: what `write` stored survives a crash (drop
//! the `Quorum`, reopen it on the same `MemDisk`), and nothing else does.

use super::{DiskState, DiskWrite, RaftDisk};
use crate::quorum::error::DiskError;

/// How much of a write a crash in the middle of it leaves, following the file disk's order
/// (snapshot, then the entries' records, then the hard state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornWrite {
    pub snapshot_kept: bool,
    /// Entries kept from the front; only counts if the snapshot (if any) was kept.
    pub entries_kept: usize,
}

/// A durable disk in memory. Cloning it copies its content (a snapshot of the "platters").
#[derive(Debug, Clone, Default)]
pub struct MemDisk {
    state: DiskState,
    writes: u64,
}

impl MemDisk {
    pub fn new() -> MemDisk {
        MemDisk::default()
    }

    /// Everything durable.
    pub fn state(&self) -> &DiskState {
        &self.state
    }

    /// Writes made durable so far.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// What a crash during `write` leaves: a prefix of its steps, never the hard state (the
    /// last step, so a torn write never acknowledged anything).
    pub fn write_torn(&mut self, write: &DiskWrite, torn: TornWrite) -> Result<(), DiskError> {
        let mut prefix = DiskWrite::default();
        if write.snapshot.is_some() && !torn.snapshot_kept {
            return Ok(());
        }
        prefix.snapshot = write.snapshot.clone();
        let entries_kept = torn.entries_kept.min(write.entries.len());
        prefix.entries = write.entries[..entries_kept].to_vec();
        self.state.apply(&prefix)
    }
}

impl RaftDisk for MemDisk {
    fn load(&mut self) -> Result<DiskState, DiskError> {
        Ok(self.state.clone())
    }

    fn write(&mut self, write: &DiskWrite) -> Result<(), DiskError> {
        self.state.apply(write)?;
        self.writes += 1;
        Ok(())
    }
}
