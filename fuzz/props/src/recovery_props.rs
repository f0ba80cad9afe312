//! Engine recovery (`LogManager::open_log`) over a partition directory built from arbitrary
//! bytes: segments mixing valid batches, garbage, truncated and corrupted batches, gaps and
//! overlaps in offsets, arbitrary index/time-index bytes and leader-epoch checkpoints, and a
//! recovery point that (as in real life) only ever covers fully valid segments.
//!
//! Properties: open never panics; when it succeeds, reading the whole log returns only batches
//! that pass `validate` (CRC, lengths, counts) with strictly increasing offsets inside
//! `[log_start, log_end)`, ending exactly at the log end; the log then takes an append at the
//! log end and serves it back; a clean close and reopen keeps the same end offset.
//!
//! The layout goes through the storage seam (`Rc<dyn Storage>`): the cargo-fuzz target uses
//! `MemStorage` (no I/O, thousands of inputs per second), the stable fallback test real files
//! (`GlommioStorage`). On `MemStorage` a power-loss step is added (`check_with_crash`): after a
//! flush, `crash_torn` and reopen keep every flushed batch byte-exact.

use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use sluice_engine::batch::{self, CountRule};
use sluice_engine::storage::{MemStorage, Storage};
use sluice_engine::{LogConfig, LogManager, PartitionLog, ShardEngineConfig};

pub const TOPIC: &str = "f";
const SEGMENT_FILES_MAX: usize = 4;
const OPS_MAX: usize = 64;
const READ_BYTES_MAX: u32 = 256 * 1024;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn take(&mut self, len: usize) -> &[u8] {
        let len = len.min(self.0.len());
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        head
    }
}

struct SegmentFile {
    base_offset: i64,
    log: Vec<u8>,
    index: Option<Vec<u8>>,
    time_index: Option<Vec<u8>>,
    /// Only valid batches so far (a recovery point may cover it).
    clean: bool,
}

