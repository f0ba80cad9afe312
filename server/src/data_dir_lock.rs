//! An exclusive flock on `<data>/.lock` for the life of the process. SO_REUSEPORT would let a
//! second broker bind the same port silently, and two brokers on one data dir corrupt each
//! other's logs: the lock makes the second one refuse to start.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;

const LOCK_FILE: &str = ".lock";

/// Holds the lock until dropped (process exit).
pub struct DataDirLock {
    _file: File,
}

pub fn lock(data_dir: &Path) -> Result<DataDirLock, String> {
    let path = data_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    // SAFETY: flock on a descriptor we own.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.kind() == std::io::ErrorKind::WouldBlock {
            return Err(format!(
                "data dir {} is in use by another sluice process",
                data_dir.display()
            ));
        }
        return Err(format!("cannot lock {}: {err}", path.display()));
    }
    Ok(DataDirLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        let err = lock(dir.path()).err().unwrap();
        assert!(err.contains("in use"));
        drop(held);
        assert!(lock(dir.path()).is_ok());
    }
}
