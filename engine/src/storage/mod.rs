//! The storage seam: every file operation of the engine goes through these traits, so tests can
//! inject faults (failed write, short write, torn tail, ENOSPC) and later run simulations.
//!
//! `GlommioStorage` is the real implementation (O_DIRECT `DmaFile`s for segment writes, buffered
//! fds for the read path so it can sendfile). `MemStorage` keeps files in memory and models what
//! a power loss keeps (simulation, fast fuzzing). `FaultyStorage` wraps any storage and fails
//! chosen operations on demand.

mod faulty;
mod glommio_storage;
mod mem;

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;

use glommio::io::DmaBuffer;

pub use faulty::{Fault, FaultyStorage};
pub use glommio_storage::GlommioStorage;
pub use mem::MemStorage;

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
    /// Opens a segment file for the read path (buffered, read-only). Synchronous: a plain open.
    /// The reader stays valid when the file is renamed or deleted afterwards, like an fd.
    fn open_reader(&self, path: &Path) -> io::Result<Rc<dyn SegmentReader>>;
}

/// A read-only handle of a segment file for the fetch path: positional reads of any alignment,
/// served from the page cache (or memory). Lives on one shard.
pub trait SegmentReader: std::fmt::Debug {
    /// Reads into `buf` at `position`; returns bytes read (0 at end of file).
    fn read_at(&self, buf: &mut [u8], position: u64) -> io::Result<usize>;
    /// The real fd behind this reader, when there is one: the server sendfiles from it. `None`
    /// means the bytes must be copied out with `read_at`.
    fn std_file(&self) -> Option<&std::fs::File>;
    /// Advice that `len` bytes from `position` will be read soon: real storage starts reading
    /// them into the page cache in the background (readahead), so a later fetch and its
    /// sendfile find them there. Returns at once and never fails: it is only advice, and a read
    /// that finds the bytes missing reads them itself. Storage without a page cache ignores it.
    fn will_need(&self, _position: u64, _len: u64) {}
    /// Fills `buf` from `position`; `UnexpectedEof` if the file ends first.
    fn read_exact_at(&self, buf: &mut [u8], position: u64) -> io::Result<()> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read_at(&mut buf[filled..], position + filled as u64) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                Ok(n) => filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
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
