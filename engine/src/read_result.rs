//! What a read returns: whole batches, as cached `Bytes` or as file ranges for sendfile.

use std::io;
use std::os::unix::fs::FileExt;
use std::rc::Rc;

use bytes::Bytes;

use crate::storage::SegmentReader;

/// The result of `PartitionLog::append`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset of the first record appended.
    pub base_offset: i64,
    /// Offset of the last record appended.
    pub last_offset: i64,
    /// Broker append time when the topic uses LogAppendTime, else -1.
    pub log_append_time_ms: i64,
    /// Largest batch max timestamp among the appended batches.
    pub max_timestamp_ms: i64,
}

/// Whole batches read from a partition log, in offset order.
#[derive(Debug, Clone)]
pub struct ReadResult {
    /// The data; concatenated, these are whole RecordBatch v2 batches.
    pub chunks: Vec<ReadChunk>,
    /// Total length of `chunks`.
    pub bytes: u32,
    pub log_start_offset: i64,
    pub log_end_offset: i64,
    /// The offset after the returned data: the base offset of the first batch left out, or
    /// the read's offset limit (capped at the log end) when nothing was left out. A
    /// read_committed fetch collects aborted transactions up to it.
    pub next_offset: i64,
}

/// A piece of a read.
#[derive(Debug, Clone)]
pub enum ReadChunk {
    /// Zero-copy bytes from the batch cache (send with writev).
    Cached(Bytes),
    /// Cold data: a range of a segment file (send with sendfile/splice when it has a real fd).
    File(FileRange),
}

/// A byte range of a segment file. The reader stays valid even if the segment is deleted
/// meanwhile.
#[derive(Debug, Clone)]
pub struct FileRange {
    /// The segment's read-path handle: on real storage a buffered (not O_DIRECT) read-only fd
    /// (`file.std_file()`), on in-memory storage none.
    pub file: Rc<dyn SegmentReader>,
    pub position: u64,
    pub len: u32,
}

impl FileRange {
    /// A dup of the segment's fd for sendfile, or `None` when the storage has no real fd (then
    /// copy the range with `ReadChunk::to_bytes`).
    pub fn try_clone_fd(&self) -> io::Result<Option<std::fs::File>> {
        self.file
            .std_file()
            .map(std::fs::File::try_clone)
            .transpose()
    }
}

impl ReadChunk {
    /// Length in bytes.
    pub fn len(&self) -> u32 {
        match self {
            // Cached chunks are whole batches, each bounded by BATCH_BYTES_MAX.
            ReadChunk::Cached(bytes) => bytes.len() as u32,
            ReadChunk::File(range) => range.len,
        }
    }

    /// True when the chunk holds no bytes (never produced by the engine).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the chunk into memory (fallback for paths that cannot sendfile). File reads run on
    /// glommio's blocking thread pool so the reactor never blocks.
    pub async fn to_bytes(&self) -> io::Result<Bytes> {
        match self {
            ReadChunk::Cached(bytes) => Ok(bytes.clone()),
            ReadChunk::File(range) => {
                let position = range.position;
                let len = range.len as usize;
                let Some(file) = range.try_clone_fd()? else {
                    // In-memory storage: a plain copy, nothing can block.
                    let mut buf = vec![0u8; len];
                    range.file.read_exact_at(&mut buf, position)?;
                    return Ok(Bytes::from(buf));
                };
                let read = move || -> io::Result<Vec<u8>> {
                    let mut buf = vec![0u8; len];
                    file.read_exact_at(&mut buf, position)?;
                    Ok(buf)
                };
                let buf = glommio::executor().spawn_blocking(read).await?;
                Ok(Bytes::from(buf))
            }
        }
    }
}
