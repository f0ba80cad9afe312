//! The quorum's disk as files in one directory (the server uses `<data>/__cluster_metadata-0/`):
//!
//! - `quorum.log`: an 8-byte magic, then records (`record.rs`) appended in write order. A
//!   record whose index is at or below the last live one replaces the live records from that
//!   index on: that is how a conflicting suffix is truncated without rewriting the file.
//! - `quorum.state`: the hard state (term, vote, commit), replaced whole (`atomic_file`).
//! - `quorum.snapshot`: the latest snapshot, replaced whole.
//!
//! # Commit protocol, and what a crash at each step leaves
//! `write` runs the steps of a [`DiskWrite`] in order, each durable before the next:
//! 1. The snapshot file is replaced; then the log is rewritten (temporary file, rename) with
//!    only the entries after the snapshot. A crash between the two leaves the new snapshot and
//!    the old log; recovery applies the snapshot rule of [`DiskWrite`] to the old log, which
//!    gives the same result as the rewrite (and rewrites it then).
//! 2. The entries are appended in one write and fdatasync'd. A crash leaves a prefix of the
//!    records, maybe a torn last one: recovery cuts the file after the last whole record. The
//!    prefix is a valid log (as if the leader had sent fewer entries), and nothing of this
//!    write was acknowledged, since acknowledgements wait for `write` to return.
//! 3. The hard state file is replaced. It comes last so that its commit index never points
//!    past the durable log. A crash before it leaves the older hard state; `Quorum::open` then
//!    raises the term to the log's last term if the log got ahead.
//!
//! A record that fails its CRC with a whole record after it is not a torn tail: an
//! acknowledged write is damaged, and `load` refuses to start rather than drop it. A power
//! loss that lands later pages of an unsynced append but not earlier ones looks the same, and
//! is refused the same way (the safe side).
//!
//! OWNER: the controller shard's blocking-write thread; one `FileDisk` per directory, and one
//! write at a time (`&mut self`).

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::atomic_file::{io_error, read_bounded, replace, sync_parent, temporary_path};
use super::record::{self, RECORD_HEADER_BYTES};
use super::state_file::{self, HARD_STATE_BYTES};
use super::{check_append, entries_after_snapshot, DiskState, DiskWrite, LogEntry, RaftDisk};
use crate::quorum::error::DiskError;
use crate::quorum::limits::{
    LOG_FILE_BYTES_MAX, LOG_RECORD_BYTES_MAX, PROPOSAL_BYTES_MAX, SNAPSHOT_BYTES_MAX,
};

pub const LOG_FILE_NAME: &str = "quorum.log";
pub const HARD_STATE_FILE_NAME: &str = "quorum.state";
pub const SNAPSHOT_FILE_NAME: &str = "quorum.snapshot";
pub const LOG_MAGIC: &[u8; 8] = b"SLQLOG\0\x01";

/// Where a live record sits in the log file.
#[derive(Debug, Clone, Copy)]
struct LiveRecord {
    index: u64,
    term: u64,
    offset: u64,
    bytes: u64,
}

/// The quorum's disk in a directory. See the module doc for the layout and the protocol.
pub struct FileDisk {
    log_path: PathBuf,
    hard_state_path: PathBuf,
    snapshot_path: PathBuf,
    log: File,
    /// End of the last whole record: where the next append goes.
    log_bytes: u64,
    /// The log's entries after the snapshot, in index order.
    live: Vec<LiveRecord>,
    snapshot_index: u64,
    snapshot_term: u64,
    /// What `open` recovered, handed out by the first `load`.
    recovered: Option<DiskState>,
    /// Set by a failed write: memory may disagree with the files, so only a reopen may go on.
    failed: bool,
}

impl FileDisk {
    /// Opens (creating if needed) the disk in `directory` and recovers it: removes temporary
    /// files, cuts a torn tail off the log, drops the log entries a snapshot covers.
    pub fn open(directory: &Path) -> Result<FileDisk, DiskError> {
        fs::create_dir_all(directory).map_err(io_error("create directory", directory))?;
        sync_parent(directory)?;
        let log_path = directory.join(LOG_FILE_NAME);
        let hard_state_path = directory.join(HARD_STATE_FILE_NAME);
        let snapshot_path = directory.join(SNAPSHOT_FILE_NAME);
        for path in [&log_path, &hard_state_path, &snapshot_path] {
            remove_if_present(&temporary_path(path))?;
        }
        if !log_path.exists() {
            replace(&log_path, LOG_MAGIC)?;
        }
        let log = open_log(&log_path)?;
        let mut disk = FileDisk {
            log_path,
            hard_state_path,
            snapshot_path,
            log,
            log_bytes: 0,
            live: Vec::new(),
            snapshot_index: 0,
            snapshot_term: 0,
            recovered: None,
            failed: false,
        };
        disk.recovered = Some(disk.recover()?);
        Ok(disk)
    }

