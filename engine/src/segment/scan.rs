//! Sequential scan of a segment file: the basis of recovery and index rebuilds. Reads large
//! windows through the storage seam, checks each batch (header, length, counts, CRC-32C when
//! asked, offsets increasing) and stops at the first batch that fails.

use crate::batch::{self, CountRule};
use crate::error::LogError;
use crate::limits::{BATCH_BYTES_MAX, SCAN_READ_BYTES};
use crate::segment::SegmentIndex;
use crate::storage::SegmentFile;

/// What a scan found.
#[derive(Debug)]
pub(crate) struct ScanOutcome {
    /// Bytes of valid batches from the start of the file.
    pub valid_bytes: u64,
    /// Offset after the last valid batch (the segment base when none).
    pub next_offset: i64,
    pub index: SegmentIndex,
    /// Why the scan stopped before `file_bytes`, if it did.
    pub stop_reason: Option<String>,
}

struct Window {
    data: Vec<u8>,
    position: u64,
}

impl Window {
    /// Makes `[position, position + len)` available; false if the file ends first.
    async fn cover(
        &mut self,
        file: &dyn SegmentFile,
        position: u64,
        len: usize,
    ) -> Result<bool, LogError> {
        let have_start = position >= self.position;
        let have_end = position + len as u64 <= self.position + self.data.len() as u64;
        if have_start && have_end {
            return Ok(true);
        }
        let read_len = len.max(SCAN_READ_BYTES);
        self.data = file
            .read_at(position, read_len)
            .await
            .map_err(|err| LogError::io(format!("scanning {}", file.path().display()), err))?;
        self.position = position;
        Ok(self.data.len() >= len)
    }

    fn slice(&self, position: u64, len: usize) -> &[u8] {
        let start = (position - self.position) as usize;
        &self.data[start..start + len]
    }
}

/// Scans `file` (of `file_bytes` bytes) from its start.
pub(crate) async fn scan_segment(
    file: &dyn SegmentFile,
    base_offset: i64,
    file_bytes: u64,
    interval_bytes: u32,
    verify_crc: bool,
) -> Result<ScanOutcome, LogError> {
    let mut index = SegmentIndex::new(base_offset);
    let mut window = Window {
        data: Vec::new(),
        position: 0,
    };
    let mut position = 0u64;
    let mut next_offset = base_offset;

    let stop_reason = loop {
        if position == file_bytes {
            break None;
        }
        if !window.cover(file, position, batch::HEADER_BYTES).await?
            || position + batch::HEADER_BYTES as u64 > file_bytes
        {
            break Some(format!("torn header at {position}"));
        }
        let header = match batch::parse_header(window.slice(position, batch::HEADER_BYTES)) {
            Ok(header) => header,
            Err(err) => break Some(format!("bad header at {position}: {err}")),
        };
        let total = header.total_bytes();
        if total > BATCH_BYTES_MAX as usize || position + total as u64 > file_bytes {
            break Some(format!(
                "batch at {position} of {total} bytes runs past the end"
            ));
        }
        if !window.cover(file, position, total).await? {
            break Some(format!("torn batch at {position}"));
        }
        let bytes = window.slice(position, total);
        let checked = if verify_crc {
            batch::validate(bytes, CountRule::Compacted).map(|_| ())
        } else {
            batch::check_counts(&header, CountRule::Compacted)
        };
        if let Err(err) = checked {
            break Some(format!("invalid batch at {position}: {err}"));
        }
        if header.base_offset < next_offset {
            break Some(format!(
                "offset {} at {position} goes backwards (expected >= {next_offset})",
                header.base_offset
            ));
        }
        if header.last_offset() - base_offset > u32::MAX as i64 / 2 {
            break Some(format!(
                "offset {} too far from segment base {base_offset}",
                header.base_offset
            ));
        }
        index.observe(&header, position, interval_bytes);
        position += total as u64;
        next_offset = header.next_offset();
    };
    assert!(position <= file_bytes);
    Ok(ScanOutcome {
        valid_bytes: position,
        next_offset,
        index,
        stop_reason,
    })
}
