//! Engine recovery (`LogManager::open_log`) over a partition directory built from arbitrary
//! bytes: segments mixing valid batches, garbage, truncated and corrupted batches, gaps and
//! overlaps in offsets, arbitrary index/time-index bytes and leader-epoch checkpoints, and a
//! recovery point that (as in real life) only ever covers fully valid segments.
//!
//! Properties: open never panics; when it succeeds, reading the whole log returns only batches
//! that pass `validate` (CRC, lengths, counts) with strictly increasing offsets inside
//! `[log_start, log_end)`, ending exactly at the log end; the log then takes an append at the
//! log end and serves it back; a clean close and reopen keeps the same end offset.

use std::path::Path;

use bytes::Bytes;
use sluice_engine::batch::{self, CountRule};
use sluice_engine::{LogConfig, LogManager, ShardEngineConfig};

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

/// Writes the partition directory described by `data` under `data_dir`.
pub fn write_partition(data: &[u8], data_dir: &Path) -> std::io::Result<()> {
    let dir = data_dir.join(format!("{TOPIC}-0"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
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
        std::fs::write(name("log"), &segment.log)?;
        if let Some(index) = &segment.index {
            std::fs::write(name("index"), index)?;
        }
        if let Some(times) = &segment.time_index {
            std::fs::write(name("timeindex"), times)?;
        }
    }
    // A recovery point only ever covers data that was flushed whole: the end of a prefix of
    // clean segments.
    if flags & 1 != 0 {
        let covered = segments.iter().take_while(|s| s.clean).count();
        if covered > 0 && covered < segments.len() {
            let point = segments[covered].base_offset;
            std::fs::write(
                dir.join("recovery-point.checkpoint"),
                recovery_point_file(point),
            )?;
        }
    }
    if flags & 2 != 0 {
        let text = String::from_utf8_lossy(input.take(64)).into_owned();
        std::fs::write(dir.join("leader-epoch-checkpoint"), text)?;
    }
    if flags & 4 != 0 {
        std::fs::write(dir.join("log-start-offset.checkpoint"), input.take(16))?;
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

/// Fuzz entry (run on a glommio executor): lay out the directory, recover, check.
pub async fn check(data: &[u8], data_dir: &Path) -> Outcome {
    if let Err(err) = write_partition(data, data_dir) {
        panic!(
            "cannot write the fuzz partition under {}: {err}",
            data_dir.display()
        );
    }
    let manager = LogManager::new(engine_config(data_dir));
    let Ok(log) = manager.open_log(TOPIC, 0, log_config()).await else {
        // Refusing to open is allowed; panicking is not.
        return Outcome::Refused;
    };
    let start = log.log_start_offset();
    let end = log.log_end_offset();
    assert!(0 <= start && start <= end, "log start {start}, end {end}");
    let mut offset = start;
    let mut previous_next: Option<i64> = None;
    let mut gap_to_end = false;
    while offset < end {
        let result = log
            .read(offset, READ_BYTES_MAX, i64::MAX)
            .await
            .unwrap_or_else(|err| {
                panic!("recovered log [{start}, {end}) unreadable at {offset}: {err}")
            });
        let mut bytes = Vec::with_capacity(result.bytes as usize);
        for chunk in &result.chunks {
            let chunk = chunk.to_bytes().await.expect("read chunk bytes");
            bytes.extend_from_slice(&chunk);
        }
        if bytes.is_empty() {
            // Segment bases may skip offsets (the layout makes gaps on purpose): nothing at or
            // after `offset` yet. Kafka serves such a gap the same way (an empty read).
            gap_to_end = true;
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
            offset = header.next_offset();
            at += len;
        }
    }
    assert!(
        offset == end || gap_to_end,
        "the last batch ends at {offset}, not at the log end {end}"
    );
    let now = 1_700_000_000_000;
    let appended = log
        .append(&[batch::build_batch(0, now, 2, b"after recovery")], now)
        .await;
    if let Ok(info) = appended {
        assert_eq!(
            info.base_offset, end,
            "append after recovery not at the log end"
        );
        let result = log
            .read(end, READ_BYTES_MAX, i64::MAX)
            .await
            .expect("read the append");
        assert!(!result.chunks.is_empty(), "the append is readable");
        // A batch may span several chunks (the engine shares the producer's buffer after a
        // rewritten header); only their concatenation is a batch.
        let mut first = Vec::new();
        for chunk in &result.chunks {
            let bytes: Bytes = chunk.to_bytes().await.expect("chunk bytes");
            first.extend_from_slice(&bytes);
        }
        let header = batch::validate(&first, CountRule::Producer).expect("append reads back valid");
        assert_eq!(header.base_offset, end);
    }
    let end_before_close = log.log_end_offset();
    drop(log);
    let outcome = Outcome::Recovered {
        log_end_offset: end,
    };
    if manager.close_all().await.is_err() {
        return outcome;
    }
    let manager = LogManager::new(engine_config(data_dir));
    if let Ok(log) = manager.open_log(TOPIC, 0, log_config()).await {
        assert_eq!(
            log.log_end_offset(),
            end_before_close,
            "clean close and reopen moved the end"
        );
        let _ = manager.close_all().await;
    }
    outcome
}
