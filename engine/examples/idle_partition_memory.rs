//! Measures the memory of open, idle partitions: opens N partition logs on one shard (default
//! 10,000), appends one small batch to each and flushes it (so each has a segment file, an
//! appender and a tail block), then prints the RSS growth per partition. The batch cache's own
//! bytes (a per-shard budget, not a per-partition cost) are reported and subtracted.
//!
//! Run: cargo run --release -p sluice-engine --example idle_partition_memory [-- <count> <dir>]

use glommio::{LocalExecutorBuilder, Placement};
use sluice_engine::{batch, LogConfig, LogManager, ShardEngineConfig};

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let resident_pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    resident_pages * 4096
}

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let base_dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base_dir.join(format!("sluice-idle-memory-{}", std::process::id()));
    let dir_for_task = dir.clone();
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(2 << 20)
        .spawn(move || async move {
            let config = ShardEngineConfig::new(&dir_for_task);
            let manager = LogManager::new(config);
            let log_config = LogConfig::default();
            let one = batch::build_batch(0, 1, 1, &[7u8; 100]);
            // Warm up allocator and glommio state with one partition before the baseline.
            let warm = manager
                .open_log("warmup", 0, log_config.clone())
                .await
                .map_err(|e| e.to_string())?;
            warm.append(std::slice::from_ref(&one), 0)
                .await
                .map_err(|e| e.to_string())?;
            warm.flush().await.map_err(|e| e.to_string())?;
            let rss_before = rss_bytes();
            let cache_before = manager.cache_bytes();
            for partition in 0..count {
                let log = manager
                    .open_log("idle", partition as i32, log_config.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                log.append(std::slice::from_ref(&one), 0)
                    .await
                    .map_err(|e| e.to_string())?;
                log.flush().await.map_err(|e| e.to_string())?;
            }
            let rss_after = rss_bytes();
            let cache_bytes = (manager.cache_bytes() - cache_before) as u64;
            let grown = rss_after.saturating_sub(rss_before);
            let per_partition = grown.saturating_sub(cache_bytes) / count as u64;
            println!("partitions:            {count}");
            println!("rss growth:            {} KiB", grown / 1024);
            println!(
                "batch cache bytes:     {} KiB (per-shard budget, subtracted)",
                cache_bytes / 1024
            );
            println!(
                "write buffers held:    {} bytes",
                manager.write_buffer_bytes()
            );
            println!(
                "bytes per partition:   {per_partition} ({:.1} KiB)",
                per_partition as f64 / 1024.0
            );
            manager.close_all().await.map_err(|e| e.to_string())?;
            Ok::<(), String>(())
        });
    let result = match handle {
        Ok(handle) => handle.join().map_err(|e| e.to_string()).and_then(|r| r),
        Err(err) => Err(err.to_string()),
    };
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(err) = result {
        eprintln!("idle_partition_memory failed: {err}");
        std::process::exit(1);
    }
}
