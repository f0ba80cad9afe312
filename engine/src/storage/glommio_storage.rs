//! The real storage: glommio `DmaFile`s (O_DIRECT over io_uring) for segments, std::fs for the
//! small metadata files (checkpoints and sealed indexes are written rarely and are tiny), and
//! buffered `std::fs::File`s for the read path (page cache, and a real fd to sendfile).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use glommio::io::{DmaBuffer, DmaFile, OpenOptions};

use super::{IoFuture, SegmentFile, SegmentReader, Storage};

/// Storage on the local filesystem.
#[derive(Debug, Default)]
pub struct GlommioStorage;

fn gio(err: glommio::GlommioError<()>) -> io::Error {
    io::Error::from(err)
}

impl Storage for GlommioStorage {
    fn open_segment(&self, path: &Path, create: bool) -> IoFuture<'_, Rc<dyn SegmentFile>> {
        let path = path.to_path_buf();
        Box::pin(async move {
            prime_iopoll_probe(&path).await?;
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(create)
                .dma_open(&path)
                .await
                .map_err(gio)?;
            let file: Rc<dyn SegmentFile> = Rc::new(GlommioSegmentFile { file, path });
            Ok(file)
        })
    }

    fn create_dir_all(&self, path: &Path) -> IoFuture<'_, ()> {
        let result = std::fs::create_dir_all(path);
        Box::pin(async move { result })
    }

    fn list_dir(&self, path: &Path) -> IoFuture<'_, Vec<PathBuf>> {
        let result = (|| {
            let mut names = Vec::new();
            for entry in std::fs::read_dir(path)? {
                names.push(entry?.path());
            }
            names.sort();
            Ok(names)
        })();
        Box::pin(async move { result })
    }

    fn read_file(&self, path: &Path) -> IoFuture<'_, Option<Vec<u8>>> {
        let result = match std::fs::read(path) {
            Ok(data) => Ok(Some(data)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        };
        Box::pin(async move { result })
    }

    fn write_file_atomic(&self, path: &Path, data: Vec<u8>, sync: bool) -> IoFuture<'_, ()> {
        let result = (|| {
            let tmp = tmp_path(path);
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&data)?;
            if sync {
                file.sync_data()?;
            }
            drop(file);
            std::fs::rename(&tmp, path)?;
            if sync {
                // Without this a power loss could bring back the previous file.
                let dir = path.parent().unwrap_or(Path::new("."));
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        })();
        Box::pin(async move { result })
    }

    fn rename(&self, from: &Path, to: &Path) -> IoFuture<'_, ()> {
        let result = std::fs::rename(from, to);
        Box::pin(async move { result })
    }

    fn remove_file(&self, path: &Path) -> IoFuture<'_, ()> {
        let result = match std::fs::remove_file(path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        };
        Box::pin(async move { result })
    }

    fn remove_dir_all(&self, path: &Path) -> IoFuture<'_, ()> {
        // Unlinking large files (and discarding their blocks) can take seconds: off the reactor.
        let path = path.to_path_buf();
        Box::pin(async move {
            glommio::executor()
                .spawn_blocking(move || match std::fs::remove_dir_all(&path) {
                    Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
                    other => other,
                })
                .await
        })
    }

    fn sync_dir(&self, path: &Path) -> IoFuture<'_, ()> {
        let result = std::fs::File::open(path).and_then(|dir| dir.sync_all());
        Box::pin(async move { result })
    }

    fn open_reader(&self, path: &Path) -> io::Result<Rc<dyn SegmentReader>> {
        let file = std::fs::File::open(path)?;
        let reader: Rc<dyn SegmentReader> = Rc::new(FileReader(Arc::new(file)));
        Ok(reader)
    }
}

/// A buffered read-only fd of a segment (shared with the blocking pool for readahead).
#[derive(Debug)]
struct FileReader(Arc<std::fs::File>);

