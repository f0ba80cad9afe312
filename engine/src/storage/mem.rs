//! `MemStorage`: files and directories in memory, with an honest model of what a power loss
//! keeps. For simulation tests and fast fuzzing of recovery; shard-local (`Rc`/`RefCell`).
//!
//! Durability rules (strict POSIX, as the engine must assume of a real disk):
//! - File data: every file keeps what was written (`data`, what reads see) and what its last
//!   fdatasync saw (`synced`, content and length). Space pre-allocated or extended but never
//!   written reads as zeros and costs no memory. Writes, truncation and pre-allocation are
//!   durable only after `fdatasync`.
//! - Names: creating, renaming and removing a file change the live namespace at once, and
//!   become durable when its directory is synced (`sync_dir`, or `write_file_atomic` with
//!   `sync`). Until then a power loss brings back the directory as its last sync left it.
//! - Simplifications: directories themselves are durable when created, and `remove_dir_all` is
//!   durable at once (the engine syncs neither its data dir nor a deleted partition's parent).
//! - `crash()` leaves the storage as a power loss would with a device that persisted nothing
//!   unsynced; `crash_torn(seed)` also keeps a random subset of the unsynced blocks and a random
//!   one of the two lengths, i.e. writes that reached the device before it lost power, torn at
//!   block granularity (a block write itself is atomic).
//!
//! Like the real device under O_DIRECT, segment writes must be block-aligned in position and
//! length; a misaligned write is an engine bug and panics here.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::DmaBuffer;

use super::{IoFuture, SegmentFile, SegmentReader, Storage};
use crate::limits::{BLOCK_BYTES, SEGMENT_BYTES_MAX};

/// Largest file MemStorage holds (a segment plus its last pre-allocation step, with room);
/// bigger writes, truncations or pre-allocations fail with EFBIG instead of eating memory.
pub const MEM_FILE_BYTES_MAX: u64 = 4 << 30;
const _: () = assert!(MEM_FILE_BYTES_MAX > SEGMENT_BYTES_MAX);
const _: () = assert!(MEM_FILE_BYTES_MAX.is_multiple_of(BLOCK_BYTES));

/// A file's bytes: `bytes` as written, then zeros up to `len` (pre-allocated or extended but
/// never written, like unwritten extents). Keeps pre-allocated segments cheap to copy.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Contents {
    bytes: Vec<u8>,
    len: u64,
}

impl Contents {
    fn from_vec(bytes: Vec<u8>) -> Contents {
        let len = bytes.len() as u64;
        Contents { bytes, len }
    }

    fn check(&self) {
        assert!(self.bytes.len() as u64 <= self.len);
    }

    /// Copies `[position, position + buf.len())` into `buf`, short at the end of the file.
    fn read(&self, position: u64, buf: &mut [u8]) -> usize {
        let start = position.min(self.len);
        let n = (buf.len() as u64).min(self.len - start) as usize;
        let start = start as usize;
        let stored = self.bytes.len().saturating_sub(start).min(n);
        if stored > 0 {
            buf[..stored].copy_from_slice(&self.bytes[start..start + stored]);
        }
        buf[stored..n].fill(0);
        n
    }

    fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.len as usize];
        let n = self.read(0, &mut out);
        assert_eq!(n, out.len());
        out
    }

    fn write(&mut self, position: u64, data: &[u8]) {
        let start = position as usize;
        let end = start + data.len();
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        self.bytes[start..end].copy_from_slice(data);
        self.len = self.len.max(end as u64);
        self.check();
    }

    fn set_len(&mut self, len: u64) {
        self.bytes
            .truncate(len.min(self.bytes.len() as u64) as usize);
        self.len = len;
        self.check();
    }
}

/// One file: what reads see (`data`), and what its last fdatasync saw (`synced`).
#[derive(Debug, Default)]
struct Inode {
    data: RefCell<Contents>,
    synced: RefCell<Contents>,
}

impl Inode {
    fn with_contents(contents: Contents) -> Rc<Inode> {
        Rc::new(Inode {
            data: RefCell::new(contents.clone()),
            synced: RefCell::new(contents),
        })
    }
}