    /// Reads everything back, repairing what a crash may leave (see the module doc).
    fn recover(&mut self) -> Result<DiskState, DiskError> {
        let snapshot = match read_bounded(&self.snapshot_path, snapshot_file_bytes_max())? {
            None => None,
            Some(bytes) => Some(
                state_file::decode_snapshot(&bytes)
                    .map_err(|reason| corrupt(&self.snapshot_path, 0, reason))?,
            ),
        };
        let hard_state = match read_bounded(&self.hard_state_path, HARD_STATE_BYTES as u64)? {
            None => Default::default(),
            Some(bytes) => state_file::decode_hard_state(&bytes)
                .map_err(|reason| corrupt(&self.hard_state_path, 0, reason))?,
        };
        let (mut entries, mut live) = self.scan_log()?;
        self.snapshot_index = snapshot.as_ref().map_or(0, |snapshot| snapshot.index);
        self.snapshot_term = snapshot.as_ref().map_or(0, |snapshot| snapshot.term);
        if entries
            .first()
            .is_some_and(|first| first.index > self.snapshot_index + 1)
        {
            return Err(corrupt(
                &self.log_path,
                0,
                "gap between the snapshot and the log",
            ));
        }
        let kept = entries_after_snapshot(
            &entries,
            |entry| (entry.index, entry.term),
            self.snapshot_index,
            self.snapshot_term,
        );
        if kept < entries.len() {
            // A compaction or a snapshot install stopped between its two steps: finish it, so
            // that appends after the snapshot extend a log that starts right after it.
            entries.drain(..entries.len() - kept);
            live.drain(..live.len() - kept);
            self.live = live;
            self.rewrite_log()?;
        } else {
            self.live = live;
        }
        assert!(entries
            .first()
            .is_none_or(|first| first.index == self.snapshot_index + 1));
        Ok(DiskState {
            snapshot,
            entries,
            hard_state,
        })
    }

    /// The live entries of the log file, and where they sit; cuts off a torn tail.
    fn scan_log(&mut self) -> Result<(Vec<LogEntry>, Vec<LiveRecord>), DiskError> {
        let bytes = read_bounded(&self.log_path, LOG_FILE_BYTES_MAX)?
            .ok_or_else(|| corrupt(&self.log_path, 0, "log file vanished"))?;
        if bytes.get(..LOG_MAGIC.len()) != Some(LOG_MAGIC.as_slice()) {
            return Err(corrupt(&self.log_path, 0, "wrong magic"));
        }
        let mut entries: Vec<LogEntry> = Vec::new();
        let mut live: Vec<LiveRecord> = Vec::new();
        let mut offset = LOG_MAGIC.len();
        while offset < bytes.len() {
            let (entry, record_bytes) = match record::decode(&bytes[offset..]) {
                Ok(decoded) => decoded,
                Err(reason) => {
                    if whole_record_after(&bytes, offset) {
                        return Err(corrupt(&self.log_path, offset as u64, reason));
                    }
                    break;
                }
            };
            let kept = position_of(&entries, entry.index)
                .map_err(|reason| corrupt(&self.log_path, offset as u64, reason))?;
            entries.truncate(kept);
            live.truncate(kept);
            live.push(LiveRecord {
                index: entry.index,
                term: entry.term,
                offset: offset as u64,
                bytes: record_bytes as u64,
            });
            entries.push(entry);
            offset += record_bytes;
        }
        self.log_bytes = offset as u64;
        if offset < bytes.len() {
            // A torn tail: never acknowledged (acknowledgements wait for the fdatasync).
            self.log
                .set_len(self.log_bytes)
                .map_err(io_error("truncate", &self.log_path))?;
            self.log
                .sync_data()
                .map_err(io_error("fdatasync", &self.log_path))?;
        }
        assert_eq!(entries.len(), live.len());
        Ok((entries, live))
    }

    /// Replaces the log file by one holding only the live records.
    fn rewrite_log(&mut self) -> Result<(), DiskError> {
        let mut bytes = LOG_MAGIC.to_vec();
        let mut rewritten = Vec::with_capacity(self.live.len());
        for record in &self.live {
            let start = bytes.len();
            let length = usize::try_from(record.bytes).unwrap_or(usize::MAX);
            assert!(length <= LOG_RECORD_BYTES_MAX);
            bytes.resize(start + length, 0);
            self.log
                .read_exact_at(&mut bytes[start..], record.offset)
                .map_err(io_error("read", &self.log_path))?;
            rewritten.push(LiveRecord {
                offset: start as u64,
                ..*record
            });
        }
        replace(&self.log_path, &bytes)?;
        self.log = open_log(&self.log_path)?;
        self.log_bytes = bytes.len() as u64;
        self.live = rewritten;
        Ok(())
    }

