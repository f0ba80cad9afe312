//! Per-partition checkpoint files, each written atomically (`.tmp`, fsync, rename):
//!
//! - `recovery-point.checkpoint`: every offset below it was flushed. Recovery scans (with CRC)
//!   only segments from the one containing it. It never exceeds the flushed offset.
//! - `log-start-offset.checkpoint`: the log start offset (DeleteRecords / retention).
//! - `leader-epoch-checkpoint`: Kafka's format: version, count, then `epoch start_offset` lines.
//! - `cleaner-offset.checkpoint`: the first offset the cleaner has not put in an offset map (the
//!   start of the dirty section of a compacted log). Lost or stale, it only means more cleaning.
//!
//! A missing or unreadable checkpoint falls back to the safe value: recovery point 0 (scan
//! everything), log start 0 (then the first segment's base), no leader epochs.

use std::path::{Path, PathBuf};

use crate::error::LogError;
use crate::storage::Storage;

pub(crate) const RECOVERY_POINT_FILE: &str = "recovery-point.checkpoint";
pub(crate) const LOG_START_FILE: &str = "log-start-offset.checkpoint";
pub(crate) const LEADER_EPOCH_FILE: &str = "leader-epoch-checkpoint";
pub(crate) const CLEANER_OFFSET_FILE: &str = "cleaner-offset.checkpoint";

const RECOVERY_POINT_MAGIC: u32 = 0x534c_5250; // "SLRP"
const LOG_START_MAGIC: u32 = 0x534c_5353; // "SLSS"
const CLEANER_OFFSET_MAGIC: u32 = 0x534c_434f; // "SLCO"
const OFFSET_FILE_BYTES: usize = 4 + 8 + 4;

