//! The cleaner of one shard: one pass over one compacted log at a time.
//!
//! A pass (Kafka's `Cleaner.doClean`):
//! 1. Offset map: the dirty section's records are read in offset order and each key's latest
//!    offset is put in the bounded map, batch by batch, until the section ends or the next
//!    batch might not fit. The map's end becomes the new first dirty offset: when the map
//!    filled, only that prefix counts as cleaned and the next pass continues from there.
//!    Records of aborted transactions (the aborted-transaction index says which) stay out.
//! 2. Producers: the last data batch of each producer id below the map's end is noted (a
//!    header pass over the clean section, plus the dirty section read in step 1).
//! 3. Groups: the sealed segments below the map's end are grouped, in order, into runs whose
//!    total size fits `segment.bytes` and whose offsets fit a relative u32, so cleaned segments
//!    merge as they shrink.
//! 4. Each group is filtered (see `filter.rs`) into `<base>.log.cleaned`, fdatasynced and swapped
//!    in (see `swap.rs`), oldest group first: a tombstone is removed only after every older
//!    group has been rewritten, so a crash never brings back a value it deleted.
//! 5. The cleaner checkpoint moves to the map's end.
//!
//! Appends and reads go on meanwhile: the pass takes no lock until a swap, and after every
//! `CLEAN_SLICE_BYTES` it reads it pauses so that it holds the reactor at most
//! `CleanerConfig::duty_percent` of the time (`Pacer`).

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use glommio::sync::RwLock;

use crate::batch::BatchHeader;
use crate::compaction::codec;
use crate::compaction::dirty::CleanableStats;
use crate::compaction::filter::{filter_batch, FilterContext, Filtered, ProducerLastBatches};
use crate::compaction::offset_map::OffsetMap;
use crate::compaction::records::parse_records;
use crate::compaction::segment_io::{BatchReader, CleanedWriter};
use crate::compaction::swap::SwapOutcome;
use crate::compaction::transactions::{marker_type, TxnTracker};
use crate::error::LogError;
use crate::limits::{BATCH_BYTES_MAX, SEGMENT_BYTES_MAX};
use crate::log::checkpoint;
use crate::log::AbortedTxn;
use crate::log::PartitionLog;
use crate::segment::Segment;

/// Bytes the cleaner reads between two pauses for the shard's other tasks: bounds how long a
/// pass holds the reactor at a time (reading cold, decompressing and filtering 128 KiB takes
/// well under a millisecond on an SSD).
pub const CLEAN_SLICE_BYTES: u64 = 128 * 1024;
/// Longest pause between two slices (a slice stalled by a slow device must not stop the pass).
const PACE_SLEEP_MAX: Duration = Duration::from_millis(100);
/// Default share of the reactor's time a pass may take (`sluice.log.cleaner.duty.percent`).
pub const DUTY_PERCENT_DEFAULT: u32 = 20;
/// Producer ids a pass tracks to keep each one's last batch; past it, every batch with a
/// producer id that loses all its records is kept empty (never wrongly dropped).
pub const PRODUCERS_TRACKED_MAX: usize = 1 << 20;
/// Largest records section a batch may inflate to when the cleaner decompresses it.
pub const DECOMPRESSED_BYTES_MAX: usize = 4 * BATCH_BYTES_MAX as usize;
/// Default `log.cleaner.dedupe.buffer.size` of one shard's cleaner (Kafka: 128 MiB shared by
/// its cleaner threads).
pub const DEDUPE_BUFFER_BYTES_DEFAULT: usize = 32 * 1024 * 1024;

/// Settings of a shard's cleaner.
#[derive(Debug, Clone)]
pub struct CleanerConfig {
    /// `log.cleaner.dedupe.buffer.size`: memory of the offset map.
    pub dedupe_buffer_bytes: usize,
    /// Largest share (1-100) of the reactor's time a pass takes: after each slice it pauses
    /// for the rest, so appends and their fdatasyncs keep their latency.
    pub duty_percent: u32,
}

impl Default for CleanerConfig {
    fn default() -> Self {
        CleanerConfig {
            dedupe_buffer_bytes: DEDUPE_BUFFER_BYTES_DEFAULT,
            duty_percent: DUTY_PERCENT_DEFAULT,
        }
    }
}

