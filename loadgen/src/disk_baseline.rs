//! The same-run disk baseline: raw O_DIRECT sequential writes into a directory, then O_DIRECT
//! sequential reads of what was written, so that broker throughput can be reported as a fraction
//! of what the disk does on its own: produce against the write rate, consume against the read
//! rate (a consumer of cold data reads segment files).

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::error::{io_context, Error, Result};

pub const BLOCK_BYTES: usize = 1 << 20;
const ALIGN_BYTES: usize = 4096;
/// Stop early at this size, whatever the duration.
const BYTES_MAX: u64 = 16 << 30;

#[derive(Debug, Clone, Serialize)]
pub struct DiskBaseline {
    pub dir: String,
    pub block_bytes: usize,
    pub queue_depth: u32,
    pub bytes: u64,
    pub seconds: f64,
    pub mb_per_s: f64,
    pub method: String,
    /// The read-back of the written file (O_DIRECT, so the page cache does not answer).
    pub read_bytes: u64,
    pub read_seconds: f64,
    pub read_mb_per_s: f64,
    pub read_method: String,
}

impl DiskBaseline {
    /// The rate a run of `mode` is compared with: reads for consumers, writes otherwise.
    pub fn mb_per_s_for(&self, mode: crate::run::Mode) -> f64 {
        match mode {
            crate::run::Mode::Consume => self.read_mb_per_s,
            crate::run::Mode::Produce | crate::run::Mode::E2e => self.mb_per_s,
        }
    }
}

/// A zeroed, 4 KiB-aligned buffer for O_DIRECT.
struct AlignedBlock {
    ptr: *mut u8,
    layout: Layout,
}

impl AlignedBlock {
    fn new(bytes: usize) -> Result<Self> {
        let layout = Layout::from_size_align(bytes, ALIGN_BYTES)
            .map_err(|e| Error::Config(e.to_string()))?;
        // SAFETY: layout has non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(Error::Config("cannot allocate the baseline buffer".into()));
        }
        Ok(Self { ptr, layout })
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: ptr is valid for layout.size() bytes and uniquely owned.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.layout.size()) }
    }
}

impl Drop for AlignedBlock {
    fn drop(&mut self) {
        // SAFETY: allocated with this layout in `new`.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

/// Writes `BLOCK_BYTES` blocks with O_DIRECT (queue depth 1) for `seconds`, then
/// fdatasyncs; the rate includes the final sync. Then reads the file back the same way (at most
/// `seconds` more). The file is removed afterwards.
pub fn measure(dir: &Path, seconds: f64) -> Result<DiskBaseline> {
    let path = dir.join(format!(".sluice-loadgen-baseline-{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_DIRECT)
        .open(&path)
        .map_err(io_context(format!(
            "opening {} with O_DIRECT",
            path.display()
        )))?;
    let mut block = AlignedBlock::new(BLOCK_BYTES)?;
    for (i, b) in block.as_mut_slice().iter_mut().enumerate() {
        *b = crate::message::payload_byte(i);
    }
    let started = Instant::now();
    let mut bytes = 0u64;
    let result = (|| -> Result<()> {
        while started.elapsed().as_secs_f64() < seconds && bytes < BYTES_MAX {
            file.write_all(block.as_mut_slice())
                .map_err(io_context("O_DIRECT baseline write"))?;
            bytes += BLOCK_BYTES as u64;
        }
        file.sync_data().map_err(io_context("baseline fdatasync"))
    })();
    let elapsed = started.elapsed().as_secs_f64();
    drop(file);
    let read = result.and_then(|()| read_back(&path, &mut block, bytes, seconds));
    let removed = std::fs::remove_file(&path);
    let (read_bytes, read_seconds) = read?;
    removed.map_err(io_context(format!("removing {}", path.display())))?;
    Ok(DiskBaseline {
        dir: dir.display().to_string(),
        block_bytes: BLOCK_BYTES,
        queue_depth: 1,
        bytes,
        seconds: elapsed,
        mb_per_s: bytes as f64 / elapsed / 1e6,
        method: "O_DIRECT sequential write, 1 MiB blocks, QD1, one fdatasync at the end".into(),
        read_bytes,
        read_seconds,
        read_mb_per_s: read_bytes as f64 / read_seconds / 1e6,
        read_method: "O_DIRECT sequential read of that file, 1 MiB blocks, QD1".into(),
    })
}

/// Reads the first `bytes_written` bytes of `path` with O_DIRECT in `BLOCK_BYTES` blocks, for at
/// most `seconds`. Returns (bytes read, seconds).
fn read_back(
    path: &Path,
    block: &mut AlignedBlock,
    bytes_written: u64,
    seconds: f64,
) -> Result<(u64, f64)> {
    assert!(bytes_written >= BLOCK_BYTES as u64);
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .map_err(io_context(format!(
            "opening {} with O_DIRECT for reading",
            path.display()
        )))?;
    let started = Instant::now();
    let mut bytes = 0u64;
    while bytes < bytes_written && started.elapsed().as_secs_f64() < seconds {
        file.read_exact(block.as_mut_slice())
            .map_err(io_context("O_DIRECT baseline read"))?;
        bytes += BLOCK_BYTES as u64;
    }
    Ok((bytes, started.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_writes_and_cleans_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        match measure(dir.path(), 0.05) {
            Ok(b) => {
                assert!(b.bytes >= BLOCK_BYTES as u64);
                assert!(b.mb_per_s > 0.0);
                assert!(b.read_bytes >= BLOCK_BYTES as u64);
                assert!(b.read_bytes <= b.bytes);
                assert!(b.read_mb_per_s > 0.0);
            }
            // tmpfs refuses O_DIRECT: that is a property of the test machine, not a bug.
            Err(Error::IoContext { source, .. }) if source.raw_os_error() == Some(libc::EINVAL) => {
            }
            Err(e) => panic!("baseline failed: {e}"),
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("list").count(),
            0,
            "temp file removed"
        );
    }
}