fn encode_offset(magic: u32, offset: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(OFFSET_FILE_BYTES);
    out.extend_from_slice(&magic.to_be_bytes());
    out.extend_from_slice(&offset.to_be_bytes());
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

fn decode_offset(magic: u32, data: &[u8]) -> Option<i64> {
    if data.len() != OFFSET_FILE_BYTES {
        return None;
    }
    let stored = u32::from_be_bytes(data[12..16].try_into().ok()?);
    if crc32c::crc32c(&data[..12]) != stored {
        return None;
    }
    if u32::from_be_bytes(data[..4].try_into().ok()?) != magic {
        return None;
    }
    let offset = i64::from_be_bytes(data[4..12].try_into().ok()?);
    (offset >= 0).then_some(offset)
}

async fn read(storage: &dyn Storage, path: &Path) -> Result<Option<Vec<u8>>, LogError> {
    storage
        .read_file(path)
        .await
        .map_err(|err| LogError::io(format!("reading {}", path.display()), err))
}

async fn write(storage: &dyn Storage, path: PathBuf, data: Vec<u8>) -> Result<(), LogError> {
    storage
        .write_file_atomic(&path, data, true)
        .await
        .map_err(|err| LogError::io(format!("writing {}", path.display()), err))
}

pub(crate) async fn read_recovery_point(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<i64, LogError> {
    let path = dir.join(RECOVERY_POINT_FILE);
    let data = read(storage, &path).await?;
    let offset = data
        .as_deref()
        .and_then(|data| decode_offset(RECOVERY_POINT_MAGIC, data));
    if data.is_some() && offset.is_none() {
        tracing::warn!(path = %path.display(), "corrupt recovery point; recovering from offset 0");
    }
    Ok(offset.unwrap_or(0))
}

pub(crate) async fn write_recovery_point(
    storage: &dyn Storage,
    dir: &Path,
    offset: i64,
) -> Result<(), LogError> {
    write(
        storage,
        dir.join(RECOVERY_POINT_FILE),
        encode_offset(RECOVERY_POINT_MAGIC, offset),
    )
    .await
}

pub(crate) async fn read_log_start(storage: &dyn Storage, dir: &Path) -> Result<i64, LogError> {
    let data = read(storage, &dir.join(LOG_START_FILE)).await?;
    Ok(data
        .as_deref()
        .and_then(|data| decode_offset(LOG_START_MAGIC, data))
        .unwrap_or(0))
}

pub(crate) async fn write_log_start(
    storage: &dyn Storage,
    dir: &Path,
    offset: i64,
) -> Result<(), LogError> {
    write(
        storage,
        dir.join(LOG_START_FILE),
        encode_offset(LOG_START_MAGIC, offset),
    )
    .await
}

/// The cleaner's first dirty offset; 0 (everything dirty) when missing or corrupt.
pub(crate) async fn read_cleaner_offset(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<i64, LogError> {
    let data = read(storage, &dir.join(CLEANER_OFFSET_FILE)).await?;
    Ok(data
        .as_deref()
        .and_then(|data| decode_offset(CLEANER_OFFSET_MAGIC, data))
        .unwrap_or(0))
}

pub(crate) async fn write_cleaner_offset(
    storage: &dyn Storage,
    dir: &Path,
    offset: i64,
) -> Result<(), LogError> {
    write(
        storage,
        dir.join(CLEANER_OFFSET_FILE),
        encode_offset(CLEANER_OFFSET_MAGIC, offset),
    )
    .await
}

/// Leader epoch -> first offset of that epoch, ascending in both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderEpochCache {
    pub entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    /// Records that `epoch` starts at `start_offset`; true if that changed the cache.
    pub(crate) fn assign(&mut self, epoch: i32, start_offset: i64) -> bool {
        if epoch < 0 {
            return false;
        }
        match self.entries.last() {
            Some(&(last_epoch, _)) if epoch <= last_epoch => false,
            _ => {
                self.entries.push((epoch, start_offset));
                true
            }
        }
    }

    /// Drops epochs starting at or after `end_offset` (log truncated there).
    pub(crate) fn truncate_from(&mut self, end_offset: i64) -> bool {
        let before = self.entries.len();
        self.entries.retain(|&(_, start)| start < end_offset);
        before != self.entries.len()
    }

    /// The latest epoch, if any.
    pub fn latest_epoch(&self) -> Option<i32> {
        self.entries.last().map(|&(epoch, _)| epoch)
    }

    /// Kafka's end offset for `epoch`: the start offset of the next higher epoch, or `log_end`.
    pub fn end_offset_for(&self, epoch: i32, log_end: i64) -> Option<(i32, i64)> {
        let index = self.entries.partition_point(|&(e, _)| e <= epoch);
        if index == 0 {
            return None;
        }
        let found = self.entries[index - 1].0;
        let end = self.entries.get(index).map_or(log_end, |&(_, start)| start);
        Some((found, end))
    }

    fn encode(&self) -> Vec<u8> {
        let mut text = format!("0\n{}\n", self.entries.len());
        for (epoch, start) in &self.entries {
            text.push_str(&format!("{epoch} {start}\n"));
        }
        text.into_bytes()
    }

    fn decode(data: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(data).ok()?;
        let mut lines = text.lines();
        if lines.next()? != "0" {
            return None;
        }
        let count: usize = lines.next()?.parse().ok()?;
        let mut cache = LeaderEpochCache::default();
        for _ in 0..count {
            let mut parts = lines.next()?.split(' ');
            let epoch: i32 = parts.next()?.parse().ok()?;
            let start: i64 = parts.next()?.parse().ok()?;
            if !cache.assign(epoch, start) {
                return None;
            }
        }
        Some(cache)
    }
}

pub(crate) async fn read_leader_epochs(
    storage: &dyn Storage,
    dir: &Path,
) -> Result<LeaderEpochCache, LogError> {
    let data = read(storage, &dir.join(LEADER_EPOCH_FILE)).await?;
    Ok(data
        .as_deref()
        .and_then(LeaderEpochCache::decode)
        .unwrap_or_default())
}

pub(crate) async fn write_leader_epochs(
    storage: &dyn Storage,
    dir: &Path,
    cache: &LeaderEpochCache,
) -> Result<(), LogError> {
    write(storage, dir.join(LEADER_EPOCH_FILE), cache.encode()).await
}
