//! The cleaner's file I/O: reading the batches of a sealed segment in large windows, and
//! writing a `.cleaned` file with aligned O_DIRECT writes. Both go through the storage seam.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::batch::{self, BatchHeader, CountRule};
use crate::error::LogError;
use crate::limits::{BATCH_BYTES_MAX, BLOCK_BYTES, SCAN_READ_BYTES};
use crate::segment::appender::{align_down, align_up};
use crate::segment::SegmentIndex;
use crate::storage::{SegmentFile, Storage};

/// Bytes the cleaner's writer gathers before one O_DIRECT write.
pub const CLEANED_WRITE_BYTES: usize = 1024 * 1024;
const _: () = assert!((CLEANED_WRITE_BYTES as u64).is_multiple_of(BLOCK_BYTES));

fn io(context: &str, path: &Path) -> impl FnOnce(std::io::Error) -> LogError {
    let context = format!("{context} {}", path.display());
    move |err| LogError::io(context, err)
}

/// Reads the batches of a sealed segment in order, each checked (length, magic, counts,
/// CRC-32C, offsets increasing) before it is handed out.
pub(crate) struct BatchReader {
    file: Rc<dyn SegmentFile>,
    size_bytes: u64,
    window: Vec<u8>,
    window_position: u64,
    position: u64,
    next_offset_min: i64,
    /// The current batch: its header and where it is in `window`.
    current: Option<(BatchHeader, usize)>,
}

impl BatchReader {
    pub(crate) async fn open(
        storage: &dyn Storage,
        path: &Path,
        size_bytes: u64,
        base_offset: i64,
    ) -> Result<BatchReader, LogError> {
        let file = storage
            .open_segment(path, false)
            .await
            .map_err(io("opening", path))?;
        Ok(BatchReader {
            file,
            size_bytes,
            window: Vec::new(),
            window_position: 0,
            position: 0,
            next_offset_min: base_offset,
            current: None,
        })
    }

    async fn cover(&mut self, len: usize) -> Result<(), LogError> {
        let window_end = self.window_position + self.window.len() as u64;
        if self.position >= self.window_position && self.position + len as u64 <= window_end {
            return Ok(());
        }
        let read_len = len.max(SCAN_READ_BYTES);
        self.window = self
            .file
            .read_at(self.position, read_len)
            .await
            .map_err(io("reading", self.file.path()))?;
        self.window_position = self.position;
        if self.window.len() < len {
            return Err(LogError::Corrupt {
                detail: format!(
                    "{} ends inside a batch at {}",
                    self.file.path().display(),
                    self.position
                ),
            });
        }
        Ok(())
    }

    /// The next batch's header; `None` at the end of the segment. Its bytes are `bytes()`.
    pub(crate) async fn next(&mut self) -> Result<Option<BatchHeader>, LogError> {
        if let Some((header, _)) = self.current.take() {
            self.position += header.total_bytes() as u64;
        }
        assert!(self.position <= self.size_bytes);
        if self.position == self.size_bytes {
            return Ok(None);
        }
        let path = self.file.path().to_path_buf();
        let corrupt = |detail: String| LogError::Corrupt {
            detail: format!("{}: {detail}", path.display()),
        };
        self.cover(batch::HEADER_BYTES).await?;
        let at = (self.position - self.window_position) as usize;
        let header = batch::parse_header(&self.window[at..])
            .map_err(|err| corrupt(format!("at {}: {err}", self.position)))?;
        let total = header.total_bytes();
        if total > BATCH_BYTES_MAX as usize || self.position + total as u64 > self.size_bytes {
            return Err(corrupt(format!(
                "batch at {} runs past the end",
                self.position
            )));
        }
        self.cover(total).await?;
        let at = (self.position - self.window_position) as usize;
        let checked = batch::validate(&self.window[at..at + total], CountRule::Compacted)
            .map_err(|err| corrupt(format!("at {}: {err}", self.position)))?;
        if checked.base_offset < self.next_offset_min {
            return Err(corrupt(format!(
                "offsets go backwards at {}",
                self.position
            )));
        }
        self.next_offset_min = checked.next_offset();
        self.current = Some((checked, at));
        Ok(Some(checked))
    }

    /// The bytes of the batch `next` returned last.
    pub(crate) fn bytes(&self) -> &[u8] {
        let Some((header, at)) = &self.current else {
            panic!("BatchReader::bytes called without a current batch");
        };
        &self.window[*at..*at + header.total_bytes()]
    }
}

