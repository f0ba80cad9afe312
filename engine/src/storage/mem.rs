//! `MemStorage`: files and directories in memory, with an honest model of what a power loss
//! keeps. For simulation tests and fast fuzzing of recovery; shard-local (`Rc`/`RefCell`).
//!
//! Durability rules (strict POSIX, as the engine must assume of a real disk):
//! - File data: every file keeps what was written (`data`, what reads see) and what its last
//!   fdatasync saw (`synced`, content and length). Writes, truncation and pre-allocation are
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
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// One file's contents: what reads see, and what survives a power loss.
#[derive(Debug, Default)]
struct Inode {
    data: RefCell<Vec<u8>>,
    synced: RefCell<Vec<u8>>,
}

impl Inode {
    fn with_contents(data: Vec<u8>, synced: Vec<u8>) -> Rc<Inode> {
        Rc::new(Inode {
            data: RefCell::new(data),
            synced: RefCell::new(synced),
        })
    }
}

#[derive(Debug, Default)]
struct Namespace {
    dirs: BTreeSet<PathBuf>,
    /// Names as the running process sees them.
    live: BTreeMap<PathBuf, Rc<Inode>>,
    /// Names as the last `sync_dir` of each directory left them.
    durable: BTreeMap<PathBuf, Rc<Inode>>,
}

/// In-memory storage. Create it on the shard that uses it; share it as `Rc<MemStorage>` (it
/// coerces to `Rc<dyn Storage>`) and keep a handle to `crash()` it between two log managers.
#[derive(Debug, Default)]
pub struct MemStorage {
    names: RefCell<Namespace>,
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file or directory", path.display()),
    )
}

