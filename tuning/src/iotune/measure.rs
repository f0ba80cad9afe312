//! The measurements: O_DIRECT sequential bandwidth with `queue_depth` threads sharing one
//! sequential stream (each takes the next block), and fdatasync latency after 4 KiB appends.
//! Blocking pwrite/pread threads keep this lean; the depth is the number of I/Os in flight.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::properties::{Bandwidth, SyncLatency, BLOCK_ALIGN_BYTES};

/// Bound on fdatasync samples kept in memory.
pub const SYNC_SAMPLES_MAX: usize = 200_000;
/// Bound on threads one run may start.
pub const QUEUE_DEPTH_MAX: u32 = 64;

#[derive(Debug, thiserror::Error)]
pub enum IotuneError {
    #[error(
        "{path}: the filesystem does not support O_DIRECT (tmpfs?); point --dir at the data disk"
    )]
    DirectIoUnsupported { path: PathBuf },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("invalid iotune setting: {0}")]
    Config(String),
    #[error("an I/O thread panicked")]
    ThreadPanicked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Write,
    Read,
}

/// A heap buffer aligned for O_DIRECT, without unsafe: over-allocate and slice.
pub struct AlignedBuffer {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuffer {
    /// A buffer of `len` bytes filled with a non-repeating pattern (so no device can
    /// compress or dedupe it into a flattering number).
    pub fn patterned(len: usize, seed: u64) -> Self {
        let align = BLOCK_ALIGN_BYTES as usize;
        let mut storage = vec![0u8; len + align];
        let start = storage.as_ptr().align_offset(align);
        assert!(start < align);
        let mut state = seed | 1;
        for byte in &mut storage[start..start + len] {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
        Self {
            storage,
            start,
            len,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// Opens `path` for O_DIRECT I/O, naming the usual EINVAL (tmpfs) plainly.
pub fn open_direct(path: &Path, create: bool) -> Result<File, IotuneError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .map_err(|source| match source.raw_os_error() {
            Some(libc::EINVAL) => IotuneError::DirectIoUnsupported {
                path: path.to_path_buf(),
            },
            _ => IotuneError::Io {
                what: "open",
                path: path.to_path_buf(),
                source,
            },
        })
}

/// Writes the whole scratch file once so reads hit real blocks, not holes.
pub fn prefill(file: &File, path: &Path, file_bytes: u64) -> Result<(), IotuneError> {
    const PREFILL_BLOCK_BYTES: usize = 1 << 20;
    let buffer = AlignedBuffer::patterned(PREFILL_BLOCK_BYTES, 7);
    let mut offset = 0;
    while offset < file_bytes {
        file.write_all_at(buffer.bytes(), offset)
            .map_err(|source| IotuneError::Io {
                what: "write",
                path: path.to_path_buf(),
                source,
            })?;
        offset += PREFILL_BLOCK_BYTES as u64;
    }
    file.sync_data().map_err(|source| IotuneError::Io {
        what: "fdatasync",
        path: path.to_path_buf(),
        source,
    })
}

/// Streams `block_bytes` blocks through the file with `queue_depth` I/Os in flight until
/// `run_time` passes, wrapping at `file_bytes`.
pub fn sequential_bandwidth(
    file: &File,
    path: &Path,
    file_bytes: u64,
    direction: Direction,
    block_bytes: u64,
    queue_depth: u32,
    run_time: Duration,
) -> Result<Bandwidth, IotuneError> {
    if queue_depth == 0 || queue_depth > QUEUE_DEPTH_MAX {
        return Err(IotuneError::Config(format!(
            "queue depth {queue_depth} not in 1..={QUEUE_DEPTH_MAX}"
        )));
    }
    if !block_bytes.is_multiple_of(BLOCK_ALIGN_BYTES)
        || block_bytes == 0
        || block_bytes > file_bytes
    {
        return Err(IotuneError::Config(format!(
            "block size {block_bytes} must be aligned and fit the file"
        )));
    }
    let blocks_in_file = file_bytes / block_bytes;
    let next_block = AtomicU64::new(0);
    let started = Instant::now();
    let deadline = started + run_time;
    let per_thread: Vec<Result<u64, IotuneError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..queue_depth)
            .map(|thread| {
                let next_block = &next_block;
                scope.spawn(move || {
                    let mut buffer =
                        AlignedBuffer::patterned(block_bytes as usize, u64::from(thread) + 1);
                    let mut ops = 0u64;
                    // At least one I/O per thread: a loaded host may start a thread after
                    // the deadline, and a run must never report zero work.
                    loop {
                        let block = next_block.fetch_add(1, Ordering::Relaxed) % blocks_in_file;
                        let offset = block * block_bytes;
                        let done = match direction {
                            Direction::Write => file.write_all_at(buffer.bytes(), offset),
                            Direction::Read => file.read_exact_at(buffer.bytes_mut(), offset),
                        };
                        done.map_err(|source| IotuneError::Io {
                            what: if direction == Direction::Write {
                                "write"
                            } else {
                                "read"
                            },
                            path: path.to_path_buf(),
                            source,
                        })?;
                        ops += 1;
                        if Instant::now() >= deadline {
                            break;
                        }
                    }
                    Ok(ops)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or(Err(IotuneError::ThreadPanicked)))
            .collect()
    });
    let elapsed_s = started.elapsed().as_secs_f64();
    let mut ops = 0;
    for result in per_thread {
        ops += result?;
    }
    let bytes_per_s = (ops * block_bytes) as f64 / elapsed_s.max(1e-9);
    Ok(Bandwidth {
        block_bytes,
        queue_depth,
        bytes_per_s: bytes_per_s as u64,
        ops,
    })
}

/// Latency of fdatasync after each 4 KiB O_DIRECT append to a growing file — the cost of
/// one group commit of a small acks=all produce.
pub fn fdatasync_latency(path: &Path, run_time: Duration) -> Result<SyncLatency, IotuneError> {
    let file = open_direct(path, true)?;
    let buffer = AlignedBuffer::patterned(BLOCK_ALIGN_BYTES as usize, 3);
    let io_error = |what, source| IotuneError::Io {
        what,
        path: path.to_path_buf(),
        source,
    };
    let deadline = Instant::now() + run_time;
    let mut samples_us: Vec<u64> = Vec::new();
    let mut offset = 0;
    // At least one sample, however late this starts.
    while samples_us.is_empty()
        || (Instant::now() < deadline && samples_us.len() < SYNC_SAMPLES_MAX)
    {
        file.write_all_at(buffer.bytes(), offset)
            .map_err(|e| io_error("write", e))?;
        let before = Instant::now();
        file.sync_data().map_err(|e| io_error("fdatasync", e))?;
        samples_us.push(before.elapsed().as_micros() as u64);
        offset += BLOCK_ALIGN_BYTES;
    }
    Ok(percentiles(samples_us))
}

/// Nearest-rank percentiles of the samples (zeros when there are none).
pub fn percentiles(mut samples_us: Vec<u64>) -> SyncLatency {
    samples_us.sort_unstable();
    let at = |fraction: f64| -> u64 {
        if samples_us.is_empty() {
            return 0;
        }
        let rank = (fraction * samples_us.len() as f64).ceil() as usize;
        samples_us[rank.clamp(1, samples_us.len()) - 1]
    };
    SyncLatency {
        samples: samples_us.len() as u64,
        p50_us: at(0.50),
        p90_us: at(0.90),
        p99_us: at(0.99),
        p999_us: at(0.999),
        max_us: samples_us.last().copied().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let latency = percentiles((1..=1000).collect());
        assert_eq!(latency.p50_us, 500);
        assert_eq!(latency.p99_us, 990);
        assert_eq!(latency.p999_us, 999);
        assert_eq!(latency.max_us, 1000);
        assert_eq!(percentiles(Vec::new()).samples, 0);
    }

    #[test]
    fn aligned_buffer_is_aligned() {
        let mut buffer = AlignedBuffer::patterned(8192, 1);
        assert_eq!(
            buffer.bytes().as_ptr() as usize % BLOCK_ALIGN_BYTES as usize,
            0
        );
        assert_eq!(buffer.bytes_mut().len(), 8192);
    }
}
