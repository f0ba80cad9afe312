//! `sluice iotune`: measures the data disk and writes `iotune.toml` for the broker.

pub mod measure;
pub mod properties;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use measure::IotuneError;
pub use properties::{Bandwidth, IoProperties, IoPropertiesError, Recommendations, SyncLatency};

use measure::Direction;

/// The file name the broker looks for in its data dir.
pub const IOTUNE_FILE_NAME: &str = "iotune.toml";
/// Share of the time budget spent on fdatasync samples; the rest goes to bandwidth runs.
const SYNC_BUDGET_FRACTION: f64 = 0.15;
/// Each bandwidth run gets at least this long, whatever the budget, so numbers mean something.
const RUN_TIME_MIN: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct IotuneConfig {
    pub dir: PathBuf,
    pub duration: Duration,
    pub file_bytes: u64,
    pub block_sizes_bytes: Vec<u64>,
    pub queue_depths: Vec<u32>,
}

impl IotuneConfig {
    pub fn new(dir: &Path, duration: Duration) -> Self {
        Self {
            dir: dir.to_path_buf(),
            duration,
            file_bytes: 128 * 1024 * 1024,
            block_sizes_bytes: vec![4096, 64 * 1024, 1024 * 1024],
            queue_depths: vec![1, 4, 16],
        }
    }
}

/// Removes the scratch files however the measurement ends.
struct ScratchFiles(Vec<PathBuf>);

impl Drop for ScratchFiles {
    fn drop(&mut self) {
        for path in &self.0 {
            if let Err(e) = std::fs::remove_file(path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    eprintln!(
                        "iotune: could not remove scratch file {}: {e}",
                        path.display()
                    );
                }
            }
        }
    }
}

/// Runs every measurement within about `config.duration` (plus one prefill of the scratch file).
pub fn run(config: &IotuneConfig) -> Result<IoProperties, IotuneError> {
    let data_path = config.dir.join(".iotune-bandwidth.tmp");
    let sync_path = config.dir.join(".iotune-fdatasync.tmp");
    let _scratch = ScratchFiles(vec![data_path.clone(), sync_path.clone()]);

    let file = measure::open_direct(&data_path, true)?;
    measure::prefill(&file, &data_path, config.file_bytes)?;

    let run_count = (config.block_sizes_bytes.len() * config.queue_depths.len() * 2).max(1);
    let bandwidth_budget = config.duration.mul_f64(1.0 - SYNC_BUDGET_FRACTION);
    let run_time = (bandwidth_budget / run_count as u32).max(RUN_TIME_MIN);
    let mut write = Vec::new();
    let mut read = Vec::new();
    for &block_bytes in &config.block_sizes_bytes {
        for &queue_depth in &config.queue_depths {
            for (direction, results) in
                [(Direction::Write, &mut write), (Direction::Read, &mut read)]
            {
                results.push(measure::sequential_bandwidth(
                    &file,
                    &data_path,
                    config.file_bytes,
                    direction,
                    block_bytes,
                    queue_depth,
                    run_time,
                )?);
            }
        }
    }
    let fdatasync =
        measure::fdatasync_latency(&sync_path, config.duration.mul_f64(SYNC_BUDGET_FRACTION))?;
    let recommended = Recommendations::derive(&write, &read, &fdatasync).ok_or_else(|| {
        IotuneError::Config("no block sizes or queue depths to measure".to_string())
    })?;
    Ok(IoProperties {
        schema_version: properties::SCHEMA_VERSION,
        dir: config.dir.clone(),
        measured_at_unix_s: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        duration_ms: config.duration.as_millis() as u64,
        file_bytes: config.file_bytes,
        recommended,
        fdatasync,
        write,
        read,
    })
}

/// Human-readable summary printed by `sluice iotune`.
pub fn render(properties: &IoProperties) -> String {
    let mut out = String::from("DIRECTION  BLOCK      QD   MB/s\n");
    for (name, results) in [("write", &properties.write), ("read", &properties.read)] {
        for r in results {
            out.push_str(&format!(
                "{name:9}  {:>7}K  {:>3}  {:>8.1}\n",
                r.block_bytes / 1024,
                r.queue_depth,
                r.bytes_per_s as f64 / 1e6
            ));
        }
    }
    let s = &properties.fdatasync;
    out.push_str(&format!(
        "fdatasync after 4K append ({} samples): p50 {} us, p90 {} us, p99 {} us, p99.9 {} us, max {} us\n",
        s.samples, s.p50_us, s.p90_us, s.p99_us, s.p999_us, s.max_us
    ));
    let r = &properties.recommended;
    out.push_str(&format!(
        "broker will use: write chunk {} KiB, flush concurrency {}, write-behind {} KiB per appender, \
         read chunk {} KiB, group-commit interval >= {} us\n",
        r.write_chunk_bytes / 1024,
        r.flush_concurrency,
        r.write_behind_bytes / 1024,
        r.read_chunk_bytes / 1024,
        r.flush_interval_us_min
    ));
    out
}