fn parent_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new(""))
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
fn surviving_contents(inode: &Inode, coin: Option<&mut Coin>) -> Vec<u8> {
    let synced = inode.synced.borrow();
    let Some(coin) = coin else {
        return synced.clone();
    };
    let data = inode.data.borrow();
    let len = if coin.flip() {
        data.len()
    } else {
        synced.len()
    };
    let mut out = synced.clone();
    out.resize(len, 0);
    let block = BLOCK_BYTES as usize;
    for start in (0..len).step_by(block) {
        let end = (start + block).min(len);
        let written = data.get(start..end.min(data.len())).unwrap_or(&[]);
        if written != &out[start..start + written.len()] && coin.flip() {
            out[start..start + written.len()].copy_from_slice(written);
        }
    }
    assert_eq!(out.len(), len);
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
        let mut names = self.names.borrow_mut();
        let mut survivors: HashMap<*const Inode, Rc<Inode>> = HashMap::new();
        let mut live = BTreeMap::new();
        for (path, inode) in &names.durable {
            let key = Rc::as_ptr(inode);
            let survivor = match survivors.get(&key) {
                Some(survivor) => survivor.clone(),
                None => {
                    let contents = surviving_contents(inode, coin.as_deref_mut());
                    let survivor = Inode::with_contents(contents.clone(), contents);
                    survivors.insert(key, survivor.clone());
                    survivor
                }
            };
            assert!(names.dirs.contains(parent_of(path)));
            live.insert(path.clone(), survivor);
        }
        names.durable = live.clone();
        names.live = live;
    }

    /// Names of the live files (for tests and debugging).
    pub fn file_paths(&self) -> Vec<PathBuf> {
        self.names.borrow().live.keys().cloned().collect()
    }

    fn lookup(&self, path: &Path) -> io::Result<Rc<Inode>> {
        self.names
            .borrow()
            .live
            .get(path)
            .cloned()
            .ok_or_else(|| not_found(path))
    }

    fn check_dir(&self, dir: &Path) -> io::Result<()> {
        if self.names.borrow().dirs.contains(dir) {
            return Ok(());
        }
        Err(not_found(dir))
    }

    fn create_file(&self, path: &Path) -> io::Result<Rc<Inode>> {
        self.check_dir(parent_of(path))?;
        let inode = Rc::new(Inode::default());
        self.names
            .borrow_mut()
            .live
            .insert(path.to_path_buf(), inode.clone());
        Ok(inode)
    }

    fn rename_now(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.check_dir(parent_of(to))?;
        let mut names = self.names.borrow_mut();
        let inode = names.live.remove(from).ok_or_else(|| not_found(from))?;
        names.live.insert(to.to_path_buf(), inode);
        Ok(())
    }

    fn sync_dir_now(&self, dir: &Path) -> io::Result<()> {
        self.check_dir(dir)?;
        let mut names = self.names.borrow_mut();
        names.durable.retain(|path, _| parent_of(path) != dir);
        let entries: Vec<(PathBuf, Rc<Inode>)> = names
            .live
            .iter()
            .filter(|(path, _)| parent_of(path) == dir)
            .map(|(path, inode)| (path.clone(), inode.clone()))
            .collect();
        names.durable.extend(entries);
        Ok(())
    }

    fn write_file_atomic_now(&self, path: &Path, data: Vec<u8>, sync: bool) -> io::Result<()> {
        check_file_bytes(data.len() as u64)?;
        let tmp = super::glommio_storage::tmp_path(path);
        let inode = self.create_file(&tmp)?;
        if sync {
            *inode.synced.borrow_mut() = data.clone();
        }
        *inode.data.borrow_mut() = data;
        self.rename_now(&tmp, path)?;
        if sync {
            self.sync_dir_now(parent_of(path))?;
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
        let mut names = self.names.borrow_mut();
        for dir in path.ancestors() {
            names.dirs.insert(dir.to_path_buf());
        }
        Box::pin(async { Ok(()) })
    }

    fn list_dir(&self, path: &Path) -> IoFuture<'_, Vec<PathBuf>> {
        let result = self.check_dir(path).map(|()| {
            let names = self.names.borrow();
            let files = names.live.keys().filter(|file| parent_of(file) == path);
            let dirs = names.dirs.iter().filter(|dir| dir.parent() == Some(path));
            let mut listed: Vec<PathBuf> = files.chain(dirs).cloned().collect();
            listed.sort();
            listed
        });
        Box::pin(async move { result })
    }

    fn read_file(&self, path: &Path) -> IoFuture<'_, Option<Vec<u8>>> {
        let contents = self
            .names
            .borrow()
            .live
            .get(path)
            .map(|inode| inode.data.borrow().clone());
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
        self.names.borrow_mut().live.remove(path);
        Box::pin(async { Ok(()) })
    }

    fn remove_dir_all(&self, path: &Path) -> IoFuture<'_, ()> {
        let mut names = self.names.borrow_mut();
        names.live.retain(|file, _| !file.starts_with(path));
        names.durable.retain(|file, _| !file.starts_with(path));
        names.dirs.retain(|dir| !dir.starts_with(path));
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
        if (data.len() as u64) < end {
            data.resize(end as usize, 0);
        }
        data[position as usize..end as usize].copy_from_slice(buf.as_bytes());
        assert_eq!(&data[position as usize..end as usize], buf.as_bytes());
        Ok(buf.len())
    }

    fn set_len(&self, len: u64, grow_only: bool) -> io::Result<()> {
        check_file_bytes(len)?;
        let mut data = self.inode.data.borrow_mut();
        if !grow_only || len > data.len() as u64 {
            data.resize(len as usize, 0);
        }
        assert!(data.len() as u64 >= len);
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
        let start = (position.min(data.len() as u64)) as usize;
        let end = start + len.min(data.len() - start);
        let read = data[start..end].to_vec();
        Box::pin(async move { Ok(read) })
    }

    fn fdatasync(&self) -> IoFuture<'_, ()> {
        let data = self.inode.data.borrow();
        let mut synced = self.inode.synced.borrow_mut();
        synced.clear();
        synced.extend_from_slice(&data);
        assert_eq!(synced.len(), data.len());
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
        let len = self.inode.data.borrow().len() as u64;
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
        let data = self.inode.data.borrow();
        let start = (position.min(data.len() as u64)) as usize;
        let len = buf.len().min(data.len() - start);
        buf[..len].copy_from_slice(&data[start..start + len]);
        Ok(len)
    }

    fn std_file(&self) -> Option<&std::fs::File> {
        None
    }
}