    fn write_snapshot(&mut self, snapshot: &super::SnapshotData) -> Result<(), DiskError> {
        if snapshot.data.len() > SNAPSHOT_BYTES_MAX {
            return Err(too_large(
                "snapshot",
                snapshot.data.len(),
                SNAPSHOT_BYTES_MAX,
            ));
        }
        if snapshot.index < self.snapshot_index {
            return Err(DiskError::Inconsistent(format!(
                "snapshot at {} is older than the one at {}",
                snapshot.index, self.snapshot_index
            )));
        }
        replace(&self.snapshot_path, &state_file::encode_snapshot(snapshot))?;
        let kept = entries_after_snapshot(
            &self.live,
            |record| (record.index, record.term),
            snapshot.index,
            snapshot.term,
        );
        self.live.drain(..self.live.len() - kept);
        self.snapshot_index = snapshot.index;
        self.snapshot_term = snapshot.term;
        self.rewrite_log()
    }

    fn append(&mut self, entries: &[LogEntry]) -> Result<(), DiskError> {
        let last_index = self
            .live
            .last()
            .map_or(self.snapshot_index, |record| record.index);
        check_append(self.snapshot_index, last_index, entries)?;
        let mut buffer = Vec::new();
        let mut appended = Vec::with_capacity(entries.len());
        for entry in entries {
            if entry.data.len() > PROPOSAL_BYTES_MAX {
                return Err(too_large("entry", entry.data.len(), PROPOSAL_BYTES_MAX));
            }
            let start = buffer.len() as u64;
            record::encode(entry, &mut buffer);
            appended.push(LiveRecord {
                index: entry.index,
                term: entry.term,
                offset: self.log_bytes + start,
                bytes: buffer.len() as u64 - start,
            });
        }
        let log_bytes_after = self.log_bytes + buffer.len() as u64;
        if log_bytes_after > LOG_FILE_BYTES_MAX {
            return Err(DiskError::TooLarge {
                what: "log file",
                bytes: log_bytes_after,
                bytes_max: LOG_FILE_BYTES_MAX,
            });
        }
        self.log
            .write_all_at(&buffer, self.log_bytes)
            .map_err(io_error("write", &self.log_path))?;
        self.log
            .sync_data()
            .map_err(io_error("fdatasync", &self.log_path))?;
        let kept = self
            .live
            .partition_point(|record| record.index < entries[0].index);
        self.live.truncate(kept);
        self.live.extend(appended);
        self.log_bytes = log_bytes_after;
        Ok(())
    }
}

impl RaftDisk for FileDisk {
    fn load(&mut self) -> Result<DiskState, DiskError> {
        match self.recovered.take() {
            Some(state) => Ok(state),
            None => {
                self.failed = false;
                self.recover()
            }
        }
    }

    fn write(&mut self, write: &DiskWrite) -> Result<(), DiskError> {
        if self.failed {
            return Err(DiskError::Inconsistent(
                "an earlier write failed: reopen".into(),
            ));
        }
        self.recovered = None;
        self.failed = true;
        if let Some(snapshot) = &write.snapshot {
            self.write_snapshot(snapshot)?;
        }
        if !write.entries.is_empty() {
            self.append(&write.entries)?;
        }
        if let Some(hard_state) = &write.hard_state {
            replace(
                &self.hard_state_path,
                &state_file::encode_hard_state(hard_state),
            )?;
        }
        self.failed = false;
        Ok(())
    }
}

/// How many leading entries stay when a record at `index` arrives: all of them if it extends
/// the log, fewer if it replaces a suffix. An index that leaves a gap, or that falls before
/// the first entry, is damage.
fn position_of(entries: &[LogEntry], index: u64) -> Result<usize, &'static str> {
    let Some(first) = entries.first() else {
        return Ok(0);
    };
    let last_index = first.index + entries.len() as u64 - 1;
    if index > last_index + 1 {
        return Err("gap in the log");
    }
    if index < first.index {
        return Err("record before the first entry");
    }
    Ok((index - first.index) as usize)
}

/// Whether some whole record starts after the damaged one at `offset`: if one does, the damage
/// is not a torn tail. Tries every byte position, since a damaged length hides the next record.
fn whole_record_after(bytes: &[u8], offset: usize) -> bool {
    (offset + 1..bytes.len().saturating_sub(RECORD_HEADER_BYTES))
        .any(|start| record::decode(&bytes[start..]).is_ok())
}

fn open_log(path: &Path) -> Result<File, DiskError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_error("open", path))
}

fn remove_if_present(path: &Path) -> Result<(), DiskError> {
    match fs::remove_file(path) {
        Ok(()) => sync_parent(path),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io_error("remove", path)(error)),
    }
}

fn snapshot_file_bytes_max() -> u64 {
    (SNAPSHOT_BYTES_MAX + state_file::SNAPSHOT_OVERHEAD_BYTES) as u64
}

fn corrupt(path: &Path, offset: u64, reason: &str) -> DiskError {
    DiskError::Corrupt {
        path: path.to_path_buf(),
        offset,
        reason: reason.to_string(),
    }
}

fn too_large(what: &'static str, bytes: usize, bytes_max: usize) -> DiskError {
    DiskError::TooLarge {
        what,
        bytes: bytes as u64,
        bytes_max: bytes_max as u64,
    }
}
