//! The storage seam: every file operation of the engine goes through these traits, so tests can
//! inject faults (failed write, short write, torn tail, ENOSPC) and later run simulations.
//!
//! `GlommioStorage` is the real implementation (O_DIRECT `DmaFile`s). `FaultyStorage` wraps any
//! storage and fails chosen operations on demand.

mod faulty;
mod glommio_storage;

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;

use glommio::io::DmaBuffer;

pub use faulty::{Fault, FaultyStorage};
pub use glommio_storage::GlommioStorage;

/// A boxed, shard-local future of an I/O result.
pub type IoFuture<'a, T> = Pin<Box<dyn Future<Output = io::Result<T>> + 'a>>;

/// Directory-level operations. Lives on one shard.
pub trait Storage {
    /// Opens (creating if `create`) a segment file for O_DIRECT reads and writes.
    fn open_segment(&self, path: &Path, create: bool) -> IoFuture<'_, Rc<dyn SegmentFile>>;
    /// Creates a directory and its parents.
    fn create_dir_all(&self, path: &Path) -> IoFuture<'_, ()>;
    /// Lists the file names in a directory.
    fn list_dir(&self, path: &Path) -> IoFuture<'_, Vec<PathBuf>>;
    /// Reads a small file whole (checkpoints, indexes). `Ok(None)` when it does not exist.
    fn read_file(&self, path: &Path) -> IoFuture<'_, Option<Vec<u8>>>;
    /// Writes a small file atomically: `<path>.tmp`, then rename over `path`. With `sync`, the
    /// data is fsynced before the rename and the directory after it, so the new content is
    /// durable when this returns.
    fn write_file_atomic(&self, path: &Path, data: Vec<u8>, sync: bool) -> IoFuture<'_, ()>;
    /// Renames a file.
    fn rename(&self, from: &Path, to: &Path) -> IoFuture<'_, ()>;
    /// Removes a file; a missing file is not an error.
    fn remove_file(&self, path: &Path) -> IoFuture<'_, ()>;
    /// Removes a directory tree.
    fn remove_dir_all(&self, path: &Path) -> IoFuture<'_, ()>;
    /// fsyncs a directory so renames and creations in it are durable.
    fn sync_dir(&self, path: &Path) -> IoFuture<'_, ()>;
}

/// One segment file opened with O_DIRECT. Positions and lengths of writes are block-aligned.
pub trait SegmentFile {
    /// Allocates an aligned buffer suitable for `write_at`.
    fn alloc_buffer(&self, len: usize) -> DmaBuffer;
    /// Writes the whole buffer at `position`; returns bytes written (may be short).
    fn write_at(&self, buf: Rc<DmaBuffer>, position: u64) -> IoFuture<'_, usize>;
    /// Reads up to `len` bytes at `position` (any alignment); shorter at end of file.
    fn read_at(&self, position: u64, len: usize) -> IoFuture<'_, Vec<u8>>;
    /// fdatasync.
    fn fdatasync(&self) -> IoFuture<'_, ()>;
    /// Sets the file length.
    fn truncate(&self, len: u64) -> IoFuture<'_, ()>;
    /// Reserves space up to `len` (fallocate); the file size grows to `len`, so O_DIRECT writes
    /// below it do not extend the file. The logical size is tracked by the engine.
    fn preallocate(&self, len: u64) -> IoFuture<'_, ()>;
    /// Current file length.
    fn file_size(&self) -> IoFuture<'_, u64>;
    /// The file's path.
    fn path(&self) -> &Path;
}
