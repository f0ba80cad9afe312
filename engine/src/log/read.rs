//! The fetch path: whole batches from the batch containing an offset, as cached `Bytes` or as
//! file ranges for sendfile; and timestamp lookups.
//!
//! Batches are found by binary search over segment base offsets, then the sparse offset index,
//! then a forward scan of batch headers through the segment's reader (on real storage a
//! buffered fd, which also warms the page cache for the sendfile that follows). Data not yet
//! written to the file is always in the batch cache (pinned), so the file is read only below the
//! first cached offset.

use std::io;
use std::rc::Rc;

use super::PartitionLog;
use crate::batch::{self, BatchHeader};
use crate::error::{LogError, ReadError};
use crate::read_result::{FileRange, ReadChunk, ReadResult};
use crate::segment::Segment;
use crate::storage::SegmentReader;

/// Bytes read at a time when scanning batch headers through the segment's reader (just the
/// header after a batch of `LARGE_BATCH_BYTES` or more).
const HEADER_WINDOW_BYTES: usize = 16 * 1024;
const _: () = assert!(HEADER_WINDOW_BYTES >= batch::HEADER_BYTES);
/// Batches of this size or more have their headers read one by one: a window would hold at most
/// four of them, and copying the bytes between costs more than the syscalls it saves.
const LARGE_BATCH_BYTES: u64 = 4 * 1024;
const _: () = assert!(LARGE_BATCH_BYTES as usize <= HEADER_WINDOW_BYTES / 2);

/// Where a visited batch is.
pub(crate) enum Located<'a> {
    File {
        segment: &'a Rc<Segment>,
        position: u64,
    },
    Cached(&'a crate::batch_cache::CachedBatch),
}

/// The parts of a batch header the read path needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchMeta {
    pub base_offset: i64,
    pub max_timestamp: i64,
    pub size_bytes: u32,
}

impl From<&BatchHeader> for BatchMeta {
    fn from(header: &BatchHeader) -> Self {
        BatchMeta {
            base_offset: header.base_offset,
            max_timestamp: header.max_timestamp,
            size_bytes: header.total_bytes() as u32,
        }
    }
}

struct HeaderWindow<'a> {
    file: &'a dyn SegmentReader,
    data: Vec<u8>,
    position: u64,
    /// Position of the header read last: the distance to the next one is a batch's size.
    header_last: Option<u64>,
}

impl HeaderWindow<'_> {
    fn header_at(&mut self, position: u64) -> io::Result<Option<BatchHeader>> {
        let covered = position >= self.position
            && position + batch::HEADER_BYTES as u64 <= self.position + self.data.len() as u64;
        if !covered {
            // After a large batch, read just the next header: a window copies every byte it
            // covers, so over large batches it copies the whole segment into memory (cold fetches
            // spent most of the shard's time there) to parse 61 bytes of each batch; it saves
            // syscalls only when it holds several headers.
            let after_large_batch = self
                .header_last
                .is_some_and(|last| position >= last + LARGE_BATCH_BYTES);
            let read_bytes = if after_large_batch {
                batch::HEADER_BYTES
            } else {
                HEADER_WINDOW_BYTES
            };
            self.data.resize(read_bytes, 0);
            let mut filled = 0;
            while filled < read_bytes {
                let n = self
                    .file
                    .read_at(&mut self.data[filled..], position + filled as u64)?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            self.data.truncate(filled);
            self.position = position;
        }
        let start = (position - self.position) as usize;
        if start + batch::HEADER_BYTES > self.data.len() {
            return Ok(None);
        }
        self.header_last = Some(position);
        Ok(batch::parse_header(&self.data[start..start + batch::HEADER_BYTES]).ok())
    }
}

