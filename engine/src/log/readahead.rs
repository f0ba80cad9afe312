//! Readahead of cold data: after a fetch that stopped at its byte limit inside a segment file,
//! the next bytes of that file are asked for in the background (`SegmentReader::will_need`), so
//! the disk reads them while this response is sent and the consumer handles it. The consumer's
//! next fetch then finds its batch headers and its sendfile range in the page cache, instead of
//! waiting for the disk on the shard's reactor (the header scan) and then on the blocking pool.

use std::rc::Rc;

use super::PartitionLog;
use crate::segment::Segment;

/// Fetches of the same size asked for ahead: one is the consumer's next fetch; the second keeps
/// the disk busy while that one is served.
const READAHEAD_FETCHES: u64 = 2;
/// The most asked for at once (the kernel's own readahead window on the test machine).
const READAHEAD_BYTES_MAX: u64 = 8 << 20;
const _: () = assert!(READAHEAD_FETCHES >= 1);

impl PartitionLog {
    /// Asks for the bytes after a read that stopped at `position` of `segment` because the next
    /// batch did not fit `max_bytes`. Never past what is written to the file: above that are
    /// batches only in the cache (the appender may still be writing them with O_DIRECT).
    pub(super) fn read_ahead(&self, segment: &Rc<Segment>, position: u64, max_bytes: u32) {
        let len = (u64::from(max_bytes) * READAHEAD_FETCHES).min(READAHEAD_BYTES_MAX);
        let end = (position + len).min(self.file_data_end(segment));
        if end <= position {
            return;
        }
        // A reader that cannot be opened gets no advice; the fetch that needs the bytes opens
        // it again and reports the error.
        if let Ok(reader) = segment.reader(&*self.storage) {
            reader.will_need(position, end - position);
        }
    }

    /// The end of the bytes of `segment` that are written to its file: all of them when the
    /// first cached offset (or the log end) is past the segment, else the indexed position at or
    /// before the batch holding it (every batch below that position is in the file).
    fn file_data_end(&self, segment: &Segment) -> u64 {
        let file_end = self
            .cache
            .first_offset()
            .unwrap_or(self.log_end_offset.get());
        if file_end >= segment.next_offset() {
            return segment.size_bytes();
        }
        let (_, position) = segment.index.borrow().position_for(file_end);
        assert!(position <= segment.size_bytes());
        position
    }
}
