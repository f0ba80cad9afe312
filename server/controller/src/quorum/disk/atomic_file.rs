//! Replacing a whole file crash-safely: write a temporary file, fdatasync it, rename it over
//! the old one, fsync the directory. A crash leaves either the old file or the new one (and
//! maybe a stale temporary file, which `FileDisk::open` removes).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::quorum::error::DiskError;

/// Suffix of a file being written, before its rename.
pub const TEMPORARY_SUFFIX: &str = ".tmp";

pub fn io_error(operation: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DiskError {
    let path = path.to_path_buf();
    move |source| DiskError::Io {
        operation,
        path,
        source,
    }
}

pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(TEMPORARY_SUFFIX);
    PathBuf::from(name)
}

/// Makes `bytes` the content of `path`, durably, by the temporary-file protocol.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<(), DiskError> {
    let temporary = temporary_path(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temporary)
        .map_err(io_error("create", &temporary))?;
    file.write_all(bytes)
        .map_err(io_error("write", &temporary))?;
    file.sync_data()
        .map_err(io_error("fdatasync", &temporary))?;
    drop(file);
    fs::rename(&temporary, path).map_err(io_error("rename", path))?;
    sync_parent(path)
}

/// Makes a create, rename or removal in `path`'s directory durable.
pub fn sync_parent(path: &Path) -> Result<(), DiskError> {
    let directory = path.parent().unwrap_or(Path::new("."));
    let handle = File::open(directory).map_err(io_error("open directory", directory))?;
    handle
        .sync_all()
        .map_err(io_error("fsync directory", directory))
}

/// The whole content of `path`, `None` if it does not exist, refused beyond `bytes_max`.
pub fn read_bounded(path: &Path, bytes_max: u64) -> Result<Option<Vec<u8>>, DiskError> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error("stat", path)(error)),
    };
    if metadata.len() > bytes_max {
        return Err(DiskError::TooLarge {
            what: "file",
            bytes: metadata.len(),
            bytes_max,
        });
    }
    fs::read(path).map(Some).map_err(io_error("read", path))
}
