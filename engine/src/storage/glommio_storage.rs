//! The real storage: glommio `DmaFile`s (O_DIRECT over io_uring) for segments, std::fs for the
//! small metadata files (checkpoints and sealed indexes are written rarely and are tiny).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::{DmaBuffer, DmaFile, OpenOptions};

use super::{IoFuture, SegmentFile, Storage};

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
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(create)
                .dma_open(&path)
                .await
                .map_err(gio)?;
            let file: Rc<dyn SegmentFile> = Rc::new(GlommioSegmentFile {
                file,
                path,
                reader: Default::default(),
            });
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
            std::fs::rename(&tmp, path)
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
        let result = match std::fs::remove_dir_all(path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        };
        Box::pin(async move { result })
    }

    fn sync_dir(&self, path: &Path) -> IoFuture<'_, ()> {
        let result = std::fs::File::open(path).and_then(|dir| dir.sync_all());
        Box::pin(async move { result })
    }
}

/// `<path>.tmp`: the name every atomic write goes through; recovery deletes leftovers.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".tmp");
    PathBuf::from(name)
}

struct GlommioSegmentFile {
    file: DmaFile,
    path: PathBuf,
    reader: std::cell::RefCell<Option<Rc<std::fs::File>>>,
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
        Box::pin(async move { self.file.pre_allocate(len, true).await.map_err(gio) })
    }

    fn file_size(&self) -> IoFuture<'_, u64> {
        Box::pin(async move { self.file.file_size().await.map_err(gio) })
    }

    fn buffered_reader(&self) -> io::Result<Rc<std::fs::File>> {
        let mut reader = self.reader.borrow_mut();
        if let Some(file) = reader.as_ref() {
            return Ok(file.clone());
        }
        let file = Rc::new(std::fs::File::open(&self.path)?);
        *reader = Some(file.clone());
        Ok(file)
    }

    fn path(&self) -> &Path {
        &self.path
    }
}