/// Writes a cleaned segment: whole batches appended in offset order, written in aligned
/// chunks, indexed as they go. `finish` truncates the file to its logical size and fdatasyncs
/// it; only then may it be committed.
pub(crate) struct CleanedWriter {
    file: Rc<dyn SegmentFile>,
    path: PathBuf,
    /// Bytes not yet written, starting at the aligned position `written_bytes`.
    pending: Vec<u8>,
    written_bytes: u64,
    size_bytes: u64,
    size_bytes_max: u64,
    next_offset: i64,
    interval_bytes: u32,
    pub(crate) index: SegmentIndex,
}

impl CleanedWriter {
    /// Creates `path` (replacing a leftover) with room for `size_bytes_max` bytes.
    pub(crate) async fn create(
        storage: &dyn Storage,
        path: PathBuf,
        base_offset: i64,
        size_bytes_max: u64,
        interval_bytes: u32,
    ) -> Result<CleanedWriter, LogError> {
        storage
            .remove_file(&path)
            .await
            .map_err(io("removing", &path))?;
        let file = storage
            .open_segment(&path, true)
            .await
            .map_err(io("creating", &path))?;
        if size_bytes_max > 0 {
            file.preallocate(align_up(size_bytes_max))
                .await
                .map_err(io("pre-allocating", &path))?;
        }
        Ok(CleanedWriter {
            file,
            path,
            pending: Vec::with_capacity(CLEANED_WRITE_BYTES + BLOCK_BYTES as usize),
            written_bytes: 0,
            size_bytes: 0,
            size_bytes_max,
            next_offset: base_offset,
            interval_bytes,
            index: SegmentIndex::new(base_offset),
        })
    }

    pub(crate) fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    pub(crate) fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Appends one whole, valid batch.
    pub(crate) async fn append(&mut self, bytes: &[u8]) -> Result<(), LogError> {
        let header =
            batch::validate(bytes, CountRule::Compacted).map_err(|err| LogError::Corrupt {
                detail: format!("cleaner output batch is invalid: {err}"),
            })?;
        assert!(
            header.base_offset >= self.next_offset,
            "cleaned batches stay in order"
        );
        assert!(self.size_bytes + bytes.len() as u64 <= self.size_bytes_max);
        self.index
            .observe(&header, self.size_bytes, self.interval_bytes);
        self.pending.extend_from_slice(bytes);
        self.size_bytes += bytes.len() as u64;
        self.next_offset = header.next_offset();
        if self.pending.len() >= CLEANED_WRITE_BYTES {
            let aligned = align_down(self.pending.len() as u64) as usize;
            self.write(aligned).await?;
        }
        Ok(())
    }

    /// Writes the first `len` pending bytes (a multiple of the block, or everything padded).
    async fn write(&mut self, len: usize) -> Result<(), LogError> {
        let padded = align_up(len as u64) as usize;
        let mut buffer = self.file.alloc_buffer(padded);
        let bytes = buffer.as_bytes_mut();
        bytes[..len].copy_from_slice(&self.pending[..len]);
        bytes[len..].fill(0);
        let written = self
            .file
            .write_at(Rc::new(buffer), self.written_bytes)
            .await
            .map_err(io("writing", &self.path))?;
        if written != padded {
            return Err(LogError::io(
                format!(
                    "writing {}: short write {written} of {padded}",
                    self.path.display()
                ),
                std::io::Error::from(std::io::ErrorKind::WriteZero),
            ));
        }
        self.pending.drain(..len);
        self.written_bytes += len as u64;
        Ok(())
    }

    /// Writes the rest, truncates to the logical size and fdatasyncs. Returns the file's path.
    pub(crate) async fn finish(mut self) -> Result<PathBuf, LogError> {
        if !self.pending.is_empty() {
            let len = self.pending.len();
            self.write(len).await?;
        }
        assert_eq!(self.written_bytes, self.size_bytes);
        self.file
            .truncate(self.size_bytes)
            .await
            .map_err(io("truncating", &self.path))?;
        self.file
            .fdatasync()
            .await
            .map_err(io("syncing", &self.path))?;
        let physical = self
            .file
            .file_size()
            .await
            .map_err(io("sizing", &self.path))?;
        assert_eq!(
            physical, self.size_bytes,
            "cleaned file has its logical size"
        );
        Ok(self.path)
    }
}
