//! `iotune.toml`: what `sluice iotune` measured about the data disk and what the broker
//! derives from it. The broker calls [`IoProperties::load`] at start.
//!
//! Schema (version 1):
//!
//! ```toml
//! schema_version = 1
//! dir = "/var/lib/sluice"          # the directory measured
//! measured_at_unix_s = 1763765000
//! duration_ms = 3000               # measurement budget
//! file_bytes = 134217728           # size of the scratch file streamed over
//!
//! [recommended]                    # the broker uses these; an operator may edit them
//! write_chunk_bytes = 1048576      # O_DIRECT write size of the segment appender
//! flush_concurrency = 4            # chunk writes in flight per shard
//! write_behind_bytes = 8388608     # aligned buffer memory per active segment appender
//! read_chunk_bytes = 1048576       # O_DIRECT read size for recovery scans and cold fetches
//! flush_interval_us_min = 120      # floor for the group-commit interval (fdatasync p50)
//!
//! [fdatasync]                      # 4 KiB O_DIRECT append followed by fdatasync
//! samples = 5000
//! p50_us = 120
//! p90_us = 180
//! p99_us = 400
//! p999_us = 900
//! max_us = 2000
//!
//! [[write]]                        # one table per (block size, queue depth); also [[read]]
//! block_bytes = 65536
//! queue_depth = 4
//! bytes_per_s = 1600000000
//! ops = 12000
//! ```
//!
//! How the recommendations are derived (see [`Recommendations::derive`]):
//! - `write_chunk_bytes`: the smallest block size whose best write bandwidth reaches 90% of
//!   the peak write bandwidth. Bigger chunks would only add memory and latency.
//! - `flush_concurrency`: the smallest queue depth reaching 90% of the best bandwidth at
//!   that chunk size. More writes in flight would only queue in the device.
//! - `write_behind_bytes` = `write_chunk_bytes × flush_concurrency × 2`: enough aligned buffer
//!   to keep `flush_concurrency` chunk writes in flight while as many fill behind them.
//!   With glommio, keep the shard's total `io_memory` within memlock/3.
//! - `read_chunk_bytes`: same rule as `write_chunk_bytes`, over the read results.
//! - `flush_interval_us_min`: the fdatasync p50. Flushing a file more often than one
//!   fdatasync takes only queues flushes behind each other.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;
/// O_DIRECT alignment; every chunk size is a multiple of it.
pub const BLOCK_ALIGN_BYTES: u64 = 4096;
/// Bounds that reject a corrupt or mistyped file instead of sizing buffers from it.
pub const CHUNK_BYTES_MAX: u64 = 64 * 1024 * 1024;
pub const FLUSH_CONCURRENCY_MAX: u32 = 256;
/// "Close enough to peak" when choosing the smallest sufficient block size or queue depth.
pub const PEAK_FRACTION: f64 = 0.9;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bandwidth {
    pub block_bytes: u64,
    pub queue_depth: u32,
    pub bytes_per_s: u64,
    pub ops: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncLatency {
    pub samples: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendations {
    pub write_chunk_bytes: u64,
    pub flush_concurrency: u32,
    pub write_behind_bytes: u64,
    pub read_chunk_bytes: u64,
    pub flush_interval_us_min: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoProperties {
    pub schema_version: u32,
    pub dir: PathBuf,
    pub measured_at_unix_s: u64,
    pub duration_ms: u64,
    pub file_bytes: u64,
    pub recommended: Recommendations,
    pub fdatasync: SyncLatency,
    pub write: Vec<Bandwidth>,
    pub read: Vec<Bandwidth>,
}

#[derive(Debug, thiserror::Error)]
pub enum IoPropertiesError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid iotune file: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("cannot encode iotune results: {0}")]
    Encode(#[from] toml::ser::Error),
    #[error("{path}: {why}")]
    Invalid { path: PathBuf, why: String },
}

/// The smallest block size whose best bandwidth reaches `PEAK_FRACTION` of the peak.
fn smallest_sufficient_block(results: &[Bandwidth]) -> Option<u64> {
    let peak = results.iter().map(|r| r.bytes_per_s).max()?;
    let mut sizes: Vec<u64> = results.iter().map(|r| r.block_bytes).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes.into_iter().find(|&size| {
        let best = results
            .iter()
            .filter(|r| r.block_bytes == size)
            .map(|r| r.bytes_per_s)
            .max();
        best.is_some_and(|b| b as f64 >= PEAK_FRACTION * peak as f64)
    })
}

impl Recommendations {
    /// Derives the broker's settings from measurements (rules in the module doc).
    pub fn derive(
        write: &[Bandwidth],
        read: &[Bandwidth],
        fdatasync: &SyncLatency,
    ) -> Option<Self> {
        let write_chunk_bytes = smallest_sufficient_block(write)?;
        let read_chunk_bytes = smallest_sufficient_block(read)?;
        let at_chunk: Vec<&Bandwidth> = write
            .iter()
            .filter(|r| r.block_bytes == write_chunk_bytes)
            .collect();
        let best = at_chunk.iter().map(|r| r.bytes_per_s).max()?;
        let flush_concurrency = at_chunk
            .iter()
            .filter(|r| r.bytes_per_s as f64 >= PEAK_FRACTION * best as f64)
            .map(|r| r.queue_depth)
            .min()?;
        Some(Self {
            write_chunk_bytes,
            flush_concurrency,
            write_behind_bytes: write_chunk_bytes * u64::from(flush_concurrency) * 2,
            read_chunk_bytes,
            flush_interval_us_min: fdatasync.p50_us,
        })
    }
}

impl IoProperties {
    /// Reads and validates an `iotune.toml`. The broker calls this at start.
    pub fn load(path: &Path) -> Result<Self, IoPropertiesError> {
        let text = std::fs::read_to_string(path).map_err(|source| IoPropertiesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let properties: Self =
            toml::from_str(&text).map_err(|source| IoPropertiesError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        properties
            .validate()
            .map_err(|why| IoPropertiesError::Invalid {
                path: path.to_path_buf(),
                why,
            })?;
        Ok(properties)
    }

    /// What the broker calls at start: `<data_dir>/iotune.toml` if present (`Ok(None)` when
    /// `sluice iotune` was never run there), validated.
    pub fn load_from_data_dir(data_dir: &Path) -> Result<Option<Self>, IoPropertiesError> {
        let path = data_dir.join(super::IOTUNE_FILE_NAME);
        match Self::load(&path) {
            Ok(properties) => Ok(Some(properties)),
            Err(IoPropertiesError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes the file (to a temp name, then renamed, so a crash never leaves half a file).
    pub fn save(&self, path: &Path) -> Result<(), IoPropertiesError> {
        let text = toml::to_string(self)?;
        let temp = path.with_extension("toml.tmp");
        let write_error = |source| IoPropertiesError::Write {
            path: path.to_path_buf(),
            source,
        };
        std::fs::write(&temp, text).map_err(write_error)?;
        std::fs::rename(&temp, path).map_err(write_error)
    }

    /// Checks the values the broker sizes buffers from.
    pub fn validate(&self) -> Result<(), String> {
        if self.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} is not {SCHEMA_VERSION}; re-run `sluice iotune`",
                self.schema_version
            ));
        }
        let r = &self.recommended;
        for (name, bytes) in [
            ("write_chunk_bytes", r.write_chunk_bytes),
            ("read_chunk_bytes", r.read_chunk_bytes),
        ] {
            if bytes == 0 || !bytes.is_multiple_of(BLOCK_ALIGN_BYTES) || bytes > CHUNK_BYTES_MAX {
                return Err(format!(
                    "recommended.{name} = {bytes} must be a non-zero multiple of {BLOCK_ALIGN_BYTES} up to {CHUNK_BYTES_MAX}"
                ));
            }
        }
        if r.flush_concurrency == 0 || r.flush_concurrency > FLUSH_CONCURRENCY_MAX {
            return Err(format!(
                "recommended.flush_concurrency = {} must be in 1..={FLUSH_CONCURRENCY_MAX}",
                r.flush_concurrency
            ));
        }
        if r.write_behind_bytes < r.write_chunk_bytes {
            return Err(
                "recommended.write_behind_bytes is smaller than one write chunk".to_string(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bw(block_bytes: u64, queue_depth: u32, mb_per_s: u64) -> Bandwidth {
        Bandwidth {
            block_bytes,
            queue_depth,
            bytes_per_s: mb_per_s * 1_000_000,
            ops: 1,
        }
    }

    #[test]
    fn derives_smallest_block_and_depth_near_peak() {
        let write = [
            bw(4096, 1, 50),
            bw(4096, 4, 150),
            bw(65536, 1, 600),
            bw(65536, 4, 1900),
            bw(1 << 20, 1, 1500),
            bw(1 << 20, 4, 2000),
        ];
        let sync = SyncLatency {
            samples: 1,
            p50_us: 100,
            p90_us: 1,
            p99_us: 1,
            p999_us: 1,
            max_us: 1,
        };
        let derived = Recommendations::derive(&write, &write, &sync);
        let r = derived.unwrap_or_else(|| panic!("derive gave nothing for {write:?}"));
        assert_eq!(r.write_chunk_bytes, 65536);
        assert_eq!(r.flush_concurrency, 4);
        assert_eq!(r.write_behind_bytes, 65536 * 4 * 2);
        assert_eq!(r.flush_interval_us_min, 100);
    }
}
