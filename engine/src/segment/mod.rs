//! A segment: one `<base_offset:020>.log` file of verbatim batches plus its in-memory indexes.
//! Sealed segments are immutable; the active one (the last) is written by its `SegmentAppender`.

pub(crate) mod appender;
pub(crate) mod index;
mod scan;

use std::cell::{Cell, RefCell};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub(crate) use appender::SegmentAppender;
pub(crate) use index::{SegmentIndex, SegmentSummary};
pub(crate) use scan::scan_segment;

use crate::error::LogError;
use crate::storage::{SegmentReader, Storage};

/// Suffixes of the files of a segment.
pub(crate) const LOG_SUFFIX: &str = "log";
pub(crate) const INDEX_SUFFIX: &str = "index";
pub(crate) const TIME_INDEX_SUFFIX: &str = "timeindex";

/// `<dir>/<base_offset:020>.<suffix>`.
pub(crate) fn segment_path(dir: &Path, base_offset: i64, suffix: &str) -> PathBuf {
    dir.join(format!("{base_offset:020}.{suffix}"))
}

/// Parses `<base_offset:020>.log` names.
pub(crate) fn parse_base_offset(name: &str, suffix: &str) -> Option<i64> {
    let stem = name.strip_suffix(suffix)?.strip_suffix('.')?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// One segment of a partition log. Lives on the partition's shard.
pub(crate) struct Segment {
    pub base_offset: i64,
    pub dir: PathBuf,
    pub index: RefCell<SegmentIndex>,
    size_bytes: Cell<u64>,
    next_offset: Cell<i64>,
    /// When the segment took its first batch (broker clock), for `segment.ms`.
    pub created_ms: Cell<i64>,
    reader: RefCell<Option<Rc<dyn SegmentReader>>>,
}

impl Segment {
    pub(crate) fn new(
        dir: &Path,
        index: SegmentIndex,
        size_bytes: u64,
        next_offset: i64,
        now_ms: i64,
    ) -> Rc<Self> {
        assert!(next_offset >= index.base_offset);
        Rc::new(Segment {
            base_offset: index.base_offset,
            dir: dir.to_path_buf(),
            index: RefCell::new(index),
            size_bytes: Cell::new(size_bytes),
            next_offset: Cell::new(next_offset),
            created_ms: Cell::new(now_ms),
            reader: RefCell::new(None),
        })
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        segment_path(&self.dir, self.base_offset, LOG_SUFFIX)
    }

    pub(crate) fn size_bytes(&self) -> u64 {
        self.size_bytes.get()
    }

    pub(crate) fn next_offset(&self) -> i64 {
        self.next_offset.get()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.size_bytes.get() == 0
    }

    pub(crate) fn max_timestamp(&self) -> i64 {
        self.index.borrow().max_timestamp
    }

    /// Records an appended batch (the bytes are already handed to the appender).
    pub(crate) fn record_append(&self, header: &crate::batch::BatchHeader, interval_bytes: u32) {
        let position = self.size_bytes.get();
        assert!(header.base_offset >= self.next_offset.get());
        self.index
            .borrow_mut()
            .observe(header, position, interval_bytes);
        self.size_bytes.set(position + header.total_bytes() as u64);
        self.next_offset.set(header.next_offset());
    }

    /// Resets size and end after truncation or recovery.
    pub(crate) fn reset(&self, index: SegmentIndex, size_bytes: u64, next_offset: i64) {
        assert_eq!(index.base_offset, self.base_offset);
        *self.index.borrow_mut() = index;
        self.size_bytes.set(size_bytes);
        self.next_offset.set(next_offset);
        self.reader.borrow_mut().take();
    }

    /// The read-path handle of the log file (a buffered fd on real storage), opened through
    /// `storage` on first use; stays valid if the file is deleted.
    pub(crate) fn reader(&self, storage: &dyn Storage) -> Result<Rc<dyn SegmentReader>, LogError> {
        let mut reader = self.reader.borrow_mut();
        if let Some(file) = reader.as_ref() {
            return Ok(file.clone());
        }
        let path = self.log_path();
        let file = storage
            .open_reader(&path)
            .map_err(|err| LogError::io(format!("opening {}", path.display()), err))?;
        *reader = Some(file.clone());
        Ok(file)
    }

    /// Sets the read-path handle to an already open file (the cleaner opens it on the `.swap`
    /// name, before the rename that gives the segment its `.log` name).
    pub(crate) fn set_reader(&self, reader: Rc<dyn SegmentReader>) {
        *self.reader.borrow_mut() = Some(reader);
    }

    /// Drops the cached read fd (before the file is renamed or truncated).
    pub(crate) fn close_reader(&self) {
        self.reader.borrow_mut().take();
    }

    pub(crate) fn summary(&self) -> SegmentSummary {
        let index = self.index.borrow();
        SegmentSummary {
            size_bytes: self.size_bytes.get(),
            next_offset: self.next_offset.get(),
            max_timestamp: index.max_timestamp,
            max_timestamp_offset: index.max_timestamp_offset,
        }
    }

    /// Writes `.index` and `.timeindex` (atomic rename, not fsynced: they are rebuildable).
    pub(crate) async fn store_index(&self, storage: &dyn Storage) -> Result<(), LogError> {
        let (offsets, times) = self.index.borrow().encode(&self.summary());
        let offsets_path = segment_path(&self.dir, self.base_offset, INDEX_SUFFIX);
        let times_path = segment_path(&self.dir, self.base_offset, TIME_INDEX_SUFFIX);
        write_atomic(storage, &offsets_path, offsets).await?;
        write_atomic(storage, &times_path, times).await
    }
}

async fn write_atomic(storage: &dyn Storage, path: &Path, data: Vec<u8>) -> Result<(), LogError> {
    storage
        .write_file_atomic(path, data, false)
        .await
        .map_err(|err| LogError::io(format!("writing {}", path.display()), err))
}

/// Loads a sealed segment's index files; `None` if missing or invalid.
pub(crate) async fn load_index(
    storage: &dyn Storage,
    dir: &Path,
    base_offset: i64,
) -> Result<Option<(SegmentIndex, SegmentSummary)>, LogError> {
    let read = |suffix: &'static str| {
        let path = segment_path(dir, base_offset, suffix);
        async move {
            storage
                .read_file(&path)
                .await
                .map_err(|err| LogError::io(format!("reading {}", path.display()), err))
        }
    };
    let Some(offsets) = read(INDEX_SUFFIX).await? else {
        return Ok(None);
    };
    let Some(times) = read(TIME_INDEX_SUFFIX).await? else {
        return Ok(None);
    };
    Ok(SegmentIndex::decode(base_offset, &offsets, &times))
}

/// Reads the batch header at `position` through a read-path handle (index cross-checks).
pub(crate) fn read_header_at(
    file: &dyn SegmentReader,
    position: u64,
) -> io::Result<Option<crate::batch::BatchHeader>> {
    let mut buf = [0u8; crate::batch::HEADER_BYTES];
    match file.read_exact_at(&mut buf, position) {
        Ok(()) => Ok(crate::batch::parse_header(&buf).ok()),
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(err) => Err(err),
    }
}
