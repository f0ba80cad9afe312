//! The sparse offset index and the time index of one segment, in memory, and their files.
//!
//! Offset index: (relative offset u32, file position u32) every `index.interval.bytes` of log.
//! Time index: (max timestamp so far i64, relative offset u32): every batch before that offset
//! and the batch at it have timestamps <= the entry's timestamp.
//!
//! Files (`<base>.index`, `<base>.timeindex`) are written when a segment is sealed or closed,
//! through `<name>.tmp` + rename, and are not fsynced: they are derived data. Each ends with a
//! footer carrying the segment's logical size, next offset and max timestamp, and a CRC-32C of
//! the whole file; a file that fails any check is ignored and rebuilt from the log.

use crate::batch::BatchHeader;

/// One offset-index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetEntry {
    pub relative_offset: u32,
    pub position: u32,
}

/// One time-index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeEntry {
    pub timestamp: i64,
    pub relative_offset: u32,
}

/// What the footer of both index files records about the segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentSummary {
    pub size_bytes: u64,
    pub next_offset: i64,
    pub max_timestamp: i64,
    pub max_timestamp_offset: i64,
}

/// In-memory indexes of one segment, plus the running state that decides new entries.
#[derive(Debug, Clone)]
pub(crate) struct SegmentIndex {
    pub base_offset: i64,
    pub offsets: Vec<OffsetEntry>,
    pub times: Vec<TimeEntry>,
    pub bytes_since_entry: u32,
    pub max_timestamp: i64,
    pub max_timestamp_offset: i64,
}

const OFFSET_MAGIC: u32 = 0x534c_4f49; // "SLOI"
const TIME_MAGIC: u32 = 0x534c_5449; // "SLTI"
const FOOTER_BYTES: usize = 4 + 4 + 8 + 8 + 8 + 8 + 4;
const OFFSET_ENTRY_BYTES: usize = 8;
const TIME_ENTRY_BYTES: usize = 12;
/// Timestamp of a segment with no batch.
pub(crate) const NO_TIMESTAMP: i64 = -1;

impl SegmentIndex {
    pub(crate) fn new(base_offset: i64) -> Self {
        SegmentIndex {
            base_offset,
            offsets: Vec::new(),
            times: Vec::new(),
            bytes_since_entry: 0,
            max_timestamp: NO_TIMESTAMP,
            max_timestamp_offset: -1,
        }
    }

    /// Records a batch appended at `position`; adds entries every `interval_bytes`.
    pub(crate) fn observe(&mut self, header: &BatchHeader, position: u64, interval_bytes: u32) {
        assert!(header.base_offset >= self.base_offset);
        assert!(position <= u32::MAX as u64);
        let relative_offset = (header.base_offset - self.base_offset) as u32;
        if header.max_timestamp > self.max_timestamp {
            self.max_timestamp = header.max_timestamp;
            self.max_timestamp_offset = header.base_offset;
        }
        if self.bytes_since_entry >= interval_bytes {
            if let Some(last) = self.offsets.last() {
                assert!(last.relative_offset < relative_offset);
            }
            self.offsets.push(OffsetEntry {
                relative_offset,
                position: position as u32,
            });
            let newer = self
                .times
                .last()
                .is_none_or(|t| self.max_timestamp > t.timestamp);
            if newer {
                self.times.push(TimeEntry {
                    timestamp: self.max_timestamp,
                    relative_offset,
                });
            }
            self.bytes_since_entry = 0;
        }
        self.bytes_since_entry = self
            .bytes_since_entry
            .saturating_add(header.total_bytes() as u32);
    }

    /// Largest indexed position at or before the batch holding `offset` (0 if none).
    pub(crate) fn position_for(&self, offset: i64) -> (i64, u64) {
        let relative = (offset - self.base_offset).clamp(0, u32::MAX as i64) as u32;
        let index = self
            .offsets
            .partition_point(|entry| entry.relative_offset <= relative);
        if index == 0 {
            return (self.base_offset, 0);
        }
        let entry = self.offsets[index - 1];
        (
            self.base_offset + entry.relative_offset as i64,
            entry.position as u64,
        )
    }

    /// An offset from which a forward scan finds the first batch with max timestamp >= `ts`.
    pub(crate) fn scan_start_for_timestamp(&self, ts: i64) -> i64 {
        let index = self.times.partition_point(|entry| entry.timestamp < ts);
        if index == 0 {
            return self.base_offset;
        }
        self.base_offset + self.times[index - 1].relative_offset as i64
    }

