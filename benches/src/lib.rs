//! Shared workloads of the engine benchmarks (`benches/engine.rs`, `benches/append_paired.rs`);
//! results are committed under `results/`.
//!
//! The append workload: 1 KiB records in batches of a chosen size, appended one batch per call
//! to a fresh partition log, flushed (fdatasync) every 4 MiB, 32 MiB per iteration. Its
//! baselines write the same bytes with a raw glommio `DmaFile`, sequentially, awaiting each
//! write, with the same fdatasync schedule: in batch-sized writes, and in 1 MiB writes.
//! Only the write+flush phase is timed; creating and deleting files is not.

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use glommio::io::OpenOptions;
use glommio::{LocalExecutor, LocalExecutorBuilder, Placement};
use sluice_engine::{batch, LogConfig, LogManager, ShardEngineConfig};

pub const RECORD_VALUE_BYTES: usize = 1000;
pub const BYTES_PER_ITERATION: usize = 32 << 20;
pub const FLUSH_EVERY_BYTES: usize = 4 << 20;
pub const RAW_LARGE_WRITE_BYTES: usize = 1 << 20;

pub fn executor() -> LocalExecutor {
    LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(32 << 20)
        .make()
        .expect("glommio executor")
}

/// A temp dir under `target/` (the workspace disk, not a tmpfs).
pub fn bench_dir() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&root).expect("bench dir");
    tempfile::tempdir_in(root).expect("tempdir")
}

/// A batch of 1 KiB records close to `batch_bytes` in total size.
pub fn batch_near(batch_bytes: usize) -> Bytes {
    let one = batch::build_batch(0, 0, 1, &[1u8; RECORD_VALUE_BYTES]).len() - batch::HEADER_BYTES;
    let records = ((batch_bytes - batch::HEADER_BYTES) / one).max(1) as i32;
    batch::build_batch(0, 1_000, records, &[1u8; RECORD_VALUE_BYTES])
}

pub fn log_config() -> LogConfig {
    LogConfig {
        segment_bytes: 1 << 30,
        max_message_bytes: 2 << 20,
        retention_ms: -1,
        ..LogConfig::default()
    }
}

/// Bytes the engine appends per iteration (whole batches).
pub fn iteration_bytes(batch: &Bytes) -> usize {
    BYTES_PER_ITERATION / batch.len() * batch.len()
}

/// Appends one iteration's batches to a fresh log; returns the time of appends + flushes.
pub async fn engine_iteration(dir: &Path, round: u64, batch: &Bytes) -> Duration {
    let manager = LogManager::new(ShardEngineConfig::new(dir));
    let log = manager
        .open_log("bench", round as i32, log_config())
        .await
        .expect("open");
    let batches = BYTES_PER_ITERATION / batch.len();
    let flush_every = (FLUSH_EVERY_BYTES / batch.len()).max(1);
    let start = Instant::now();
    for i in 0..batches {
        log.append(std::slice::from_ref(batch), 0)
            .await
            .expect("append");
        if (i + 1) % flush_every == 0 {
            log.flush().await.expect("flush");
        }
    }
    log.flush().await.expect("flush");
    let elapsed = start.elapsed();
    manager
        .delete_log("bench", round as i32)
        .await
        .expect("delete");
    elapsed
}

/// Writes `total_bytes` to a fresh DmaFile in `write_bytes` writes (rounded up to 4 KiB),
/// fdatasync every FLUSH_EVERY_BYTES; returns the time of writes + syncs.
pub async fn raw_iteration(
    dir: &Path,
    round: u64,
    write_bytes: usize,
    total_bytes: usize,
) -> Duration {
    let path = dir.join(format!("raw-{round}"));
    let file = OpenOptions::new()
        .write(true)
        .read(true)
        .create(true)
        .dma_open(&path)
        .await
        .expect("create");
    let aligned = write_bytes.div_ceil(4096) * 4096;
    let mut buf = file.alloc_dma_buffer(aligned);
    buf.as_bytes_mut().fill(1);
    let buf = Rc::new(buf);
    let writes = total_bytes.div_ceil(write_bytes);
    let flush_every = (FLUSH_EVERY_BYTES / write_bytes).max(1);
    let start = Instant::now();
    for i in 0..writes {
        file.write_rc_at(buf.clone(), (i * aligned) as u64)
            .await
            .expect("write");
        if (i + 1) % flush_every == 0 {
            file.fdatasync().await.expect("fdatasync");
        }
    }
    file.fdatasync().await.expect("fdatasync");
    let elapsed = start.elapsed();
    file.close().await.expect("close");
    std::fs::remove_file(&path).expect("remove");
    elapsed
}