/// One directory's entries: as the running process sees them, and as its last sync left them.
#[derive(Debug, Default)]
struct Dir {
    live: BTreeMap<OsString, Rc<Inode>>,
    durable: BTreeMap<OsString, Rc<Inode>>,
}

/// In-memory storage. Create it on the shard that uses it; share it as `Rc<MemStorage>` (it
/// coerces to `Rc<dyn Storage>`) and keep a handle to `crash()` it between two log managers.
#[derive(Debug, Default)]
pub struct MemStorage {
    dirs: RefCell<BTreeMap<PathBuf, Dir>>,
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file or directory", path.display()),
    )
}

/// (directory, file name) of a file path.
fn split(path: &Path) -> io::Result<(&Path, &OsStr)> {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => Ok((dir, name)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file path", path.display()),
        )),
    }
}

fn check_file_bytes(len: u64) -> io::Result<()> {
    if len > MEM_FILE_BYTES_MAX {
        return Err(io::Error::from_raw_os_error(libc::EFBIG));
    }
    Ok(())
}

/// xorshift64*: the deterministic coin of `crash_torn`.
struct Coin(u64);

impl Coin {
    fn new(seed: u64) -> Coin {
        Coin(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    fn flip(&mut self) -> bool {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 63 == 1
    }
}

/// What a power loss leaves of one file: its synced contents, plus (when `coin` is given) a
/// random subset of the blocks written since and one of the two lengths.
fn surviving_contents(inode: &Inode, coin: Option<&mut Coin>) -> Contents {
    let synced = inode.synced.borrow();
    let Some(coin) = coin else {
        return synced.clone();
    };
    let data = inode.data.borrow();
    if *data == *synced {
        return synced.clone();
    }
    let len = if coin.flip() { data.len } else { synced.len };
    let mut out = synced.clone();
    out.set_len(len);
    let block = BLOCK_BYTES as usize;
    let stored = data.bytes.len().max(synced.bytes.len()) as u64;
    let mut written = vec![0u8; block];
    let mut kept = vec![0u8; block];
    for start in (0..stored.min(len)).step_by(block) {
        let n = data.read(start, &mut written);
        let m = out.read(start, &mut kept[..n]);
        if written[..n] != kept[..m] && coin.flip() {
            out.write(start, &written[..n.min((len - start) as usize)]);
        }
    }
    out.set_len(len);
    out
}

impl MemStorage {
    /// An empty storage with no directories.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// Power loss with a device that persisted nothing unsynced: every file goes back to its
    /// last fdatasync, every directory to its last sync. Handles opened before keep pointing at
    /// the lost files (like the fds of a dead process): open everything again afterwards.
    pub fn crash(&self) {
        self.crash_with(None);
    }

    /// Power loss where some unsynced writes reached the device: for each file, a random
    /// (by `seed`) choice of its synced or written length and of each block written since its
    /// last fdatasync. Names still come back as of each directory's last sync.
    pub fn crash_torn(&self, seed: u64) {
        self.crash_with(Some(&mut Coin::new(seed)));
    }

    fn crash_with(&self, mut coin: Option<&mut Coin>) {
        let mut survivors: HashMap<*const Inode, Rc<Inode>> = HashMap::new();
        for dir in self.dirs.borrow_mut().values_mut() {
            let mut live = BTreeMap::new();
            for (name, inode) in &dir.durable {
                let survivor = survivors.entry(Rc::as_ptr(inode)).or_insert_with(|| {
                    Inode::with_contents(surviving_contents(inode, coin.as_deref_mut()))
                });
                live.insert(name.clone(), survivor.clone());
            }
            assert_eq!(live.len(), dir.durable.len());
            dir.durable = live.clone();
            dir.live = live;
        }
    }

    /// Paths of the live files (for tests and debugging).
    pub fn file_paths(&self) -> Vec<PathBuf> {
        let dirs = self.dirs.borrow();
        let files = dirs
            .iter()
            .flat_map(|(path, dir)| dir.live.keys().map(|name| path.join(name)));
        files.collect()
    }

    fn lookup(&self, path: &Path) -> io::Result<Rc<Inode>> {
        let (dir, name) = split(path)?;
        let dirs = self.dirs.borrow();
        let entry = dirs.get(dir).and_then(|dir| dir.live.get(name));
        entry.cloned().ok_or_else(|| not_found(path))
    }

    /// Runs `f` on the directory `path`; NotFound if it does not exist.
    fn with_dir<T>(&self, path: &Path, f: impl FnOnce(&mut Dir) -> T) -> io::Result<T> {
        let mut dirs = self.dirs.borrow_mut();
        let dir = dirs.get_mut(path).ok_or_else(|| not_found(path))?;
        Ok(f(dir))
    }

    fn create_file(&self, path: &Path) -> io::Result<Rc<Inode>> {
        let (dir, name) = split(path)?;
        let inode = Rc::new(Inode::default());
        self.with_dir(dir, |dir| {
            dir.live.insert(name.to_os_string(), inode.clone())
        })?;
        Ok(inode)
    }

    fn rename_now(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from_dir, from_name) = split(from)?;
        let (to_dir, to_name) = split(to)?;
        self.with_dir(to_dir, |_| ())?;
        let inode = self
            .with_dir(from_dir, |dir| dir.live.remove(from_name))?
            .ok_or_else(|| not_found(from))?;
        self.with_dir(to_dir, |dir| dir.live.insert(to_name.to_os_string(), inode))?;
        Ok(())
    }

    fn sync_dir_now(&self, path: &Path) -> io::Result<()> {
        self.with_dir(path, |dir| {
            dir.durable = dir.live.clone();
            assert_eq!(dir.durable.len(), dir.live.len());
        })
    }

    fn write_file_atomic_now(&self, path: &Path, data: Vec<u8>, sync: bool) -> io::Result<()> {
        check_file_bytes(data.len() as u64)?;
        let tmp = super::glommio_storage::tmp_path(path);
        let inode = self.create_file(&tmp)?;
        let contents = Contents::from_vec(data);
        if sync {
            *inode.synced.borrow_mut() = contents.clone();
        }
        *inode.data.borrow_mut() = contents;
        self.rename_now(&tmp, path)?;
        if sync {
            self.sync_dir_now(split(path)?.0)?;
        }
        Ok(())
    }
}

impl Storage for MemStorage {
    fn open_segment(&self, path: &Path, create: bool) -> IoFuture<'_, Rc<dyn SegmentFile>> {
        let result = match self.lookup(path) {
            Ok(inode) => Ok(inode),
            Err(_) if create => self.create_file(path),
            Err(err) => Err(err),
        };
        let path = path.to_path_buf();
        Box::pin(async move {
            let file: Rc<dyn SegmentFile> = Rc::new(MemSegmentFile {
                inode: result?,
                path,
            });
            Ok(file)
        })
    }

