//! Shared helpers of the engine's integration tests: a bounded glommio executor, small
//! configurations, batch builders and a reader that concatenates a read's chunks.
#![allow(dead_code)]

pub mod crash_storage;
pub mod gated_storage;
pub mod keyed;

use std::future::Future;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use glommio::{LocalExecutorBuilder, Placement};
use sluice_engine::batch;
use sluice_engine::{LogConfig, PartitionLog, ReadResult, ShardEngineConfig};

/// Hard bound on any single test body.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs `make()` on a fresh glommio executor with a small io_memory; panics after TEST_TIMEOUT.
pub fn run<G, F, T>(make: G) -> T
where
    G: FnOnce() -> F + Send + 'static,
    F: Future<Output = T> + 'static,
    T: Send + 'static,
{
    let (sender, receiver) = mpsc::channel();
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .name("engine-test")
        .io_memory(2 << 20)
        .spawn(move || async move {
            let result = make().await;
            let _ = sender.send(result);
        })
        .expect("spawn executor");
    match receiver.recv_timeout(TEST_TIMEOUT) {
        Ok(result) => {
            handle.join().expect("executor thread");
            result
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("test body panicked (see above)"),
        Err(err) => panic!("test body did not finish within {TEST_TIMEOUT:?}: {err}"),
    }
}

pub fn shard_config(dir: &Path) -> ShardEngineConfig {
    ShardEngineConfig {
        data_dir: dir.to_path_buf(),
        batch_cache_bytes_max: 1 << 20,
        write_buffer_pool_bytes_max: 4 << 20,
    }
}

/// Small segments so tests cross rolls.
pub fn log_config(segment_bytes: u64) -> LogConfig {
    LogConfig {
        segment_bytes,
        index_interval_bytes: 512,
        retention_ms: -1,
        ..LogConfig::default()
    }
}

/// A valid batch of `records` records, each `value_len` bytes derived from `seed`.
pub fn batch_of(records: i32, value_len: usize, seed: u64, timestamp: i64) -> Bytes {
    let value: Vec<u8> = (0..value_len)
        .map(|i| (seed as usize * 31 + i * 7) as u8)
        .collect();
    batch::build_batch(0, timestamp, records, &value)
}

/// The bytes a read returned, concatenated.
pub async fn read_bytes(result: &ReadResult) -> Vec<u8> {
    let mut out = Vec::with_capacity(result.bytes as usize);
    for chunk in &result.chunks {
        out.extend_from_slice(&chunk.to_bytes().await.expect("chunk bytes"));
    }
    assert_eq!(out.len(), result.bytes as usize);
    out
}

/// Splits concatenated batches into (base_offset, bytes) pairs, checking each CRC.
pub fn split_batches(mut data: &[u8]) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let header = batch::parse_header(data).expect("batch header");
        let total = header.total_bytes();
        batch::validate(&data[..total], batch::CountRule::Compacted).expect("valid batch");
        out.push((header.base_offset, data[..total].to_vec()));
        data = &data[total..];
    }
    out
}

/// Reads every batch of the log from its start.
pub async fn read_all(log: &PartitionLog) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let result = log.read(offset, 1 << 20, i64::MAX).await.expect("read");
        let batches = split_batches(&read_bytes(&result).await);
        assert!(!batches.is_empty(), "read at {offset} returned nothing");
        for (base, bytes) in batches {
            let header = batch::parse_header(&bytes).expect("header");
            offset = header.next_offset();
            out.push((base, bytes));
        }
    }
    out
}

/// Asserts `got` holds the batches of `sent`, in order, at the same offsets and with the same
/// payloads (baseOffset and partitionLeaderEpoch masked).
pub fn assert_same_batches(got: &[(i64, Vec<u8>)], sent: &[(i64, Bytes)]) {
    assert_eq!(got.len(), sent.len());
    for ((base, bytes), (sent_base, sent_bytes)) in got.iter().zip(sent) {
        assert_eq!(base, sent_base);
        assert_eq!(payload(bytes), payload(sent_bytes));
    }
}

/// The payload of a batch with baseOffset and partitionLeaderEpoch masked, for comparisons.
pub fn payload(bytes: &[u8]) -> Vec<u8> {
    bytes[batch::MAGIC_AT..].to_vec()
}

/// Appends `count` batches (batch i has (i % 4) + 1 records and a value derived from its base
/// offset, timestamp 1000 * (i + 1)); returns (base_offset, bytes as stored).
pub async fn fill(log: &PartitionLog, count: usize, value_len: usize) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..count {
        let base = log.log_end_offset();
        let sent = batch_of(
            (i % 4) as i32 + 1,
            value_len,
            base as u64,
            1000 * (i as i64 + 1),
        );
        out.push(append_as_stored(log, &sent).await);
    }
    out
}

/// Appends one batch at the log end; returns (base_offset, its bytes as the log stores them).
pub async fn append_as_stored(log: &PartitionLog, sent: &Bytes) -> (i64, Vec<u8>) {
    let base = log.log_end_offset();
    let info = log
        .append(std::slice::from_ref(sent), 0)
        .await
        .expect("append");
    assert_eq!(info.base_offset, base);
    let mut stored = sent.to_vec();
    batch::set_base_offset(&mut stored, base);
    batch::set_partition_leader_epoch(&mut stored, 0);
    (base, stored)
}

/// Writes `count` batches (see `fill`) to a fresh `topic-partition` log under `data_dir`, then
/// closes it cleanly: the starting point of every recovery scenario. Returns what `fill` returns.
pub async fn write_closed_log(
    data_dir: &Path,
    topic: &str,
    partition: i32,
    config: LogConfig,
    count: usize,
    value_len: usize,
) -> Vec<(i64, Vec<u8>)> {
    let manager = sluice_engine::LogManager::new(shard_config(data_dir));
    let log = manager
        .open_log(topic, partition, config)
        .await
        .expect("open");
    let expected = fill(&log, count, value_len).await;
    manager.close_all().await.expect("close");
    expected
}

/// Files in `dir` whose names end with `suffix`, sorted.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

/// A tiny deterministic generator (xorshift) so tests need no RNG crate.
pub struct Xorshift(pub u64);

impl Xorshift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// The offset stored in a partition's `recovery-point.checkpoint` (magic, i64 BE, crc); 0 when
/// the file does not exist yet.
pub fn stored_recovery_point(partition_dir: &Path) -> i64 {
    let Ok(data) = std::fs::read(partition_dir.join("recovery-point.checkpoint")) else {
        return 0;
    };
    assert_eq!(data.len(), 16);
    i64::from_be_bytes(data[4..12].try_into().expect("8 bytes"))
}

/// A manager whose storage injects faults on demand.
pub fn faulty_manager(
    dir: &Path,
) -> (
    std::rc::Rc<sluice_engine::LogManager>,
    std::rc::Rc<sluice_engine::storage::FaultyStorage>,
) {
    use sluice_engine::storage::{FaultyStorage, GlommioStorage};
    let storage = std::rc::Rc::new(FaultyStorage::new(std::rc::Rc::new(GlommioStorage)));
    let manager = sluice_engine::LogManager::with_storage(shard_config(dir), storage.clone());
    (manager, storage)
}
