//! Walks the record batches of a fetch response without building `Record` structs:
//! batch header, optional CRC check, decompression (via kafka-protocol's codecs), records.

use bytes::{Buf, Bytes};
use kafka_protocol::compression::{Decompressor, Gzip, Lz4, Snappy, Zstd};

use super::varint::get_zigzag;
use crate::error::{Error, ProtocolContext, Result};

const BATCH_HEADER_BYTES: usize = 61;
const LOG_OVERHEAD_BYTES: usize = 12;

/// One record as read back.
pub struct RecordView<'a> {
    pub offset: i64,
    pub timestamp_ms: i64,
    #[cfg_attr(not(test), allow(dead_code))]
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

/// What a walk over a fetched record set found.
#[derive(Debug, Default, Clone, Copy)]
pub struct WalkSummary {
    pub batches: u64,
    pub records: u64,
    /// Batches whose CRC-32C did not match (their records are skipped).
    pub crc_failures: u64,
    /// Offset just past the last complete batch, or `None` if there was none.
    pub next_offset: Option<i64>,
}

/// Calls `on_record` for every record of every complete batch in `records`.
/// A partial trailing batch (allowed by the protocol) is ignored.
pub fn for_each_record(
    records: &Bytes,
    check_crc: bool,
    mut on_record: impl FnMut(&RecordView<'_>),
) -> Result<WalkSummary> {
    let mut summary = WalkSummary::default();
    let mut pos = 0usize;
    while records.len() - pos >= LOG_OVERHEAD_BYTES {
        let base_offset = i64::from_be_bytes(read8(records, pos));
        let batch_length = i32::from_be_bytes(read4(records, pos + 8));
        if batch_length < (BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES) as i32 {
            return Err(Error::Protocol(format!(
                "record batch length {batch_length} too small"
            )));
        }
        let end = pos + LOG_OVERHEAD_BYTES + batch_length as usize;
        if end > records.len() {
            break;
        }
        let batch = records.slice(pos..end);
        pos = end;
        let magic = batch[16] as i8;
        if magic != 2 {
            return Err(Error::Protocol(format!(
                "record batch magic {magic} unsupported"
            )));
        }
        let last_offset_delta = i32::from_be_bytes(read4(&batch, 23));
        summary.next_offset = Some(base_offset + last_offset_delta as i64 + 1);
        summary.batches += 1;
        if check_crc {
            let crc = u32::from_be_bytes(read4(&batch, 17));
            if crc32c::crc32c(&batch[21..]) != crc {
                summary.crc_failures += 1;
                continue;
            }
        }
        let attributes = i16::from_be_bytes([batch[21], batch[22]]);
        let is_control = attributes & (1 << 5) != 0;
        if is_control {
            continue;
        }
        let timestamp_base_ms = i64::from_be_bytes(read8(&batch, 27));
        let count = i32::from_be_bytes(read4(&batch, 57));
        let body = batch.slice(BATCH_HEADER_BYTES..);
        let body = decompress(attributes & 0x7, body)?;
        let walked = walk_records(&body, count, base_offset, timestamp_base_ms, &mut on_record)?;
        summary.records += walked;
    }
    Ok(summary)
}

fn read8(b: &[u8], at: usize) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&b[at..at + 8]);
    out
}

fn read4(b: &[u8], at: usize) -> [u8; 4] {
    let mut out = [0u8; 4];
    out.copy_from_slice(&b[at..at + 4]);
    out
}

fn decompress(codec: i16, mut body: Bytes) -> Result<Bytes> {
    let take = |b: &mut Bytes| Ok(b.copy_to_bytes(b.remaining()));
    match codec {
        0 => Ok(body),
        1 => Gzip::decompress(&mut body, take).protocol("gzip batch"),
        2 => Snappy::decompress(&mut body, take).protocol("snappy batch"),
        3 => Lz4::decompress(&mut body, take).protocol("lz4 batch"),
        4 => Zstd::decompress(&mut body, take).protocol("zstd batch"),
        other => Err(Error::Protocol(format!(
            "unknown compression codec {other}"
        ))),
    }
}

fn walk_records(
    body: &[u8],
    count: i32,
    base_offset: i64,
    timestamp_base_ms: i64,
    on_record: &mut impl FnMut(&RecordView<'_>),
) -> Result<u64> {
    let truncated = || Error::Protocol("truncated record in batch".into());
    let mut pos = 0usize;
    for _ in 0..count.max(0) {
        let length = get_zigzag(body, &mut pos).ok_or_else(truncated)?;
        let record_end = pos.checked_add(length as usize).ok_or_else(truncated)?;
        if length < 0 || record_end > body.len() {
            return Err(truncated());
        }
        let r = &body[..record_end];
        pos += 1; // attributes
        let ts_delta = get_zigzag(r, &mut pos).ok_or_else(truncated)?;
        let offset_delta = get_zigzag(r, &mut pos).ok_or_else(truncated)?;
        let key = read_bytes_field(r, &mut pos).ok_or_else(truncated)?;
        let value = read_bytes_field(r, &mut pos).ok_or_else(truncated)?;
        pos = record_end; // headers are skipped
        on_record(&RecordView {
            offset: base_offset + offset_delta,
            timestamp_ms: timestamp_base_ms + ts_delta,
            key,
            value,
        });
    }
    Ok(count.max(0) as u64)
}

fn read_bytes_field<'a>(r: &'a [u8], pos: &mut usize) -> Option<Option<&'a [u8]>> {
    let len = get_zigzag(r, pos)?;
    if len < 0 {
        return Some(None);
    }
    let end = pos.checked_add(len as usize)?;
    let field = r.get(*pos..end)?;
    *pos = end;
    Some(Some(field))
}
