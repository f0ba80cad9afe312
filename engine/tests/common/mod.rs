//! Shared helpers of the engine's integration tests: a bounded glommio executor, small
//! configurations, batch builders and a reader that concatenates a read's chunks.
#![allow(dead_code)]

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

/// The payload of a batch with baseOffset and partitionLeaderEpoch masked, for comparisons.
pub fn payload(bytes: &[u8]) -> Vec<u8> {
    bytes[batch::MAGIC_AT..].to_vec()
}
