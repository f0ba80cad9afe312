//! One simulated voter: its durable `MemDisk`, its `Quorum` while it runs, the disk writes
//! queued behind one another, and its state machine.

use std::collections::VecDeque;

use sluice_controller::quorum::{DiskWrite, MemDisk, Quorum, QuorumConfig, Ready};

use super::state_machine::AppliedLog;

/// One write in the node's disk queue, applied in order.
pub enum DiskJob {
    Ready(Ready),
    Compaction(DiskWrite),
}

impl DiskJob {
    pub fn write(&self) -> &DiskWrite {
        match self {
            DiskJob::Ready(ready) => &ready.write,
            DiskJob::Compaction(write) => write,
        }
    }
}

pub struct SimNode {
    pub id: i32,
    pub config: QuorumConfig,
    pub disk: MemDisk,
    /// `None` while crashed.
    pub quorum: Option<Quorum>,
    /// Bumped at each crash, so that a disk completion of an earlier life is ignored.
    pub incarnation: u64,
    pub disk_queue: VecDeque<DiskJob>,
    /// A completion of the queue's front is scheduled.
    pub disk_busy: bool,
    pub applied: AppliedLog,
    /// Applied index of the last compaction in this life.
    pub compacted_index: u64,
    /// Highest commit index seen in this life (it never goes back within a life).
    pub commit_index_seen: u64,
    /// Applied index when the node last crashed: a restart must recover at least as far,
    /// since entries are handed out only once their commit index is durable.
    pub applied_index_at_crash: u64,
}

impl SimNode {
    pub fn new(id: i32, config: QuorumConfig) -> SimNode {
        SimNode {
            id,
            config,
            disk: MemDisk::new(),
            quorum: None,
            incarnation: 0,
            disk_queue: VecDeque::new(),
            disk_busy: false,
            applied: AppliedLog::default(),
            compacted_index: 0,
            commit_index_seen: 0,
            applied_index_at_crash: 0,
        }
    }

    pub fn is_up(&self) -> bool {
        self.quorum.is_some()
    }
}