/// Totals since the cleaner was created (for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanerTotals {
    pub passes: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub records_removed: u64,
    pub segments_swapped: u64,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CleanOutcome {
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub records_removed: u64,
    /// Groups swapped in (each replaced one or more segments).
    pub segments_swapped: u64,
    /// Groups left as they were (nothing to remove) or abandoned (the log changed under them).
    pub groups_skipped: u64,
    /// The first dirty offset after the pass (its checkpoint).
    pub first_dirty_offset: i64,
}

/// The cleaner of one shard. Lives on that shard; one pass runs at a time (the offset map is
/// its one big buffer).
pub struct Cleaner {
    map: RwLock<OffsetMap>,
    duty_percent: u32,
    totals: Cell<CleanerTotals>,
}

impl Cleaner {
    pub fn new(config: CleanerConfig) -> Rc<Cleaner> {
        Rc::new(Cleaner {
            map: RwLock::new(OffsetMap::new(config.dedupe_buffer_bytes)),
            duty_percent: config.duty_percent.clamp(1, 100),
            totals: Cell::new(CleanerTotals::default()),
        })
    }

    pub fn totals(&self) -> CleanerTotals {
        self.totals.get()
    }

    /// Entries the offset map holds before a pass stops at a prefix.
    pub async fn map_entries_max(&self) -> usize {
        match self.map.read().await {
            Ok(map) => map.entries_max(),
            Err(_) => 0,
        }
    }

    /// One pass over `log` (see the module doc). `offset_limit` bounds what may be cleaned (the
    /// high watermark or last stable offset); `now_ms` is the clock for the compaction lags and
    /// delete horizons. Returns `None` when the log is not compacted or has nothing to clean.
    pub async fn clean(
        &self,
        log: &PartitionLog,
        now_ms: i64,
        offset_limit: i64,
    ) -> Result<Option<CleanOutcome>, LogError> {
        log.check_open()?;
        let Some(stats) = log.cleanable_stats(now_ms, offset_limit) else {
            return Ok(None);
        };
        if stats.dirty_bytes == 0 && !stats.delete_horizon_due {
            return Ok(None);
        }
        let mut map = self
            .map
            .write()
            .await
            .map_err(|_| LogError::Closed { name: log.name() })?;
        map.clear();
        let mut pacer = Pacer::new(self.duty_percent);
        let outcome = clean_log(log, &mut map, &stats, now_ms, &mut pacer).await;
        map.clear();
        let outcome = outcome?;
        let mut totals = self.totals.get();
        totals.passes += 1;
        totals.bytes_read += outcome.bytes_read;
        totals.bytes_written += outcome.bytes_written;
        totals.records_removed += outcome.records_removed;
        totals.segments_swapped += outcome.segments_swapped;
        self.totals.set(totals);
        Ok(Some(outcome))
    }
}

/// Paces a pass: after every `CLEAN_SLICE_BYTES` read, it sleeps long enough that the pass
/// holds the reactor at most `duty_percent` of the time (the slice's time, reads included:
/// cold reads block the reactor thread). A sleep, unlike a yield, also leaves the device to
/// the shard's appends and fdatasyncs.
struct Pacer {
    duty_percent: u32,
    slice_bytes: u64,
    slice_started: Instant,
}

impl Pacer {
    fn new(duty_percent: u32) -> Pacer {
        assert!((1..=100).contains(&duty_percent));
        Pacer {
            duty_percent,
            slice_bytes: 0,
            slice_started: Instant::now(),
        }
    }

    async fn pace(&mut self, read_bytes: u64) {
        self.slice_bytes += read_bytes;
        if self.slice_bytes < CLEAN_SLICE_BYTES {
            return;
        }
        self.slice_bytes = 0;
        let busy = self.slice_started.elapsed();
        let idle_percent = 100 - self.duty_percent;
        let rest = busy * idle_percent / self.duty_percent;
        if rest.is_zero() {
            glommio::executor().yield_now().await;
        } else {
            glommio::timer::sleep(rest.min(PACE_SLEEP_MAX)).await;
        }
        self.slice_started = Instant::now();
    }
}