fn recovery_point_file(offset: i64) -> Vec<u8> {
    // Format of engine/src/log/checkpoint.rs: magic "SLRP", offset, CRC-32C of both.
    let mut out = 0x534c_5250u32.to_be_bytes().to_vec();
    out.extend_from_slice(&offset.to_be_bytes());
    let crc = crc32c(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

fn crc32c(data: &[u8]) -> u32 {
    // The engine's CRC helper covers attributes..end of a batch; compute a plain CRC-32C by
    // placing the data where that helper starts.
    let mut buf = vec![0u8; batch::ATTRIBUTES_AT];
    buf.extend_from_slice(data);
    batch::compute_crc(&buf)
}

/// O_DIRECT alignment of segment writes (the engine's `limits::BLOCK_BYTES`).
const BLOCK_BYTES: usize = sluice_engine::limits::BLOCK_BYTES as usize;

fn io_context(context: &str, path: &Path) -> impl FnOnce(std::io::Error) -> std::io::Error {
    let context = format!("{context} {}", path.display());
    move |err| std::io::Error::new(err.kind(), format!("{context}: {err}"))
}

/// Writes a whole segment file through the seam (block-aligned, as O_DIRECT wants, then cut to
/// its length), fdatasynced when `durable`.
async fn write_segment(
    storage: &dyn Storage,
    path: &Path,
    bytes: &[u8],
    durable: bool,
) -> std::io::Result<()> {
    let file = storage.open_segment(path, true).await?;
    if !bytes.is_empty() {
        let padded = bytes.len().div_ceil(BLOCK_BYTES) * BLOCK_BYTES;
        let mut buf = file.alloc_buffer(padded);
        buf.as_bytes_mut()[..bytes.len()].copy_from_slice(bytes);
        buf.as_bytes_mut()[bytes.len()..].fill(0);
        let written = file.write_at(Rc::new(buf), 0).await?;
        assert_eq!(written, padded, "short layout write of {}", path.display());
        file.truncate(bytes.len() as u64).await?;
    }
    if durable {
        file.fdatasync().await?;
    }
    Ok(())
}

async fn write_small(
    storage: &dyn Storage,
    path: &Path,
    bytes: &[u8],
    durable: bool,
) -> std::io::Result<()> {
    storage
        .write_file_atomic(path, bytes.to_vec(), durable)
        .await
        .map_err(io_context("writing", path))
}

/// Writes the partition directory described by `data` under `data_dir`, through `storage`;
/// with `durable`, everything written is durable (data fdatasynced, directory synced) when this
/// returns: the starting point of a power-loss check. Real files skip the syncs (no power loss
/// is simulated there, and fsyncs would only slow the fallback test down).
pub async fn write_partition(
    data: &[u8],
    storage: &dyn Storage,
    data_dir: &Path,
    durable: bool,
) -> std::io::Result<()> {
    let dir = data_dir.join(format!("{TOPIC}-0"));
    storage.remove_dir_all(&dir).await?;
    storage.create_dir_all(&dir).await?;
    let mut input = Input(data);
    let flags = input.byte().unwrap_or(0);
    let mut segments: Vec<SegmentFile> = Vec::new();
    let mut next_offset = 0i64;
    for _ in 0..OPS_MAX {
        let Some(op) = input.byte() else { break };
        let arg = input.byte().unwrap_or(0);
        if segments.is_empty() || (op % 8 == 0 && segments.len() < SEGMENT_FILES_MAX) {
            // New segment: continuing, after a gap, or overlapping the previous one.
            let base = match arg % 4 {
                0 | 1 => next_offset,
                2 => next_offset + i64::from(arg),
                _ => (next_offset - 1 - i64::from(arg % 8)).max(0),
            };
            if segments.last().is_some_and(|s| s.base_offset >= base) {
                continue;
            }
            segments.push(SegmentFile {
                base_offset: base,
                log: Vec::new(),
                index: None,
                time_index: None,
                clean: true,
            });
            next_offset = base;
            if op % 8 == 0 {
                continue;
            }
        }
        let segment = segments.last_mut().expect("a segment exists");
        let records = 1 + i32::from(arg % 5);
        let value_len = usize::from(input.byte().unwrap_or(0) % 64);
        let value = input.take(value_len).to_vec();
        let valid = batch::build_batch(
            next_offset,
            1_600_000_000_000 + next_offset,
            records,
            &value,
        );
        match op % 8 {
            1..=3 => {
                segment.log.extend_from_slice(&valid);
                next_offset += i64::from(records);
            }
            4 => {
                let len = usize::from(input.byte().unwrap_or(0) % 128);
                segment.log.extend_from_slice(input.take(len));
                segment.clean = false;
            }
            5 => {
                let mut bad = valid.to_vec();
                let at = usize::from(input.byte().unwrap_or(0)) % bad.len();
                bad[at] ^= input.byte().unwrap_or(1).max(1);
                segment.log.extend_from_slice(&bad);
                segment.clean = false;
            }
            6 => {
                let cut = usize::from(input.byte().unwrap_or(0)) % valid.len();
                segment.log.extend_from_slice(&valid[..cut]);
                segment.clean = false;
            }
            _ => {
                let len = usize::from(input.byte().unwrap_or(0));
                if arg % 2 == 0 {
                    segment.index = Some(input.take(len).to_vec());
                } else {
                    segment.time_index = Some(input.take(len).to_vec());
                }
            }
        }
    }
    for segment in &segments {
        let name = |suffix: &str| dir.join(format!("{:020}.{suffix}", segment.base_offset));
        let log_path = name("log");
        write_segment(storage, &log_path, &segment.log, durable)
            .await
            .map_err(io_context("writing", &log_path))?;
        if let Some(index) = &segment.index {
            write_small(storage, &name("index"), index, durable).await?;
        }
        if let Some(times) = &segment.time_index {
            write_small(storage, &name("timeindex"), times, durable).await?;
        }
    }
    // A recovery point only ever covers data that was flushed whole: the end of a prefix of
    // clean segments.
    if flags & 1 != 0 {
        let covered = segments.iter().take_while(|s| s.clean).count();
        if covered > 0 && covered < segments.len() {
            let point = segments[covered].base_offset;
            let path = dir.join("recovery-point.checkpoint");
            write_small(storage, &path, &recovery_point_file(point), durable).await?;
        }
    }
    if flags & 2 != 0 {
        let text = String::from_utf8_lossy(input.take(64)).into_owned();
        write_small(
            storage,
            &dir.join("leader-epoch-checkpoint"),
            text.as_bytes(),
            durable,
        )
        .await?;
    }
    if flags & 4 != 0 {
        let path = dir.join("log-start-offset.checkpoint");
        write_small(storage, &path, input.take(16), durable).await?;
    }
    if durable {
        storage.sync_dir(&dir).await?;
    }
    Ok(())
}

fn engine_config(data_dir: &Path) -> ShardEngineConfig {
    ShardEngineConfig {
        data_dir: data_dir.to_path_buf(),
        batch_cache_bytes_max: 1 << 20,
        write_buffer_pool_bytes_max: 4 << 20,
    }
}

fn log_config() -> LogConfig {
    LogConfig {
        segment_bytes: 64 * 1024,
        index_interval_bytes: 256,
        retention_ms: -1,
        ..LogConfig::default()
    }
}

/// What recovery made of one layout (so drivers can tell their inputs are not vacuous).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `open_log` returned an error (allowed).
    Refused,
    /// Opened and checked; the log end after recovery.
    Recovered { log_end_offset: i64 },
}

/// Batches read from a recovered log, validated: (base offset, bytes) in offset order.
struct LogContents {
    batches: Vec<(i64, Vec<u8>)>,
    /// A read inside `[start, end)` came back empty: segment bases skip offsets (the layout
    /// makes such gaps on purpose) and nothing follows; Kafka serves such a gap the same way.
    gap_to_end: bool,
}

async fn chunk_bytes(result: &sluice_engine::ReadResult) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(result.bytes as usize);
    for chunk in &result.chunks {
        let chunk: Bytes = chunk.to_bytes().await.expect("read chunk bytes");
        bytes.extend_from_slice(&chunk);
    }
    assert_eq!(
        bytes.len(),
        result.bytes as usize,
        "chunks disagree with the read size"
    );
    bytes
}

