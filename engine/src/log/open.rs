//! Opening a partition log: cleanup of leftover files, checkpoints, and crash recovery.
//!
//! Rules, in order:
//! 1. Leftover files are resolved by name: `*.tmp` (an interrupted atomic write; the committed
//!    file is the one without `.tmp`), `*.deleted` (a deletion past its commit point) and
//!    `*.cleaned` (a compaction output never committed) are removed. `<base>.log.swap` is a
//!    committed replacement: the segments it covers are deleted and it is renamed to
//!    `<base>.log`. Index files without their `.log` are removed.
//! 2. Segments wholly below the recovery point were fsynced before it was written: their index
//!    files are loaded and cross-checked (footer CRC, size, last entry points at a batch with
//!    the right offset), and rebuilt by a CRC scan when any check fails.
//! 3. From the segment containing the recovery point on, every batch is scanned (length,
//!    magic, counts, CRC-32C, increasing offsets); indexes are rebuilt from the scan. The log
//!    is truncated at the first bad batch and later segments are deleted.
//! 4. The active segment is truncated to its valid length and fdatasynced; the log end is
//!    then durable, and the recovery point is rewritten to it.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::sync::RwLock;

use super::checkpoint;
use super::txn_index::TXN_INDEX_SUFFIX;
use super::{PartitionLog, WriteState, DELETED_SUFFIX};
use crate::batch_cache::BatchCache;
use crate::buffer_pool::BufferPool;
use crate::compaction::dirty::CleanerLogState;
use crate::error::LogError;
use crate::segment::appender::align_down;
use crate::segment::{
    load_index, parse_base_offset, read_header_at, scan_segment, segment_path, Segment,
    SegmentAppender, SegmentIndex, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX,
};
use crate::storage::{SegmentFile, Storage};
use crate::LogConfig;

/// Suffix of a committed compaction output waiting to replace segments.
pub(crate) const SWAP_SUFFIX: &str = ".swap";
/// Suffix of an uncommitted compaction output.
pub(crate) const CLEANED_SUFFIX: &str = ".cleaned";
/// Suffix of an interrupted atomic write.
pub(crate) const TMP_SUFFIX: &str = ".tmp";

pub(crate) struct OpenContext {
    pub storage: Rc<dyn Storage>,
    pub pool: Rc<BufferPool>,
    pub cache: Rc<BatchCache>,
    pub now_ms: i64,
}

