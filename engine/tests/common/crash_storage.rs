//! A storage wrapper that "crashes" at the n-th mutating operation once armed: that operation
//! and every later one fail with EIO, as if the process died there. The test then power-cuts
//! the `MemStorage` underneath (`crash()`) and reopens from it.

use std::cell::Cell;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::DmaBuffer;
use sluice_engine::storage::{IoFuture, SegmentFile, SegmentReader, Storage};

#[derive(Default)]
pub struct CrashPoint {
    /// Mutating operations allowed after arming; `None` = not armed.
    allowed: Cell<Option<u64>>,
    pub crashed: Cell<bool>,
}

impl CrashPoint {
    pub fn arm(&self, operations_allowed: u64) {
        self.allowed.set(Some(operations_allowed));
    }

    /// Counts one mutating operation; false once the crash point is reached.
    fn pass(&self) -> bool {
        if self.crashed.get() {
            return false;
        }
        match self.allowed.get() {
            None => true,
            Some(0) => {
                self.crashed.set(true);
                false
            }
            Some(left) => {
                self.allowed.set(Some(left - 1));
                true
            }
        }
    }
}

fn died<'a, T: 'a>() -> IoFuture<'a, T> {
    Box::pin(async { Err(io::Error::other("crashed here")) })
}

pub struct CrashingStorage {
    pub inner: Rc<dyn Storage>,
    pub point: Rc<CrashPoint>,
}

impl Storage for CrashingStorage {
    fn open_segment(&self, path: &Path, create: bool) -> IoFuture<'_, Rc<dyn SegmentFile>> {
        if !self.point.pass() {
            return died();
        }
        let path = path.to_path_buf();
        Box::pin(async move {
            let inner = self.inner.open_segment(&path, create).await?;
            let file: Rc<dyn SegmentFile> = Rc::new(CrashingFile {
                inner,
                point: self.point.clone(),
            });
            Ok(file)
        })
    }
    fn create_dir_all(&self, path: &Path) -> IoFuture<'_, ()> {
        self.inner.create_dir_all(path)
    }
    fn list_dir(&self, path: &Path) -> IoFuture<'_, Vec<PathBuf>> {
        self.inner.list_dir(path)
    }
    fn read_file(&self, path: &Path) -> IoFuture<'_, Option<Vec<u8>>> {
        self.inner.read_file(path)
    }
    fn write_file_atomic(&self, path: &Path, data: Vec<u8>, sync: bool) -> IoFuture<'_, ()> {
        if !self.point.pass() {
            return died();
        }
        self.inner.write_file_atomic(path, data, sync)
    }
    fn rename(&self, from: &Path, to: &Path) -> IoFuture<'_, ()> {
        if !self.point.pass() {
            return died();
        }
        self.inner.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> IoFuture<'_, ()> {
        if !self.point.pass() {
            return died();
        }
        self.inner.remove_file(path)
    }
    fn remove_dir_all(&self, path: &Path) -> IoFuture<'_, ()> {
        if !self.point.pass() {
            return died();
        }
        self.inner.remove_dir_all(path)
    }
    fn sync_dir(&self, path: &Path) -> IoFuture<'_, ()> {
        if !self.point.pass() {
            return died();
        }
        self.inner.sync_dir(path)
    }
    fn open_reader(&self, path: &Path) -> io::Result<Rc<dyn SegmentReader>> {
        self.inner.open_reader(path)
    }
}

struct CrashingFile {
    inner: Rc<dyn SegmentFile>,
    point: Rc<CrashPoint>,
}

impl SegmentFile for CrashingFile {
    fn alloc_buffer(&self, len: usize) -> DmaBuffer {
        self.inner.alloc_buffer(len)
    }
    fn write_at(&self, buf: Rc<DmaBuffer>, position: u64) -> IoFuture<'_, usize> {
        if !self.point.pass() {
            return died();
        }
        self.inner.write_at(buf, position)
    }
    fn read_at(&self, position: u64, len: usize) -> IoFuture<'_, Vec<u8>> {
        self.inner.read_at(position, len)
    }
    fn fdatasync(&self) -> IoFuture<'_, ()> {
        if !self.point.pass() {
            return died();
        }
        self.inner.fdatasync()
    }
    fn truncate(&self, len: u64) -> IoFuture<'_, ()> {
        if !self.point.pass() {
            return died();
        }
        self.inner.truncate(len)
    }
    fn preallocate(&self, len: u64) -> IoFuture<'_, ()> {
        if !self.point.pass() {
            return died();
        }
        self.inner.preallocate(len)
    }
    fn file_size(&self) -> IoFuture<'_, u64> {
        self.inner.file_size()
    }
    fn path(&self) -> &Path {
        self.inner.path()
    }
}
