//! Test helper for `tests/flushed_offsets_survive_sigkill.rs`: appends and flushes to one
//! partition log forever, printing `FLUSHED <offset>` after each flush returns, until the test
//! kills it with SIGKILL. Batch contents are a function of their base offset, so the test can
//! check every surviving batch byte for byte.
//!
//! Usage: engine-crash-child <data_dir> <seed>

use std::io::Write;

use glommio::{LocalExecutorBuilder, Placement};
use sluice_engine::{batch, LogConfig, LogManager, ShardEngineConfig};

/// Records and value length of the batch at `base_offset` (shared with the test).
fn shape(base_offset: i64) -> (i32, usize) {
    (
        (base_offset % 4) as i32 + 1,
        50 + (base_offset as usize * 37) % 3000,
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(seed)) = (args.next(), args.next()) else {
        eprintln!("usage: engine-crash-child <data_dir> <seed>");
        std::process::exit(2);
    };
    let mut rng: u64 = seed.parse::<u64>().unwrap_or(1) | 1;
    let handle = LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(2 << 20)
        .spawn(move || async move {
            let config = ShardEngineConfig {
                data_dir: dir.into(),
                batch_cache_bytes_max: 1 << 20,
                write_buffer_pool_bytes_max: 4 << 20,
            };
            let manager = LogManager::new(config);
            let log_config = LogConfig {
                segment_bytes: 64 * 1024,
                index_interval_bytes: 1024,
                ..LogConfig::default()
            };
            let log = match manager.open_log("k", 0, log_config).await {
                Ok(log) => log,
                Err(err) => {
                    eprintln!("open failed: {err}");
                    std::process::exit(3);
                }
            };
            let mut out = std::io::stdout();
            let _ = writeln!(out, "READY {}", log.log_end_offset());
            loop {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let batches_in_call = 1 + rng % 3;
                let mut batches = Vec::new();
                let mut base = log.log_end_offset();
                for _ in 0..batches_in_call {
                    let (records, value_len) = shape(base);
                    let value: Vec<u8> = (0..value_len)
                        .map(|i| (base as usize * 31 + i * 7) as u8)
                        .collect();
                    batches.push(batch::build_batch(0, base, records, &value));
                    base += records as i64;
                }
                if let Err(err) = log.append(&batches, 0).await {
                    eprintln!("append failed: {err}");
                    std::process::exit(4);
                }
                if rng.is_multiple_of(3) {
                    match log.flush().await {
                        Ok(offset) => {
                            let _ = writeln!(out, "FLUSHED {offset}");
                        }
                        Err(err) => {
                            eprintln!("flush failed: {err}");
                            std::process::exit(5);
                        }
                    }
                }
            }
        });
    match handle {
        Ok(handle) => {
            let _ = handle.join();
        }
        Err(err) => {
            eprintln!("executor: {err}");
            std::process::exit(6);
        }
    }
}