/// The sealed segments now, oldest first.
fn sealed_segments(log: &PartitionLog) -> Vec<Rc<Segment>> {
    let segments = log.segments.borrow();
    segments[..segments.len() - 1].to_vec()
}

struct MapBuilt {
    /// Offset after the last batch put in the map (the new first dirty offset).
    end_offset: i64,
    bytes_read: u64,
}

/// Step 1 (and the dirty half of step 2).
async fn build_offset_map(
    log: &PartitionLog,
    map: &mut OffsetMap,
    stats: &CleanableStats,
    aborted: &[AbortedTxn],
    producers: &mut ProducerLastBatches,
    pacer: &mut Pacer,
) -> Result<MapBuilt, LogError> {
    let mut built = MapBuilt {
        end_offset: stats.first_dirty_offset,
        bytes_read: 0,
    };
    let mut txns = TxnTracker::new(
        aborted
            .iter()
            .copied()
            .filter(|entry| entry.last_offset >= stats.first_dirty_offset)
            .collect(),
    );
    'segments: for segment in sealed_segments(log) {
        if segment.next_offset() <= stats.first_dirty_offset {
            continue;
        }
        if segment.base_offset >= stats.first_uncleanable_offset {
            break;
        }
        let mut reader = BatchReader::open(
            &*log.storage,
            &segment.log_path(),
            segment.size_bytes(),
            segment.base_offset,
        )
        .await?;
        while let Some(header) = reader.next().await? {
            if header.last_offset() < stats.first_dirty_offset {
                continue;
            }
            if header.base_offset >= stats.first_uncleanable_offset {
                break 'segments;
            }
            if header.records_count as usize > map.room() {
                if map.is_empty() {
                    return Err(LogError::InvalidArgument {
                        detail: format!(
                            "log.cleaner.dedupe.buffer.size holds {} keys, less than the {} \
                             records of the batch at {} of {}",
                            map.entries_max(),
                            header.records_count,
                            header.base_offset,
                            log.name()
                        ),
                    });
                }
                break 'segments;
            }
            let bytes = reader.bytes();
            note_producer(producers, &header);
            if header.is_control() {
                let section = codec::decompress(
                    header.compression(),
                    &bytes[crate::batch::HEADER_BYTES..],
                    DECOMPRESSED_BYTES_MAX,
                )?;
                txns.on_control_batch(&header, marker_type(&header, &section));
            } else if !txns.on_data_batch(&header) {
                // Aborted records never enter the map: they must not hide older values.
                put_keys(map, &header, bytes)?;
            }
            built.end_offset = header.next_offset();
            built.bytes_read += bytes.len() as u64;
            pacer.pace(bytes.len() as u64).await;
        }
    }
    Ok(built)
}

fn put_keys(map: &mut OffsetMap, header: &BatchHeader, bytes: &[u8]) -> Result<(), LogError> {
    let section = codec::decompress(
        header.compression(),
        &bytes[crate::batch::HEADER_BYTES..],
        DECOMPRESSED_BYTES_MAX,
    )?;
    for record in parse_records(&section, header.records_count)? {
        if let Some(key) = record.key {
            let offset = header.base_offset + i64::from(record.offset_delta);
            if offset > map.latest_offset() {
                map.put(key, offset);
            }
        }
    }
    Ok(())
}

/// Notes a producer's data batch (markers are not a producer's last data, as in Kafka's
/// `lastDataOffset`: a removable marker is never kept for its producer's sake).
fn note_producer(producers: &mut ProducerLastBatches, header: &BatchHeader) {
    if header.producer_id < 0 || header.is_control() {
        return;
    }
    if let Some(last) = producers {
        if last.len() >= PRODUCERS_TRACKED_MAX && !last.contains_key(&header.producer_id) {
            *producers = None;
            return;
        }
        last.insert(header.producer_id, header.base_offset);
    }
}