    fn create_dir_all(&self, path: &Path) -> IoFuture<'_, ()> {
        let mut dirs = self.dirs.borrow_mut();
        for dir in path.ancestors() {
            dirs.entry(dir.to_path_buf()).or_default();
        }
        Box::pin(async { Ok(()) })
    }

    fn list_dir(&self, path: &Path) -> IoFuture<'_, Vec<PathBuf>> {
        let dirs = self.dirs.borrow();
        let result = match dirs.get(path) {
            None => Err(not_found(path)),
            Some(dir) => {
                let files = dir.live.keys().map(|name| path.join(name));
                let subdirs = dirs
                    .keys()
                    .filter(|sub| sub.parent() == Some(path))
                    .cloned();
                let mut listed: Vec<PathBuf> = files.chain(subdirs).collect();
                listed.sort();
                Ok(listed)
            }
        };
        Box::pin(async move { result })
    }

    fn read_file(&self, path: &Path) -> IoFuture<'_, Option<Vec<u8>>> {
        let contents = self
            .lookup(path)
            .ok()
            .map(|inode| inode.data.borrow().to_vec());
        Box::pin(async move { Ok(contents) })
    }

    fn write_file_atomic(&self, path: &Path, data: Vec<u8>, sync: bool) -> IoFuture<'_, ()> {
        let result = self.write_file_atomic_now(path, data, sync);
        Box::pin(async move { result })
    }

    fn rename(&self, from: &Path, to: &Path) -> IoFuture<'_, ()> {
        let result = self.rename_now(from, to);
        Box::pin(async move { result })
    }

    fn remove_file(&self, path: &Path) -> IoFuture<'_, ()> {
        // A missing file (or directory) is not an error, as on GlommioStorage.
        let result = split(path).map(|(dir, name)| {
            if let Some(dir) = self.dirs.borrow_mut().get_mut(dir) {
                dir.live.remove(name);
            }
        });
        Box::pin(async move { result })
    }

    fn remove_dir_all(&self, path: &Path) -> IoFuture<'_, ()> {
        self.dirs
            .borrow_mut()
            .retain(|dir, _| !dir.starts_with(path));
        Box::pin(async { Ok(()) })
    }

    fn sync_dir(&self, path: &Path) -> IoFuture<'_, ()> {
        let result = self.sync_dir_now(path);
        Box::pin(async move { result })
    }

    fn open_reader(&self, path: &Path) -> io::Result<Rc<dyn SegmentReader>> {
        let reader: Rc<dyn SegmentReader> = Rc::new(MemReader {
            inode: self.lookup(path)?,
        });
        Ok(reader)
    }
}

