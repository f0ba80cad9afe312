//! A storage wrapper for tests: counts segment writes and fdatasyncs, and can hold the next
//! fdatasyncs at a gate until the test releases them.

use std::cell::{Cell, RefCell};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::DmaBuffer;
use sluice_engine::storage::{GlommioStorage, IoFuture, SegmentFile, SegmentReader, Storage};
use sluice_engine::LogManager;

/// Counts fdatasyncs; holds the next `to_hold` of them until `release`.
#[derive(Default)]
pub struct SyncGate {
    to_hold: Cell<usize>,
    pub held: Cell<usize>,
    released: Cell<u64>,
    pub syncs: Cell<usize>,
    /// Bytes and calls of segment writes that completed.
    pub written_bytes: Cell<u64>,
    pub writes: Cell<u64>,
    /// Bytes returned by segment-file reads (recovery scans, the appender's tail block).
    pub read_bytes: Cell<u64>,
    wakers: RefCell<Vec<std::task::Waker>>,
    /// Tasks waiting in `until_held`.
    held_wakers: RefCell<Vec<std::task::Waker>>,
}

impl SyncGate {
    pub fn hold_next(&self) {
        self.to_hold.set(self.to_hold.get() + 1);
    }

    /// Resolves once some fdatasync is held at the gate.
    pub async fn until_held(&self) {
        std::future::poll_fn(|cx| {
            if self.held.get() > 0 {
                std::task::Poll::Ready(())
            } else {
                self.held_wakers.borrow_mut().push(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await
    }

    pub fn release(&self) {
        self.released.set(self.released.get() + 1);
        for waker in self.wakers.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    async fn pass(&self) {
        if self.to_hold.get() == 0 {
            return;
        }
        self.to_hold.set(self.to_hold.get() - 1);
        self.held.set(self.held.get() + 1);
        for waker in self.held_wakers.borrow_mut().drain(..) {
            waker.wake();
        }
        let generation = self.released.get();
        std::future::poll_fn(|cx| {
            if self.released.get() == generation {
                self.wakers.borrow_mut().push(cx.waker().clone());
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        self.held.set(self.held.get() - 1);
    }
}

/// Wraps a storage; its segment files report to `gate`.
pub struct GatedStorage {
    pub inner: Rc<dyn Storage>,
    pub gate: Rc<SyncGate>,
}

/// A manager on real files in `dir` whose segment I/O reports to the returned gate.
pub fn gated_manager(dir: &Path) -> (Rc<LogManager>, Rc<SyncGate>) {
    let gate = Rc::new(SyncGate::default());
    let storage = Rc::new(GatedStorage {
        inner: Rc::new(GlommioStorage),
        gate: gate.clone(),
    });
    (
        LogManager::with_storage(super::shard_config(dir), storage),
        gate,
    )
}

struct GatedFile {
    inner: Rc<dyn SegmentFile>,
    gate: Rc<SyncGate>,
}

impl SegmentFile for GatedFile {
    fn alloc_buffer(&self, len: usize) -> DmaBuffer {
        self.inner.alloc_buffer(len)
    }
    fn write_at(&self, buf: Rc<DmaBuffer>, position: u64) -> IoFuture<'_, usize> {
        Box::pin(async move {
            let written = self.inner.write_at(buf, position).await?;
            self.gate.writes.set(self.gate.writes.get() + 1);
            self.gate
                .written_bytes
                .set(self.gate.written_bytes.get() + written as u64);
            Ok(written)
        })
    }
    fn read_at(&self, position: u64, len: usize) -> IoFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let data = self.inner.read_at(position, len).await?;
            self.gate
                .read_bytes
                .set(self.gate.read_bytes.get() + data.len() as u64);
            Ok(data)
        })
    }
    fn fdatasync(&self) -> IoFuture<'_, ()> {
        Box::pin(async move {
            self.gate.pass().await;
            self.gate.syncs.set(self.gate.syncs.get() + 1);
            self.inner.fdatasync().await
        })
    }
    fn truncate(&self, len: u64) -> IoFuture<'_, ()> {
        self.inner.truncate(len)
    }
    fn preallocate(&self, len: u64) -> IoFuture<'_, ()> {
        self.inner.preallocate(len)
    }
    fn file_size(&self) -> IoFuture<'_, u64> {
        self.inner.file_size()
    }
    fn path(&self) -> &Path {
        self.inner.path()
    }
}

impl Storage for GatedStorage {
    fn open_segment(&self, path: &Path, create: bool) -> IoFuture<'_, Rc<dyn SegmentFile>> {
        let path = path.to_path_buf();
        Box::pin(async move {
            let inner = self.inner.open_segment(&path, create).await?;
            let file: Rc<dyn SegmentFile> = Rc::new(GatedFile {
                inner,
                gate: self.gate.clone(),
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
        self.inner.write_file_atomic(path, data, sync)
    }
    fn rename(&self, from: &Path, to: &Path) -> IoFuture<'_, ()> {
        self.inner.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> IoFuture<'_, ()> {
        self.inner.remove_file(path)
    }
    fn remove_dir_all(&self, path: &Path) -> IoFuture<'_, ()> {
        self.inner.remove_dir_all(path)
    }
    fn sync_dir(&self, path: &Path) -> IoFuture<'_, ()> {
        self.inner.sync_dir(path)
    }
    fn open_reader(&self, path: &Path) -> io::Result<Rc<dyn SegmentReader>> {
        self.inner.open_reader(path)
    }
}