impl PartitionLog {
    /// Visits batches in offset order from the one containing `from`, in the files below the
    /// first cached offset and in the cache above it, until `visit` returns false.
    pub(crate) fn visit_batches(
        &self,
        from: i64,
        mut visit: impl FnMut(BatchMeta, Located<'_>) -> bool,
    ) -> Result<(), LogError> {
        let file_end = self
            .cache
            .first_offset()
            .unwrap_or(self.log_end_offset.get());
        let mut cursor = from;
        if cursor < file_end {
            let segments: Vec<Rc<Segment>> = self.segments.borrow().clone();
            let mut i = segments
                .partition_point(|segment| segment.base_offset <= cursor)
                .saturating_sub(1);
            while i < segments.len() && cursor < file_end {
                let segment = &segments[i];
                let (_, mut position) = segment.index.borrow().position_for(cursor);
                let size = segment.size_bytes();
                let reader = segment.reader(&*self.storage)?;
                let mut window = HeaderWindow {
                    file: &*reader,
                    data: Vec::new(),
                    position: 0,
                    header_last: None,
                };
                while position < size && cursor < file_end {
                    let header = window
                        .header_at(position)
                        .map_err(|err| {
                            LogError::io(format!("reading {}", segment.log_path().display()), err)
                        })?
                        .ok_or_else(|| LogError::Corrupt {
                            detail: format!(
                                "no valid batch at {} in {}",
                                position,
                                segment.log_path().display()
                            ),
                        })?;
                    if header.last_offset() >= cursor {
                        let location = Located::File { segment, position };
                        if !visit(BatchMeta::from(&header), location) {
                            return Ok(());
                        }
                        cursor = header.next_offset();
                    }
                    position += header.total_bytes() as u64;
                }
                i += 1;
            }
        }
        let mut stopped = false;
        self.cache.visit_from(cursor, |cached| {
            let meta = BatchMeta {
                base_offset: cached.base_offset,
                max_timestamp: cached.max_timestamp,
                size_bytes: cached.len() as u32,
            };
            stopped = !visit(meta, Located::Cached(cached));
            !stopped
        });
        Ok(())
    }

    /// Reads whole batches starting at the batch containing `offset`, up to `max_bytes` but
    /// always at least one batch (even if larger), never returning batches that start at or
    /// above `offset_limit` (e.g. the high watermark). An offset equal to the log end (or the
    /// limit) gives an empty result; below the log start or above the end, `OffsetOutOfRange`.
    pub async fn read(
        &self,
        offset: i64,
        max_bytes: u32,
        offset_limit: i64,
    ) -> Result<ReadResult, ReadError> {
        self.check_open()?;
        let log_start_offset = self.log_start_offset.get();
        let log_end_offset = self.log_end_offset.get();
        if offset < log_start_offset || offset > log_end_offset {
            return Err(ReadError::OffsetOutOfRange {
                offset,
                log_start_offset,
                log_end_offset,
            });
        }
        let limit = offset_limit.min(log_end_offset);
        let mut next_offset = limit.max(offset);
        let mut chunks: Vec<ReadChunk> = Vec::new();
        let mut bytes = 0u32;
        let mut error = None;
        // Where the read stopped inside a segment file for lack of room: readahead starts there.
        let mut stopped_in_file: Option<(Rc<Segment>, u64)> = None;
        if offset < limit {
            let visited = self.visit_batches(offset, |meta, location| {
                if meta.base_offset >= limit {
                    return false;
                }
                let fits = bytes as u64 + meta.size_bytes as u64 <= max_bytes as u64;
                if !fits && !chunks.is_empty() {
                    next_offset = meta.base_offset.max(offset);
                    if let Located::File { segment, position } = location {
                        stopped_in_file = Some((segment.clone(), position));
                    }
                    return false;
                }
                bytes += meta.size_bytes;
                match location {
                    Located::Cached(cached) => {
                        chunks.push(ReadChunk::Cached(cached.head.clone()));
                        if !cached.body.is_empty() {
                            chunks.push(ReadChunk::Cached(cached.body.clone()));
                        }
                    }
                    Located::File { segment, position } => {
                        // Consecutive batches of one segment merge into one range.
                        if let Some(ReadChunk::File(range)) = chunks.last_mut() {
                            if range.position + range.len as u64 == position
                                && segment
                                    .reader(&*self.storage)
                                    .is_ok_and(|reader| Rc::ptr_eq(&reader, &range.file))
                            {
                                range.len += meta.size_bytes;
                                return true;
                            }
                        }
                        match segment.reader(&*self.storage) {
                            Ok(file) => chunks.push(ReadChunk::File(FileRange {
                                file,
                                position,
                                len: meta.size_bytes,
                            })),
                            Err(err) => {
                                error = Some(err);
                                return false;
                            }
                        }
                    }
                }
                true
            });
            visited?;
            if let Some(err) = error {
                return Err(err.into());
            }
        }
        if let Some((segment, position)) = stopped_in_file {
            self.read_ahead(&segment, position, max_bytes);
        }
        Ok(ReadResult {
            chunks,
            bytes,
            log_start_offset,
            log_end_offset,
            next_offset,
        })
    }

    /// First batch whose max timestamp is >= `ts`: returns (its base offset, but not below the
    /// log start; its max timestamp). `None` if no batch has such a timestamp.
    pub async fn offset_for_timestamp(&self, ts: i64) -> Result<Option<(i64, i64)>, LogError> {
        self.check_open()?;
        let start = {
            let segments = self.segments.borrow();
            let Some(segment) = segments
                .iter()
                .find(|segment| segment.max_timestamp() >= ts)
            else {
                return Ok(None);
            };
            let from = segment.index.borrow().scan_start_for_timestamp(ts);
            from.max(self.log_start_offset.get())
        };
        let mut found = None;
        self.visit_batches(start, |meta, _| {
            if meta.max_timestamp >= ts {
                found = Some((
                    meta.base_offset.max(self.log_start_offset.get()),
                    meta.max_timestamp,
                ));
                return false;
            }
            true
        })?;
        Ok(found)
    }
}