/// Reads the whole log, checking that every batch validates, offsets strictly increase inside
/// `[start, end)`, and the last batch ends at the log end (unless a gap ends the data).
async fn read_log(log: &PartitionLog) -> LogContents {
    let start = log.log_start_offset();
    let end = log.log_end_offset();
    assert!(0 <= start && start <= end, "log start {start}, end {end}");
    let mut offset = start;
    let mut previous_next: Option<i64> = None;
    let mut contents = LogContents {
        batches: Vec::new(),
        gap_to_end: false,
    };
    while offset < end {
        let result = log
            .read(offset, READ_BYTES_MAX, i64::MAX)
            .await
            .unwrap_or_else(|err| {
                panic!("recovered log [{start}, {end}) unreadable at {offset}: {err}")
            });
        let bytes = chunk_bytes(&result).await;
        if bytes.is_empty() {
            contents.gap_to_end = true;
            break;
        }
        let mut at = 0;
        while at < bytes.len() {
            let header = batch::parse_header(&bytes[at..])
                .unwrap_or_else(|err| panic!("recovered log holds a bad batch at {offset}: {err}"));
            let len = header.total_bytes();
            assert!(at + len <= bytes.len(), "read cut a batch");
            let whole = &bytes[at..at + len];
            if let Err(err) = batch::validate(whole, CountRule::Compacted) {
                panic!(
                    "recovered log holds a batch that fails validation at {}: {err}",
                    header.base_offset
                );
            }
            assert!(
                header.last_offset() >= offset,
                "batch [{}..={}] before the read offset {offset}",
                header.base_offset,
                header.last_offset()
            );
            if let Some(previous_next) = previous_next {
                assert!(
                    header.base_offset >= previous_next,
                    "offsets go back: batch at {} after one ending before {previous_next}",
                    header.base_offset
                );
            }
            previous_next = Some(header.next_offset());
            assert!(header.last_offset() < end, "batch past the log end {end}");
            contents.batches.push((header.base_offset, whole.to_vec()));
            offset = header.next_offset();
            at += len;
        }
    }
    assert!(
        offset == end || contents.gap_to_end,
        "the last batch ends at {offset}, not at the log end {end}"
    );
    contents
}

/// Appends one producer batch at the log end and reads it back; `None` if the append failed
/// (allowed: e.g. an offset overflow past a huge recovered end).
async fn append_one(log: &PartitionLog, now: i64, value: &[u8]) -> Option<Vec<u8>> {
    let end = log.log_end_offset();
    let info = log
        .append(&[batch::build_batch(0, now, 2, value)], now)
        .await
        .ok()?;
    assert_eq!(info.base_offset, end, "append not at the log end");
    let result = log
        .read(end, READ_BYTES_MAX, i64::MAX)
        .await
        .expect("read the append");
    assert!(!result.chunks.is_empty(), "the append is readable");
    // A batch may span several chunks (the engine shares the producer's buffer after a
    // rewritten header); only their concatenation is a batch.
    let first = chunk_bytes(&result).await;
    let header = batch::validate(&first, CountRule::Producer).expect("append reads back valid");
    assert_eq!(header.base_offset, end);
    Some(first[..header.total_bytes()].to_vec())
}

/// Fuzz entry (run on a glommio executor): lay out the directory in `storage`, recover, check.
pub async fn check(data: &[u8], storage: Rc<dyn Storage>, data_dir: &Path) -> Outcome {
    check_inner(data, storage, data_dir, None).await
}

