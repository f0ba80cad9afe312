//! A storage wrapper that injects faults on demand: for tests of error paths and recovery.

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::DmaBuffer;

use super::{IoFuture, SegmentFile, SegmentReader, Storage};
use crate::limits::BLOCK_BYTES;

/// A fault armed on a `FaultyStorage`. Faults stay armed until `clear()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Segment writes fail with ENOSPC.
    NoSpace,
    /// Segment writes fail with EIO.
    WriteFails,
    /// Segment writes report one block less than asked (nothing past that is written).
    ShortWrite,
    /// Segment writes persist only their first block, then fail with EIO: a torn tail.
    TornWrite,
    /// fdatasync fails with EIO.
    SyncFails,
    /// fdatasync reports success without syncing: a device that acknowledges cache flushes it
    /// never performs. Only a storage that models power loss (`MemStorage`) can tell.
    SyncLies,
    /// fallocate fails with ENOSPC.
    PreallocateNoSpace,
    /// Opening a read-path reader fails with EIO.
    ReaderOpenFails,
    /// Reads through an open read-path reader (the fetch path's header scan and copies) fail
    /// with EIO.
    ReaderReadFails,
}

#[derive(Debug, Default)]
struct FaultState {
    armed: Vec<Fault>,
    injected_count: u64,
    /// Every `will_need` advice given to a reader, as (position, len), oldest first.
    advised: Vec<(u64, u64)>,
}

/// Wraps a storage; arm faults with `inject`, disarm with `clear`.
pub struct FaultyStorage {
    inner: Rc<dyn Storage>,
    state: Rc<RefCell<FaultState>>,
}

impl FaultyStorage {
    pub fn new(inner: Rc<dyn Storage>) -> Self {
        FaultyStorage {
            inner,
            state: Rc::new(RefCell::new(FaultState::default())),
        }
    }

    /// Arms `fault` for every following matching operation.
    pub fn inject(&self, fault: Fault) {
        self.state.borrow_mut().armed.push(fault);
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        self.state.borrow_mut().armed.clear();
    }

    /// How many operations failed because of an armed fault.
    pub fn injected_count(&self) -> u64 {
        self.state.borrow().injected_count
    }

    /// The readahead advice readers were given (`SegmentReader::will_need`), oldest first; it is
    /// passed on to the inner storage's reader too.
    pub fn advised(&self) -> Vec<(u64, u64)> {
        self.state.borrow().advised.clone()
    }
}

fn armed(state: &RefCell<FaultState>, fault: Fault) -> bool {
    let mut state = state.borrow_mut();
    let hit = state.armed.contains(&fault);
    if hit {
        state.injected_count += 1;
    }
    hit
}

impl Storage for FaultyStorage {
    fn open_segment(&self, path: &Path, create: bool) -> IoFuture<'_, Rc<dyn SegmentFile>> {
        let path = path.to_path_buf();
        Box::pin(async move {
            let inner = self.inner.open_segment(&path, create).await?;
            let file: Rc<dyn SegmentFile> = Rc::new(FaultySegmentFile {
                inner,
                state: self.state.clone(),
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
        if armed(&self.state, Fault::NoSpace) {
            return Box::pin(async { Err(io::Error::from_raw_os_error(libc::ENOSPC)) });
        }
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
        if armed(&self.state, Fault::ReaderOpenFails) {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        let reader: Rc<dyn SegmentReader> = Rc::new(FaultyReader {
            inner: self.inner.open_reader(path)?,
            state: self.state.clone(),
        });
        Ok(reader)
    }
}

struct FaultyReader {
    inner: Rc<dyn SegmentReader>,
    state: Rc<RefCell<FaultState>>,
}

impl std::fmt::Debug for FaultyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyReader")
            .field("inner", &self.inner)
            .finish()
    }
}

impl SegmentReader for FaultyReader {
    fn read_at(&self, buf: &mut [u8], position: u64) -> io::Result<usize> {
        if armed(&self.state, Fault::ReaderReadFails) {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        self.inner.read_at(buf, position)
    }

    fn std_file(&self) -> Option<&std::fs::File> {
        self.inner.std_file()
    }

    fn will_need(&self, position: u64, len: u64) {
        self.state.borrow_mut().advised.push((position, len));
        self.inner.will_need(position, len);
    }
}

struct FaultySegmentFile {
    inner: Rc<dyn SegmentFile>,
    state: Rc<RefCell<FaultState>>,
}

impl SegmentFile for FaultySegmentFile {
    fn alloc_buffer(&self, len: usize) -> DmaBuffer {
        self.inner.alloc_buffer(len)
    }

    fn write_at(&self, buf: Rc<DmaBuffer>, position: u64) -> IoFuture<'_, usize> {
        Box::pin(async move {
            if armed(&self.state, Fault::NoSpace) {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            if armed(&self.state, Fault::WriteFails) {
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            let block = BLOCK_BYTES as usize;
            if armed(&self.state, Fault::TornWrite) {
                let mut first = self.inner.alloc_buffer(block);
                let len = buf.len().min(block);
                first.as_bytes_mut()[..len].copy_from_slice(&buf.as_bytes()[..len]);
                self.inner.write_at(Rc::new(first), position).await?;
                return Err(io::Error::from_raw_os_error(libc::EIO));
            }
            if armed(&self.state, Fault::ShortWrite) && buf.len() > block {
                let short = buf.len() - block;
                let mut part = self.inner.alloc_buffer(short);
                part.as_bytes_mut()
                    .copy_from_slice(&buf.as_bytes()[..short]);
                return self.inner.write_at(Rc::new(part), position).await;
            }
            self.inner.write_at(buf, position).await
        })
    }

    fn read_at(&self, position: u64, len: usize) -> IoFuture<'_, Vec<u8>> {
        self.inner.read_at(position, len)
    }

    fn fdatasync(&self) -> IoFuture<'_, ()> {
        if armed(&self.state, Fault::SyncFails) {
            return Box::pin(async { Err(io::Error::from_raw_os_error(libc::EIO)) });
        }
        if armed(&self.state, Fault::SyncLies) {
            return Box::pin(async { Ok(()) });
        }
        self.inner.fdatasync()
    }

    fn truncate(&self, len: u64) -> IoFuture<'_, ()> {
        self.inner.truncate(len)
    }

    fn preallocate(&self, len: u64) -> IoFuture<'_, ()> {
        if armed(&self.state, Fault::PreallocateNoSpace) || armed(&self.state, Fault::NoSpace) {
            return Box::pin(async { Err(io::Error::from_raw_os_error(libc::ENOSPC)) });
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