/// The clean half of step 2: producers' last batches in the clean section. Their later
/// batches in the dirty section (noted by `build_offset_map` afterwards) override these.
async fn note_clean_producers(
    log: &PartitionLog,
    first_dirty_offset: i64,
    producers: &mut ProducerLastBatches,
    pacer: &mut Pacer,
) -> Result<u64, LogError> {
    let mut bytes_read = 0;
    for segment in sealed_segments(log) {
        if segment.base_offset >= first_dirty_offset {
            break;
        }
        let mut reader = BatchReader::open(
            &*log.storage,
            &segment.log_path(),
            segment.size_bytes(),
            segment.base_offset,
        )
        .await?;
        while let Some(header) = reader.next().await? {
            if header.base_offset >= first_dirty_offset {
                break;
            }
            note_producer(producers, &header);
            bytes_read += header.total_bytes() as u64;
            pacer.pace(header.total_bytes() as u64).await;
        }
    }
    Ok(bytes_read)
}

/// Step 3: runs of sealed segments below `end_offset` that fit one segment.
fn group_segments(log: &PartitionLog, end_offset: i64) -> Vec<Vec<Rc<Segment>>> {
    let segment_bytes = log.config().segment_bytes_effective();
    let mut groups: Vec<Vec<Rc<Segment>>> = Vec::new();
    let mut size = 0u64;
    for segment in sealed_segments(log) {
        if segment.base_offset >= end_offset {
            break;
        }
        if let Some(group) = groups.last_mut() {
            let span = segment.next_offset() - group[0].base_offset;
            let fits = size + segment.size_bytes() <= segment_bytes
                && span <= i64::from(i32::MAX)
                && size + segment.size_bytes() <= SEGMENT_BYTES_MAX;
            if fits {
                size += segment.size_bytes();
                group.push(segment);
                continue;
            }
        }
        size = segment.size_bytes();
        groups.push(vec![segment]);
    }
    groups
}

async fn clean_log(
    log: &PartitionLog,
    map: &mut OffsetMap,
    stats: &CleanableStats,
    now_ms: i64,
    pacer: &mut Pacer,
) -> Result<CleanOutcome, LogError> {
    let truncations = log.truncations.get();
    let compact = log
        .config()
        .cleanup_policy
        .compact
        .ok_or_else(|| LogError::InvalidArgument {
            detail: format!("{} is not compacted", log.name()),
        })?;
    let mut producers: ProducerLastBatches = Some(HashMap::new());
    let mut outcome = CleanOutcome::default();
    outcome.bytes_read +=
        note_clean_producers(log, stats.first_dirty_offset, &mut producers, pacer).await?;
    // One view of the aborted transactions for the whole pass: an entry indexed later (its
    // marker raced the pass's bound) abandons the swaps it would change (`swap.rs`).
    let aborted =
        log.collect_aborted_txns(log.log_start_offset.get(), stats.first_uncleanable_offset);
    let built = build_offset_map(log, map, stats, &aborted, &mut producers, pacer).await?;
    outcome.bytes_read += built.bytes_read;
    let ctx = FilterContext {
        map,
        map_end_offset: built.end_offset,
        now_ms,
        delete_retention_ms: compact.delete_retention_ms,
        producer_last_batches: &producers,
        decompressed_bytes_max: DECOMPRESSED_BYTES_MAX,
    };
    let mut txns = TxnTracker::new(
        aborted
            .into_iter()
            .filter(|entry| entry.first_offset < built.end_offset)
            .collect(),
    );
    let mut delete_horizon_min_ms: Option<i64> = None;
    for group in group_segments(log, built.end_offset) {
        let cleaned = clean_group(log, &group, &ctx, &mut txns, pacer).await?;
        outcome.bytes_read += cleaned.bytes_read;
        if let Some(horizon) = cleaned.delete_horizon_min_ms {
            delete_horizon_min_ms = Some(delete_horizon_min_ms.map_or(horizon, |h| h.min(horizon)));
        }
        if !cleaned.changed {
            log.storage
                .remove_file(&cleaned.path)
                .await
                .map_err(|err| LogError::io("removing an unchanged .cleaned file", err))?;
            outcome.groups_skipped += 1;
            continue;
        }
        match log
            .swap_in_cleaned(&group, cleaned.output, truncations, &txns, built.end_offset)
            .await?
        {
            SwapOutcome::Swapped => {
                outcome.segments_swapped += 1;
                outcome.bytes_written += cleaned.bytes_written;
                outcome.records_removed += cleaned.records_removed;
            }
            SwapOutcome::Abandoned => {
                // Retention, DeleteRecords or a truncation changed these segments meanwhile, or
                // an aborted transaction the pass did not know of was indexed in them.
                outcome.groups_skipped += 1;
                return finish_pass(log, outcome, stats.first_dirty_offset, now_ms, None).await;
            }
        }
    }
    finish_pass(
        log,
        outcome,
        built.end_offset,
        now_ms,
        delete_horizon_min_ms,
    )
    .await
}