impl SegmentReader for FileReader {
    fn read_at(&self, buf: &mut [u8], position: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&*self.0, buf, position)
    }

    fn std_file(&self) -> Option<&std::fs::File> {
        Some(&self.0)
    }

    /// `posix_fadvise(WILLNEED)` on the blocking pool: it submits the reads and returns without
    /// waiting for them, but submitting can itself wait (a full device queue, extent lookups),
    /// and the reactor must not.
    fn will_need(&self, position: u64, len: u64) {
        let file = self.0.clone();
        let advise = glommio::executor().spawn_blocking(move || {
            use std::os::fd::AsRawFd;
            // SAFETY: fadvise on a descriptor kept open by `file`; no pointers involved.
            unsafe {
                libc::posix_fadvise(
                    file.as_raw_fd(),
                    position as libc::off_t,
                    len as libc::off_t,
                    libc::POSIX_FADV_WILLNEED,
                )
            }
        });
        glommio::spawn_local(async move {
            // Advice only: a failure costs the readahead, and the read that follows reads the
            // bytes itself (and reports its own errors).
            let code = advise.await;
            if code != 0 {
                tracing::debug!("readahead advice failed: errno {code}");
            }
        })
        .detach();
    }
}

thread_local! {
    /// Devices whose iopoll probe glommio has already cached in this process.
    static PROBED_DEVICES: std::cell::RefCell<std::collections::HashSet<u64>> =
        std::cell::RefCell::new(std::collections::HashSet::new());
}

/// glommio probes iopoll support with a DMA read at offset 0 of the first file it opens on a
/// device, and caches the answer per device for the process. On an empty file that read
/// "succeeds" with 0 bytes, so glommio wrongly enables the poll ring, and every later DMA read
/// on a device without poll queues fails with EOPNOTSUPP. We make the first probe on each
/// device hit a one-block file, so it gets the true answer. The file is named `*.tmp`, which
/// recovery removes if a crash leaves it behind.
async fn prime_iopoll_probe(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let device = std::fs::metadata(dir)?.dev();
    if PROBED_DEVICES.with(|probed| probed.borrow().contains(&device)) {
        return Ok(());
    }
    let probe_path = dir.join(".iopoll-probe.tmp");
    std::fs::write(&probe_path, vec![0u8; BLOCK_BYTES_PROBE])?;
    let opened = OpenOptions::new().read(true).dma_open(&probe_path).await;
    let removed = std::fs::remove_file(&probe_path);
    let file = opened.map_err(gio)?;
    file.close().await.map_err(gio)?;
    removed?;
    PROBED_DEVICES.with(|probed| probed.borrow_mut().insert(device));
    Ok(())
}

const BLOCK_BYTES_PROBE: usize = 4096;

/// `<path>.tmp`: the name every atomic write goes through; recovery deletes leftovers.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".tmp");
    PathBuf::from(name)
}

struct GlommioSegmentFile {
    file: DmaFile,
    path: PathBuf,
}

impl SegmentFile for GlommioSegmentFile {
    fn alloc_buffer(&self, len: usize) -> DmaBuffer {
        self.file.alloc_dma_buffer(len)
    }

    fn write_at(&self, buf: Rc<DmaBuffer>, position: u64) -> IoFuture<'_, usize> {
        Box::pin(async move { self.file.write_rc_at(buf, position).await.map_err(gio) })
    }

    fn read_at(&self, position: u64, len: usize) -> IoFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let result = self.file.read_at(position, len).await.map_err(gio)?;
            Ok(result.to_vec())
        })
    }

    fn fdatasync(&self) -> IoFuture<'_, ()> {
        Box::pin(async move { self.file.fdatasync().await.map_err(gio) })
    }

    fn truncate(&self, len: u64) -> IoFuture<'_, ()> {
        Box::pin(async move { self.file.truncate(len).await.map_err(gio) })
    }

    fn preallocate(&self, len: u64) -> IoFuture<'_, ()> {
        Box::pin(async move { self.file.pre_allocate(len, false).await.map_err(gio) })
    }

    fn file_size(&self) -> IoFuture<'_, u64> {
        Box::pin(async move { self.file.file_size().await.map_err(gio) })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}