fn io_err(context: &str, path: &Path) -> impl FnOnce(std::io::Error) -> LogError {
    let context = format!("{context} {}", path.display());
    move |err| LogError::io(context, err)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Opens (creating if missing) and recovers the log in `dir`.
pub(crate) async fn open_log(
    ctx: &OpenContext,
    dir: PathBuf,
    topic: &str,
    partition: i32,
    config: LogConfig,
) -> Result<Rc<PartitionLog>, LogError> {
    let storage = &*ctx.storage;
    storage
        .create_dir_all(&dir)
        .await
        .map_err(io_err("creating", &dir))?;
    clean_leftovers(storage, &dir, config.index_interval_bytes).await?;
    let recovery_point = checkpoint::read_recovery_point(storage, &dir).await?;
    let log_start_stored = checkpoint::read_log_start(storage, &dir).await?;
    let mut epochs = checkpoint::read_leader_epochs(storage, &dir).await?;
    let first_dirty_offset = checkpoint::read_cleaner_offset(storage, &dir).await?;

    let mut bases = Vec::new();
    for path in storage
        .list_dir(&dir)
        .await
        .map_err(io_err("listing", &dir))?
    {
        if let Some(base) = parse_base_offset(&file_name(&path), LOG_SUFFIX) {
            bases.push(base);
        }
    }
    bases.sort_unstable();
    let mut segments = recover_segments(ctx, &dir, &bases, recovery_point, &config).await?;
    if segments.is_empty() {
        let base = log_start_stored;
        let file = storage
            .open_segment(&segment_path(&dir, base, LOG_SUFFIX), true)
            .await
            .map_err(io_err("creating segment in", &dir))?;
        drop(file);
        segments.push(Segment::new(
            &dir,
            SegmentIndex::new(base),
            0,
            base,
            ctx.now_ms,
        ));
    }
    let active = segments.last().cloned().ok_or_else(|| LogError::Corrupt {
        detail: "no segment after recovery".into(),
    })?;
    let appender = open_appender(&ctx.storage, &ctx.pool, &active, &config).await?;
    // The active segment's index files (written by a clean close) go stale with the first
    // append; removed now, durably with the sync below, so recovery never trusts them.
    for suffix in [INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
        let path = segment_path(&dir, active.base_offset, suffix);
        storage
            .remove_file(&path)
            .await
            .map_err(io_err("removing", &path))?;
    }
    storage
        .sync_dir(&dir)
        .await
        .map_err(io_err("syncing", &dir))?;

    let (aborted, txn_index_damaged) = super::txn_index::load(storage, &dir, &segments).await?;
    let log_end = active.next_offset();
    let log_start = log_start_stored.max(segments[0].base_offset).min(log_end);
    if epochs.truncate_from(log_end) {
        checkpoint::write_leader_epochs(storage, &dir, &epochs).await?;
    }
    if recovery_point != log_end {
        checkpoint::write_recovery_point(storage, &dir, log_end).await?;
    }
    let log = Rc::new(PartitionLog {
        topic: topic.to_string(),
        partition,
        dir,
        storage: ctx.storage.clone(),
        pool: ctx.pool.clone(),
        cache: ctx.cache.partition(log_end),
        config: RefCell::new(config),
        segments: RefCell::new(segments),
        write: RwLock::new(WriteState { appender }),
        segments_change: RwLock::new(()),
        cleaner_state: RefCell::new(CleanerLogState {
            first_dirty_offset,
            ..CleanerLogState::default()
        }),
        log_start_offset: Cell::new(log_start),
        log_end_offset: Cell::new(log_end),
        flushed_offset: Cell::new(log_end),
        sync_turn: RwLock::new(()),
        truncations: Cell::new(0),
        max_timestamp: Cell::new(None),
        leader_epoch: Cell::new(epochs.latest_epoch().unwrap_or(0).max(0)),
        epochs: RefCell::new(std::mem::take(&mut epochs)),
        epochs_dirty: Cell::new(false),
        closed: Cell::new(false),
        aborted: RefCell::new(aborted),
        txn_index_damaged: Cell::new(txn_index_damaged),
    });
    log.recompute_max_timestamp();
    Ok(log)
}

/// Opens the active segment for appending: truncates it to its valid length, syncs it, and
/// loads the partial last block.
pub(crate) async fn open_appender(
    storage: &Rc<dyn Storage>,
    pool: &Rc<BufferPool>,
    active: &Segment,
    config: &LogConfig,
) -> Result<SegmentAppender, LogError> {
    let path = active.log_path();
    let file = storage
        .open_segment(&path, true)
        .await
        .map_err(io_err("opening", &path))?;
    let size = active.size_bytes();
    let physical = file.file_size().await.map_err(io_err("sizing", &path))?;
    if physical != size {
        file.truncate(size)
            .await
            .map_err(io_err("truncating", &path))?;
    }
    file.fdatasync().await.map_err(io_err("syncing", &path))?;
    let tail_start = align_down(size);
    let tail_block = if tail_start < size {
        let tail = file
            .read_at(tail_start, (size - tail_start) as usize)
            .await
            .map_err(io_err("reading tail of", &path))?;
        if tail.len() as u64 != size - tail_start {
            return Err(LogError::Corrupt {
                detail: format!("short tail read of {}", path.display()),
            });
        }
        tail
    } else {
        Vec::new()
    };
    Ok(SegmentAppender::new(
        file,
        pool.clone(),
        size,
        tail_block,
        active.next_offset(),
        config.segment_bytes_effective(),
    ))
}

/// Rule 1: resolve leftovers of interrupted operations.
async fn clean_leftovers(
    storage: &dyn Storage,
    dir: &Path,
    interval_bytes: u32,
) -> Result<(), LogError> {
    let paths = storage
        .list_dir(dir)
        .await
        .map_err(io_err("listing", dir))?;
    for path in &paths {
        let name = file_name(path);
        if name.ends_with(TMP_SUFFIX)
            || name.ends_with(DELETED_SUFFIX)
            || name.ends_with(CLEANED_SUFFIX)
        {
            tracing::info!(path = %path.display(), "removing leftover file");
            storage
                .remove_file(path)
                .await
                .map_err(io_err("removing", path))?;
        }
    }
    for path in &paths {
        let name = file_name(path);
        if let Some(log_name) = name.strip_suffix(SWAP_SUFFIX) {
            if let Some(base) = parse_base_offset(log_name, LOG_SUFFIX) {
                complete_swap(storage, dir, path, base, interval_bytes).await?;
            }
        }
    }
    let paths = storage
        .list_dir(dir)
        .await
        .map_err(io_err("listing", dir))?;
    for path in &paths {
        let name = file_name(path);
        let base = parse_base_offset(&name, INDEX_SUFFIX)
            .or_else(|| parse_base_offset(&name, TIME_INDEX_SUFFIX))
            .or_else(|| parse_base_offset(&name, TXN_INDEX_SUFFIX));
        if let Some(base) = base {
            if !paths.contains(&segment_path(dir, base, LOG_SUFFIX)) {
                storage
                    .remove_file(path)
                    .await
                    .map_err(io_err("removing", path))?;
            }
        }
    }
    Ok(())
}

/// Finishes a committed segment swap: deletes the segments the swap file covers, then renames
/// it into place. Idempotent, so a crash during it is resolved by the next open.
async fn complete_swap(
    storage: &dyn Storage,
    dir: &Path,
    swap_path: &Path,
    base: i64,
    interval_bytes: u32,
) -> Result<(), LogError> {
    let file = storage
        .open_segment(swap_path, false)
        .await
        .map_err(io_err("opening", swap_path))?;
    let size = file
        .file_size()
        .await
        .map_err(io_err("sizing", swap_path))?;
    let scan = scan_segment(&*file, base, size, interval_bytes, true).await?;
    drop(file);
    if scan.stop_reason.is_some() {
        return Err(LogError::Corrupt {
            detail: format!(
                "committed swap file {} is invalid: {:?}",
                swap_path.display(),
                scan.stop_reason
            ),
        });
    }
    for path in storage
        .list_dir(dir)
        .await
        .map_err(io_err("listing", dir))?
    {
        let name = file_name(&path);
        let covered = [
            LOG_SUFFIX,
            INDEX_SUFFIX,
            TIME_INDEX_SUFFIX,
            TXN_INDEX_SUFFIX,
        ]
        .iter()
        .filter_map(|suffix| parse_base_offset(&name, suffix))
        .any(|old| old >= base && old < scan.next_offset);
        if covered {
            storage
                .remove_file(&path)
                .await
                .map_err(io_err("removing", &path))?;
        }
    }
    let target = segment_path(dir, base, LOG_SUFFIX);
    storage
        .rename(swap_path, &target)
        .await
        .map_err(io_err("renaming", swap_path))?;
    storage.sync_dir(dir).await.map_err(io_err("syncing", dir))
}

/// Rules 2 and 3: rebuilds the in-memory segments, truncating at the first bad batch.
async fn recover_segments(
    ctx: &OpenContext,
    dir: &Path,
    bases: &[i64],
    recovery_point: i64,
    config: &LogConfig,
) -> Result<Vec<Rc<Segment>>, LogError> {
    let storage = &*ctx.storage;
    let interval = config.index_interval_bytes;
    // Segments before this index end at or below the recovery point.
    let first_unflushed = bases
        .partition_point(|&base| base <= recovery_point)
        .saturating_sub(1);
    let mut segments: Vec<Rc<Segment>> = Vec::new();
    for (i, &base) in bases.iter().enumerate() {
        let path = segment_path(dir, base, LOG_SUFFIX);
        let expected_min = segments.last().map_or(i64::MIN, |prev| prev.next_offset());
        if base < expected_min {
            tracing::warn!(path = %path.display(), "segment overlaps its predecessor; deleting it and later ones");
            delete_from(storage, dir, &bases[i..]).await?;
            break;
        }
        let file = storage
            .open_segment(&path, false)
            .await
            .map_err(io_err("opening", &path))?;
        let physical = file.file_size().await.map_err(io_err("sizing", &path))?;
        // After a clean close the active segment has index files that end exactly at the
        // recovery point (everything in it was flushed): no need to scan it. `open_log` deletes
        // them before appends resume, so they can never describe a later state.
        let closed_cleanly = i == first_unflushed && i + 1 == bases.len();
        if i < first_unflushed || closed_cleanly {
            let required_end = closed_cleanly.then_some(recovery_point);
            if let Some(segment) =
                load_checked(ctx, dir, base, physical, &*file, required_end).await?
            {
                segments.push(segment);
                continue;
            }
            if !closed_cleanly {
                tracing::info!(path = %path.display(), "index missing or invalid; rebuilding");
            }
        }
        let scan = scan_segment(&*file, base, physical, interval, true).await?;
        let segment = Segment::new(
            dir,
            scan.index,
            scan.valid_bytes,
            scan.next_offset,
            ctx.now_ms,
        );
        let is_last = i + 1 == bases.len();
        if let Some(reason) = scan.stop_reason {
            tracing::warn!(path = %path.display(), %reason, valid_bytes = scan.valid_bytes, "truncating log at first invalid batch");
            file.truncate(scan.valid_bytes)
                .await
                .map_err(io_err("truncating", &path))?;
            file.fdatasync().await.map_err(io_err("syncing", &path))?;
            segments.push(segment);
            delete_from(storage, dir, &bases[i + 1..]).await?;
            break;
        }
        if !is_last {
            segment.store_index(storage).await?;
        }
        segments.push(segment);
    }
    // An empty segment is only useful as the active one.
    while segments.len() > 1 && segments[segments.len() - 2].is_empty() {
        let empty = segments.remove(segments.len() - 2);
        storage
            .remove_file(&empty.log_path())
            .await
            .map_err(io_err("removing", &empty.log_path()))?;
    }
    Ok(segments)
}

/// Loads a flushed segment from its index files if they agree with the log (and, with
/// `required_end`, end exactly there).
async fn load_checked(
    ctx: &OpenContext,
    dir: &Path,
    base: i64,
    physical: u64,
    file: &dyn SegmentFile,
    required_end: Option<i64>,
) -> Result<Option<Rc<Segment>>, LogError> {
    let Some((index, summary)) = load_index(&*ctx.storage, dir, base).await? else {
        return Ok(None);
    };
    if required_end.is_some_and(|end| summary.next_offset != end) {
        return Ok(None);
    }
    if summary.size_bytes > physical {
        return Ok(None);
    }
    if let Some(last) = index.offsets.last() {
        let reader = ctx
            .storage
            .open_reader(file.path())
            .map_err(io_err("opening", file.path()))?;
        let header = read_header_at(&*reader, last.position as u64)
            .map_err(io_err("reading", file.path()))?;
        if header.is_none_or(|header| header.base_offset != base + last.relative_offset as i64) {
            return Ok(None);
        }
    }
    if summary.size_bytes < physical {
        file.truncate(summary.size_bytes)
            .await
            .map_err(io_err("truncating", file.path()))?;
    }
    Ok(Some(Segment::new(
        dir,
        index,
        summary.size_bytes,
        summary.next_offset,
        ctx.now_ms,
    )))
}

/// Deletes whole segments (newest first, so a crash leaves a prefix).
async fn delete_from(storage: &dyn Storage, dir: &Path, bases: &[i64]) -> Result<(), LogError> {
    for &base in bases.iter().rev() {
        for suffix in [
            LOG_SUFFIX,
            INDEX_SUFFIX,
            TIME_INDEX_SUFFIX,
            TXN_INDEX_SUFFIX,
        ] {
            let path = segment_path(dir, base, suffix);
            storage
                .remove_file(&path)
                .await
                .map_err(io_err("removing", &path))?;
        }
    }
    Ok(())
}