/// Step 5: the checkpoint and the in-memory state.
async fn finish_pass(
    log: &PartitionLog,
    mut outcome: CleanOutcome,
    first_dirty_offset: i64,
    now_ms: i64,
    delete_horizon_min_ms: Option<i64>,
) -> Result<CleanOutcome, LogError> {
    checkpoint::write_cleaner_offset(&*log.storage, &log.dir, first_dirty_offset).await?;
    let mut state = log.cleaner_state.borrow_mut();
    state.first_dirty_offset = first_dirty_offset;
    state.last_clean_ms = Some(now_ms);
    state.delete_horizon_min_ms = delete_horizon_min_ms;
    outcome.first_dirty_offset = first_dirty_offset;
    Ok(outcome)
}

/// A group's cleaned file, written and synced, not yet committed.
pub(crate) struct CleanedOutput {
    pub path: std::path::PathBuf,
    pub index: crate::segment::SegmentIndex,
    pub size_bytes: u64,
    pub next_offset: i64,
}

struct CleanedGroup {
    path: std::path::PathBuf,
    output: CleanedOutput,
    changed: bool,
    bytes_read: u64,
    bytes_written: u64,
    records_removed: u64,
    delete_horizon_min_ms: Option<i64>,
}

/// Step 4's first half: filters one group into `<base>.log.cleaned`.
async fn clean_group(
    log: &PartitionLog,
    group: &[Rc<Segment>],
    ctx: &FilterContext<'_>,
    txns: &mut TxnTracker,
    pacer: &mut Pacer,
) -> Result<CleanedGroup, LogError> {
    let base_offset = group[0].base_offset;
    let path = crate::log::cleaned_path(&log.dir, base_offset);
    let size_bytes_max: u64 = group.iter().map(|segment| segment.size_bytes()).sum();
    let interval = log.config().index_interval_bytes;
    let mut writer = CleanedWriter::create(
        &*log.storage,
        path.clone(),
        base_offset,
        size_bytes_max,
        interval,
    )
    .await?;
    let mut changed = group.len() > 1;
    let mut bytes_read = 0;
    let mut records_removed = 0;
    let mut delete_horizon_min_ms: Option<i64> = None;
    for segment in group {
        let mut reader = BatchReader::open(
            &*log.storage,
            &segment.log_path(),
            segment.size_bytes(),
            segment.base_offset,
        )
        .await?;
        while let Some(header) = reader.next().await? {
            let bytes = reader.bytes();
            bytes_read += bytes.len() as u64;
            let filtered = filter_batch(bytes, &header, ctx, txns)?;
            records_removed += u64::from(filtered.records_removed);
            if let Some(horizon) = filtered.delete_horizon_ms {
                delete_horizon_min_ms =
                    Some(delete_horizon_min_ms.map_or(horizon, |h| h.min(horizon)));
            }
            match filtered.filtered {
                Filtered::Verbatim => writer.append(bytes).await?,
                Filtered::Rewritten(rebuilt) => {
                    changed = true;
                    writer.append(&rebuilt).await?;
                }
                Filtered::Dropped => changed = true,
            }
            pacer.pace(header.total_bytes() as u64).await;
        }
    }
    let size_bytes = writer.size_bytes();
    let next_offset = writer.next_offset();
    let index = writer.index.clone();
    let path = writer.finish().await?;
    Ok(CleanedGroup {
        path: path.clone(),
        output: CleanedOutput {
            path,
            index,
            size_bytes,
            next_offset,
        },
        changed,
        bytes_read,
        bytes_written: size_bytes,
        records_removed,
        delete_horizon_min_ms,
    })
}
