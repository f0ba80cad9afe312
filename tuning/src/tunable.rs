//! The `Tunable` seam: each host setting knows how to read itself, what it should be, and
//! which file writes would fix it. Applying is generic (see `apply.rs`).

use std::path::PathBuf;

use crate::cpu_set::CpuSet;
use crate::host::HostFs;

/// Whether a setting matches the recommendation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Ok,
    Differs,
    /// The host does not let us read or change it (VM, container, missing driver): why.
    NotTunable(String),
}

/// One write that moves a setting toward the recommendation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    /// Host-absolute path, e.g. `/proc/sys/vm/swappiness`.
    pub path: PathBuf,
    pub value: String,
}

/// What `check` found for one tunable, and how `apply` would fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub current: String,
    pub recommended: String,
    pub status: Status,
    /// Writes that fix a `Differs` status; empty when the fix is not a file write.
    pub writes: Vec<FileWrite>,
    /// For settings `apply` cannot change itself (per-process limits): what the operator does.
    pub manual_fix: Option<String>,
}

impl Assessment {
    pub fn not_tunable(recommended: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            current: "-".to_string(),
            recommended: recommended.into(),
            status: Status::NotTunable(reason.into()),
            writes: Vec::new(),
            manual_fix: None,
        }
    }

    /// Ok when `matches`, otherwise `Differs` fixed by `writes`.
    pub fn compare(
        current: impl Into<String>,
        recommended: impl Into<String>,
        matches: bool,
        writes: Vec<FileWrite>,
    ) -> Self {
        Self {
            current: current.into(),
            recommended: recommended.into(),
            status: if matches { Status::Ok } else { Status::Differs },
            writes: if matches { Vec::new() } else { writes },
            manual_fix: None,
        }
    }
}

/// A host setting that matters for a thread-per-core broker.
pub trait Tunable {
    /// Stable row name, e.g. `vm.swappiness`.
    fn name(&self) -> &str;
    /// One line: what it is and why it matters for Sluice.
    fn why(&self) -> &'static str;
    /// Reads the current value. Never fails: problems become `Status::NotTunable`.
    fn assess(&self, host: &HostFs) -> Assessment;
}

/// What the tunables need to know about the deployment.
#[derive(Debug, Clone)]
pub struct TuneContext {
    /// The broker's data directory; its backing disk gets the block-queue settings.
    pub data_dir: PathBuf,
    /// CPUs reserved for NIC and disk interrupts (no shard runs there). `None`: pick a default.
    pub irq_cpus: Option<CpuSet>,
}
