//! Walks the record batches of a fetch response without building `Record` structs: batch
//! header (through `sluice_batch`'s typed view), optional CRC check, decompression (via
//! kafka-protocol's codecs), records.

use bytes::{Buf, Bytes};
use kafka_protocol::compression::{Decompressor, Gzip, Lz4, Snappy, Zstd};
use sluice_batch::{compute_crc, parse_header, BatchError, HEADER_BYTES};

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::varint::get_zigzag;

/// One record as read back.
pub struct RecordView<'a> {
    pub offset: i64,
    pub timestamp_ms: i64,
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
    // A batch cut inside its fixed header is a partial trailing batch, like one cut later.
    while records.len() - pos >= HEADER_BYTES {
        let header = parse_header(&records[pos..]).map_err(|e| match e {
            BatchError::Length { batch_length, .. } => {
                Error::Protocol(format!("record batch length {batch_length} too small"))
            }
            BatchError::Magic(magic) => {
                Error::Protocol(format!("record batch magic {magic} unsupported"))
            }
            other => Error::Protocol(format!("record batch header: {other}")),
        })?;
        let end = pos + header.total_bytes();
        if end > records.len() {
            break;
        }
        let batch = records.slice(pos..end);
        pos = end;
        summary.next_offset = Some(header.next_offset());
        summary.batches += 1;
        if check_crc && compute_crc(&batch) != header.crc {
            summary.crc_failures += 1;
            continue;
        }
        if header.is_control() {
            continue;
        }
        let body = decompress(header.compression(), batch.slice(HEADER_BYTES..))?;
        summary.records += walk_records(
            &body,
            header.records_count,
            header.base_offset,
            header.base_timestamp,
            &mut on_record,
        )?;
    }
    Ok(summary)
}

fn decompress(codec_bits: i16, mut body: Bytes) -> Result<Bytes> {
    let take = |b: &mut Bytes| Ok(b.copy_to_bytes(b.remaining()));
    let codec = Codec::from_attribute_bits(codec_bits)
        .ok_or_else(|| Error::Protocol(format!("unknown compression codec {codec_bits}")))?;
    match codec {
        Codec::None => Ok(body),
        Codec::Gzip => Gzip::decompress(&mut body, take).map_err(failed("gzip")),
        Codec::Snappy => Snappy::decompress(&mut body, take).map_err(failed("snappy")),
        Codec::Lz4 => Lz4::decompress(&mut body, take).map_err(failed("lz4")),
        Codec::Zstd => Zstd::decompress(&mut body, take).map_err(failed("zstd")),
    }
}

/// kafka-protocol's codecs fail with `anyhow::Error`; only the text is kept.
fn failed<E: std::fmt::Display>(codec: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Protocol(format!("{codec} batch: {e:#}"))
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