/// An open segment: holds its inode like an fd, so it outlives a rename or removal.
struct MemSegmentFile {
    inode: Rc<Inode>,
    path: PathBuf,
}

impl MemSegmentFile {
    fn write_now(&self, buf: &DmaBuffer, position: u64) -> io::Result<usize> {
        // The device refuses misaligned O_DIRECT I/O; the engine must never issue it.
        assert!(
            position.is_multiple_of(BLOCK_BYTES),
            "misaligned O_DIRECT write position {position} in {}",
            self.path.display()
        );
        assert!(
            (buf.len() as u64).is_multiple_of(BLOCK_BYTES),
            "misaligned O_DIRECT write length {} in {}",
            buf.len(),
            self.path.display()
        );
        let end = position + buf.len() as u64;
        check_file_bytes(end)?;
        let mut data = self.inode.data.borrow_mut();
        data.write(position, buf.as_bytes());
        assert!(data.len >= end);
        Ok(buf.len())
    }

    fn set_len(&self, len: u64, grow_only: bool) -> io::Result<()> {
        check_file_bytes(len)?;
        let mut data = self.inode.data.borrow_mut();
        if !grow_only || len > data.len {
            data.set_len(len);
        }
        assert!(data.len >= len);
        Ok(())
    }
}

impl SegmentFile for MemSegmentFile {
    fn alloc_buffer(&self, len: usize) -> DmaBuffer {
        glommio::allocate_dma_buffer(len)
    }

    fn write_at(&self, buf: Rc<DmaBuffer>, position: u64) -> IoFuture<'_, usize> {
        let result = self.write_now(&buf, position);
        Box::pin(async move { result })
    }

    fn read_at(&self, position: u64, len: usize) -> IoFuture<'_, Vec<u8>> {
        let data = self.inode.data.borrow();
        let mut read = vec![0u8; len.min(data.len.saturating_sub(position) as usize)];
        let n = data.read(position, &mut read);
        assert_eq!(n, read.len());
        Box::pin(async move { Ok(read) })
    }

    fn fdatasync(&self) -> IoFuture<'_, ()> {
        let data = self.inode.data.borrow();
        let mut synced = self.inode.synced.borrow_mut();
        synced.clone_from(&data);
        assert_eq!(synced.len, data.len);
        Box::pin(async { Ok(()) })
    }

    fn truncate(&self, len: u64) -> IoFuture<'_, ()> {
        let result = self.set_len(len, false);
        Box::pin(async move { result })
    }

    fn preallocate(&self, len: u64) -> IoFuture<'_, ()> {
        let result = self.set_len(len, true);
        Box::pin(async move { result })
    }

    fn file_size(&self) -> IoFuture<'_, u64> {
        let len = self.inode.data.borrow().len;
        Box::pin(async move { Ok(len) })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// A read-path handle: reads what was written (the page cache's view), synced or not.
#[derive(Debug)]
struct MemReader {
    inode: Rc<Inode>,
}

impl SegmentReader for MemReader {
    fn read_at(&self, buf: &mut [u8], position: u64) -> io::Result<usize> {
        Ok(self.inode.data.borrow().read(position, buf))
    }

    fn std_file(&self) -> Option<&std::fs::File> {
        None
    }
}