    /// Serialises both files.
    pub(crate) fn encode(&self, summary: &SegmentSummary) -> (Vec<u8>, Vec<u8>) {
        let mut offsets =
            Vec::with_capacity(self.offsets.len() * OFFSET_ENTRY_BYTES + FOOTER_BYTES);
        for entry in &self.offsets {
            offsets.extend_from_slice(&entry.relative_offset.to_be_bytes());
            offsets.extend_from_slice(&entry.position.to_be_bytes());
        }
        put_footer(&mut offsets, OFFSET_MAGIC, self.offsets.len(), summary);
        let mut times = Vec::with_capacity(self.times.len() * TIME_ENTRY_BYTES + FOOTER_BYTES);
        for entry in &self.times {
            times.extend_from_slice(&entry.timestamp.to_be_bytes());
            times.extend_from_slice(&entry.relative_offset.to_be_bytes());
        }
        put_footer(&mut times, TIME_MAGIC, self.times.len(), summary);
        (offsets, times)
    }

    /// Parses both files; `None` when anything fails a check (then the caller rebuilds).
    pub(crate) fn decode(
        base_offset: i64,
        offsets: &[u8],
        times: &[u8],
    ) -> Option<(Self, SegmentSummary)> {
        let (offset_count, summary) = get_footer(offsets, OFFSET_MAGIC, OFFSET_ENTRY_BYTES)?;
        let (time_count, time_summary) = get_footer(times, TIME_MAGIC, TIME_ENTRY_BYTES)?;
        if summary != time_summary || summary.next_offset < base_offset {
            return None;
        }
        let relative_end = summary.next_offset - base_offset;
        let mut index = SegmentIndex::new(base_offset);
        for chunk in offsets[..offset_count * OFFSET_ENTRY_BYTES].chunks_exact(OFFSET_ENTRY_BYTES) {
            let entry = OffsetEntry {
                relative_offset: u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]),
                position: u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]),
            };
            let ordered = index.offsets.last().is_none_or(|last| {
                last.relative_offset < entry.relative_offset && last.position < entry.position
            });
            if !ordered || entry.relative_offset as i64 >= relative_end {
                return None;
            }
            if entry.position as u64 >= summary.size_bytes {
                return None;
            }
            index.offsets.push(entry);
        }
        for chunk in times[..time_count * TIME_ENTRY_BYTES].chunks_exact(TIME_ENTRY_BYTES) {
            let mut ts = [0u8; 8];
            ts.copy_from_slice(&chunk[..8]);
            let entry = TimeEntry {
                timestamp: i64::from_be_bytes(ts),
                relative_offset: u32::from_be_bytes([chunk[8], chunk[9], chunk[10], chunk[11]]),
            };
            let ordered = index.times.last().is_none_or(|last| {
                last.timestamp < entry.timestamp && last.relative_offset < entry.relative_offset
            });
            if !ordered || entry.relative_offset as i64 >= relative_end {
                return None;
            }
            index.times.push(entry);
        }
        index.max_timestamp = summary.max_timestamp;
        index.max_timestamp_offset = summary.max_timestamp_offset;
        // Sealed segments take no more entries, so the running counter does not matter.
        Some((index, summary))
    }
}

fn put_footer(out: &mut Vec<u8>, magic: u32, count: usize, summary: &SegmentSummary) {
    out.extend_from_slice(&magic.to_be_bytes());
    out.extend_from_slice(&(count as u32).to_be_bytes());
    out.extend_from_slice(&summary.size_bytes.to_be_bytes());
    out.extend_from_slice(&summary.next_offset.to_be_bytes());
    out.extend_from_slice(&summary.max_timestamp.to_be_bytes());
    out.extend_from_slice(&summary.max_timestamp_offset.to_be_bytes());
    let crc = crc32c::crc32c(out);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn get_footer(data: &[u8], magic: u32, entry_bytes: usize) -> Option<(usize, SegmentSummary)> {
    if data.len() < FOOTER_BYTES {
        return None;
    }
    let crc_at = data.len() - 4;
    let stored = u32::from_be_bytes(data[crc_at..].try_into().ok()?);
    if crc32c::crc32c(&data[..crc_at]) != stored {
        return None;
    }
    let footer = &data[data.len() - FOOTER_BYTES..];
    let u32_at = |at: usize| {
        u32::from_be_bytes([footer[at], footer[at + 1], footer[at + 2], footer[at + 3]])
    };
    let u64_at = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&footer[at..at + 8]);
        u64::from_be_bytes(b)
    };
    if u32_at(0) != magic {
        return None;
    }
    let count = u32_at(4) as usize;
    if count.checked_mul(entry_bytes)? + FOOTER_BYTES != data.len() {
        return None;
    }
    let summary = SegmentSummary {
        size_bytes: u64_at(8),
        next_offset: u64_at(16) as i64,
        max_timestamp: u64_at(24) as i64,
        max_timestamp_offset: u64_at(32) as i64,
    };
    Some((count, summary))
}