/// `check`, then a power loss: a flushed append and an unflushed one, `crash_torn` (seeded by
/// the input), reopen: every batch below the flushed offset is back byte-exact, the unflushed
/// one is whole or absent, and everything read still validates.
pub async fn check_with_crash(data: &[u8], mem: Rc<MemStorage>, data_dir: &Path) -> Outcome {
    // FNV-1a of the input: the same input tears the same blocks.
    let seed = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    let storage: Rc<dyn Storage> = mem.clone();
    let crash = move || mem.crash_torn(seed);
    check_inner(data, storage, data_dir, Some(&crash)).await
}

async fn check_inner(
    data: &[u8],
    storage: Rc<dyn Storage>,
    data_dir: &Path,
    crash: Option<&dyn Fn()>,
) -> Outcome {
    if let Err(err) = write_partition(data, &*storage, data_dir, crash.is_some()).await {
        panic!(
            "cannot write the fuzz partition under {}: {err}",
            data_dir.display()
        );
    }
    let manager = LogManager::with_storage(engine_config(data_dir), storage.clone());
    let Ok(log) = manager.open_log(TOPIC, 0, log_config()).await else {
        // Refusing to open is allowed; panicking is not.
        return Outcome::Refused;
    };
    let end = log.log_end_offset();
    read_log(&log).await;
    append_one(&log, 1_700_000_000_000, b"after recovery").await;
    let end_before_close = log.log_end_offset();
    drop(log);
    let outcome = Outcome::Recovered {
        log_end_offset: end,
    };
    if manager.close_all().await.is_err() {
        return outcome;
    }
    let manager = LogManager::with_storage(engine_config(data_dir), storage.clone());
    if let Ok(log) = manager.open_log(TOPIC, 0, log_config()).await {
        assert_eq!(
            log.log_end_offset(),
            end_before_close,
            "clean close and reopen moved the end"
        );
        match crash {
            Some(crash) => power_loss(manager, log, storage, data_dir, crash).await,
            None => {
                let _ = manager.close_all().await;
            }
        }
    }
    outcome
}

/// The whole first batch a read at `offset` returns.
async fn first_batch_at(log: &PartitionLog, offset: i64) -> Vec<u8> {
    let result = log
        .read(offset, READ_BYTES_MAX, i64::MAX)
        .await
        .unwrap_or_else(|err| panic!("read at {offset} after power loss: {err}"));
    let bytes = chunk_bytes(&result).await;
    let header = batch::parse_header(&bytes)
        .unwrap_or_else(|err| panic!("no batch at {offset} after power loss: {err}"));
    bytes[..header.total_bytes()].to_vec()
}

async fn power_loss(
    manager: Rc<LogManager>,
    log: Rc<PartitionLog>,
    storage: Rc<dyn Storage>,
    data_dir: &Path,
    crash: &dyn Fn(),
) {
    let before = read_log(&log).await;
    let now = 1_700_000_000_500;
    let flushed_base = log.log_end_offset();
    let Some(flushed_batch) = append_one(&log, now, b"flushed before power loss").await else {
        return;
    };
    let Ok(flushed) = log.flush().await else {
        return;
    };
    assert!(flushed > flushed_base);
    let unflushed_batch = append_one(&log, now, b"appended, never flushed").await;
    drop(log);
    drop(manager);
    crash();

    let manager = LogManager::with_storage(engine_config(data_dir), storage);
    let log = match manager.open_log(TOPIC, 0, log_config()).await {
        Ok(log) => log,
        Err(err) => panic!("a log flushed to {flushed} does not reopen after power loss: {err}"),
    };
    assert!(
        log.log_end_offset() >= flushed,
        "power loss lost flushed data: end {} below the flushed offset {flushed}",
        log.log_end_offset()
    );
    let after = read_log(&log).await;
    let kept = after.batches.len().min(before.batches.len());
    assert!(
        after.batches[..kept] == before.batches[..kept],
        "power loss changed batches below the flushed offset {flushed}"
    );
    assert!(
        kept == before.batches.len() || after.gap_to_end,
        "power loss dropped batches below the flushed offset {flushed}"
    );
    assert!(
        first_batch_at(&log, flushed_base).await == flushed_batch,
        "the flushed batch at {flushed_base} came back different"
    );
    if let Some(unflushed) = unflushed_batch {
        if log.log_end_offset() > flushed {
            assert!(
                first_batch_at(&log, flushed).await == unflushed,
                "the unflushed batch at {flushed} came back torn yet valid"
            );
        }
    }
    let _ = manager.close_all().await;
}
