//! Measures the cleaner's read rate against a plain sequential read of the same segment files:
//! writes a compacted log of keyed overwrites (1 KiB values, 10 records per batch, no
//! compression), seals it, reads every segment file once with O_DIRECT (the disk's sequential
//! read rate; the files were written with O_DIRECT, so nothing is in the page cache), then
//! times one cleaner pass, whose buffered reads start cold as well.
//!
//! Run: cargo run --release -p sluice-engine --example cleaner_throughput
//!      [-- <MiB> <dir> <duty percent, default 100>]

use std::io::Read;
use std::time::Instant;

use bytes::Bytes;
use glommio::{LocalExecutorBuilder, Placement};
use sluice_engine::batch;
use sluice_engine::compaction::{Cleaner, CleanerConfig};
use sluice_engine::{CleanupPolicy, CompactionConfig, LogConfig, LogManager, ShardEngineConfig};

const VALUE_BYTES: usize = 1024;
const RECORDS_PER_BATCH: usize = 10;
const KEYS: usize = 20_000;

fn varint(out: &mut Vec<u8>, value: i64) {
    let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
    while zigzag >= 0x80 {
        out.push((zigzag as u8 & 0x7f) | 0x80);
        zigzag >>= 7;
    }
    out.push(zigzag as u8);
}

fn keyed_batch(first_key: usize) -> Bytes {
    let mut section = Vec::new();
    for i in 0..RECORDS_PER_BATCH {
        let key = format!("key-{:08}", (first_key + i) % KEYS);
        let mut body = vec![0u8];
        varint(&mut body, i as i64);
        varint(&mut body, i as i64);
        varint(&mut body, key.len() as i64);
        body.extend_from_slice(key.as_bytes());
        varint(&mut body, VALUE_BYTES as i64);
        body.extend(std::iter::repeat_n((first_key % 251) as u8, VALUE_BYTES));
        varint(&mut body, 0);
        varint(&mut section, body.len() as i64);
        section.extend_from_slice(&body);
    }
    // Same header fields as the batch crate's builder, with these records.
    let template = batch::build_batch(0, 1000, RECORDS_PER_BATCH as i32, b"");
    let mut out = template[..batch::HEADER_BYTES].to_vec();
    out.extend_from_slice(&section);
    let len = (out.len() - batch::LOG_OVERHEAD_BYTES) as i32;
    out[batch::BATCH_LENGTH_AT..batch::BATCH_LENGTH_AT + 4].copy_from_slice(&len.to_be_bytes());
    let crc = batch::compute_crc(&out);
    out[batch::CRC_AT..batch::CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(out)
}

/// Reads `path` to its end with O_DIRECT, 1 MiB aligned blocks at queue depth 1; bytes read.
fn read_direct(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::OpenOptionsExt;
    const BLOCK: usize = 1 << 20;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .expect("open segment with O_DIRECT");
    let layout = std::alloc::Layout::from_size_align(BLOCK, 4096).expect("layout");
    // SAFETY: layout has a non-zero size; the buffer is freed below with the same layout.
    let raw = unsafe { std::alloc::alloc_zeroed(layout) };
    assert!(!raw.is_null(), "allocating the O_DIRECT buffer");
    // SAFETY: raw points at BLOCK initialised bytes owned here until dealloc.
    let buffer = unsafe { std::slice::from_raw_parts_mut(raw, BLOCK) };
    let mut total = 0u64;
    loop {
        let n = file.read(buffer).expect("O_DIRECT read");
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    // SAFETY: allocated above with this layout.
    unsafe { std::alloc::dealloc(raw, layout) };
    total
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().and_then(|v| v.parse().ok()).unwrap_or(256);
    let base = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    // 100: the pass never pauses (its raw rate); the broker's default paces it to 20 %.
    let duty_percent: u32 = args.next().and_then(|v| v.parse().ok()).unwrap_or(100);
    let dir = base.join(format!("sluice-cleaner-throughput-{}", std::process::id()));
    let dir_for_task = dir.clone();
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(2 << 20)
        .spawn(move || async move {
            let manager = LogManager::new(ShardEngineConfig::new(&dir_for_task));
            let config = LogConfig {
                segment_bytes: 64 << 20,
                retention_ms: -1,
                cleanup_policy: CleanupPolicy {
                    delete: false,
                    compact: Some(CompactionConfig::default()),
                },
                ..LogConfig::default()
            };
            let log = manager.open_log("bench", 0, config).await.expect("open");
            let mut first_key = 0;
            while log.size_bytes() < mib << 20 {
                log.append(&[keyed_batch(first_key)], 1000).await.expect("append");
                first_key += RECORDS_PER_BATCH;
            }
            // A new segment, so everything above is sealed and cleanable.
            manager.close_all().await.expect("close");
            let manager = LogManager::new(ShardEngineConfig::new(&dir_for_task));
            let config = log.config();
            let log = manager.open_log("bench", 0, config.clone()).await.expect("reopen");
            log.set_config(LogConfig { segment_ms: 0, ..config.clone() });
            log.append(&[keyed_batch(0)], 2000).await.expect("roll");
            log.set_config(config);
            let sealed_bytes = log.size_bytes();

            // The disk's rate: an O_DIRECT sequential read of the same files (no page cache;
            // they were written with O_DIRECT, so the cleaner's buffered reads start cold too).
            let read_started = Instant::now();
            let mut read_bytes = 0u64;
            for entry in std::fs::read_dir(dir_for_task.join("bench-0")).expect("list") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "log") {
                    read_bytes += read_direct(&path);
                }
            }
            let read_secs = read_started.elapsed().as_secs_f64();

            let cleaner = Cleaner::new(CleanerConfig {
                duty_percent,
                ..CleanerConfig::default()
            });
            let clean_started = Instant::now();
            let outcome = cleaner
                .clean(&log, 10_000, i64::MAX)
                .await
                .expect("clean")
                .expect("dirty");
            let clean_secs = clean_started.elapsed().as_secs_f64();
            let mb = |bytes: u64| bytes as f64 / 1e6;
            println!("log: {:.1} MB ({} keys, {VALUE_BYTES} B values)", mb(sealed_bytes), KEYS);
            println!(
                "O_DIRECT sequential read of the segment files (1 MiB, QD1): {:.1} MB in {:.3} s = {:.0} MB/s",
                mb(read_bytes),
                read_secs,
                mb(read_bytes) / read_secs
            );
            println!(
                "cleaner pass: read {:.1} MB, wrote {:.1} MB, removed {} records in {:.3} s = {:.0} MB/s read",
                mb(outcome.bytes_read),
                mb(outcome.bytes_written),
                outcome.records_removed,
                clean_secs,
                mb(outcome.bytes_read) / clean_secs
            );
            println!(
                "ratio cleaner / O_DIRECT read: {:.2}",
                (mb(outcome.bytes_read) / clean_secs) / (mb(read_bytes) / read_secs)
            );
            manager.close_all().await.expect("close");
        })
        .expect("executor");
    handle.join().expect("join");
    std::fs::remove_dir_all(&dir).expect("remove the bench dir");
}
