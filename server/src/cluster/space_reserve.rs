//! Space held back for the metadata log. A full data dir must not stop the one operation that
//! frees it: deleting a topic is a metadata record, and the record must reach the disk before
//! the topic's logs go. So the metadata log keeps a reserve file of allocated blocks next to
//! it; when a metadata write finds the device full, the reserve is released and the write
//! retried. The reserve is allocated again at the next start.

use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Enough for thousands of metadata records (and their hard-state rewrites).
pub const METADATA_SPACE_RESERVE_BYTES: i64 = 8 * 1024 * 1024;
const RESERVE_FILE: &str = "space.reserve";

pub struct SpaceReserve {
    path: PathBuf,
}

impl SpaceReserve {
    /// Allocates the reserve in `dir` unless it is there (a full device leaves it missing,
    /// and says so).
    pub fn allocate(dir: &Path) -> SpaceReserve {
        let reserve = SpaceReserve {
            path: dir.join(RESERVE_FILE),
        };
        if let Err(err) = reserve.create() {
            let _ = fs::remove_file(&reserve.path);
            tracing::warn!(path = %reserve.path.display(), "cannot reserve space for the metadata log: {err}");
        }
        reserve
    }

    fn create(&self) -> std::io::Result<()> {
        if fs::metadata(&self.path).is_ok_and(|m| m.len() == METADATA_SPACE_RESERVE_BYTES as u64) {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = File::create(&self.path)?;
        // Blocks really allocated (set_len would leave a hole that frees nothing).
        // SAFETY: a plain syscall on an open file descriptor we own.
        let allocated =
            unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, METADATA_SPACE_RESERVE_BYTES) };
        if allocated != 0 {
            return Err(std::io::Error::last_os_error());
        }
        file.sync_all()
    }

    /// Frees the reserve; true if there was one to free. The directory is synced so that the
    /// freed blocks stay freed after a crash; a failed sync is reported, and the write that
    /// needed the space is retried regardless (its own fdatasync decides its durability).
    pub fn release(&self) -> bool {
        if fs::remove_file(&self.path).is_err() {
            return false;
        }
        if let Some(dir) = self.path.parent() {
            if let Err(err) = File::open(dir).and_then(|d| d.sync_all()) {
                tracing::warn!(dir = %dir.display(), "released the space reserve, but cannot sync its directory: {err}");
            }
        }
        true
    }
}
