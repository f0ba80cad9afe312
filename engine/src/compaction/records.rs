//! Records inside a RecordBatch v2 records section: a borrowed view of each record (key, value,
//! offset and timestamp deltas) and the encoder the cleaner uses to write retained records.
//!
//! Record layout: length varint, attributes i8, timestampDelta varlong, offsetDelta varint,
//! keyLength varint (-1 = null), key, valueLength varint (-1 = null: a tombstone), value,
//! headers count varint and the headers. Varints are zigzag (Kafka's `ByteUtils`).

use crate::error::LogError;

/// Largest number of bytes of a zigzag varlong.
const VARLONG_BYTES_MAX: usize = 10;

/// One record, borrowed from a decompressed records section.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub attributes: i8,
    pub timestamp_delta: i64,
    pub offset_delta: i32,
    /// `None` for a null key.
    pub key: Option<&'a [u8]>,
    /// `None` for a null value (a tombstone).
    pub value: Option<&'a [u8]>,
    /// The headers count and headers, verbatim.
    pub headers: &'a [u8],
    /// The whole record with its length prefix, verbatim.
    pub raw: &'a [u8],
}

impl RecordView<'_> {
    pub fn is_tombstone(&self) -> bool {
        self.value.is_none()
    }
}

fn corrupt(detail: &str) -> LogError {
    LogError::Corrupt {
        detail: format!("records section: {detail}"),
    }
}

/// Reads a zigzag varlong; returns (value, bytes used).
fn read_varlong(buf: &[u8]) -> Option<(i64, usize)> {
    let mut raw: u64 = 0;
    for (i, &byte) in buf.iter().take(VARLONG_BYTES_MAX).enumerate() {
        raw |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let value = (raw >> 1) as i64 ^ -((raw & 1) as i64);
            return Some((value, i + 1));
        }
    }
    None
}

/// Appends a zigzag varlong.
pub(crate) fn put_varlong(out: &mut Vec<u8>, value: i64) {
    let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
    while zigzag >= 0x80 {
        out.push((zigzag as u8 & 0x7f) | 0x80);
        zigzag >>= 7;
    }
    out.push(zigzag as u8);
}

struct Cursor<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn varlong(&mut self, what: &str) -> Result<i64, LogError> {
        let (value, used) =
            read_varlong(&self.buf[self.at..]).ok_or_else(|| corrupt(&format!("bad {what}")))?;
        self.at += used;
        Ok(value)
    }

    fn varint(&mut self, what: &str) -> Result<i32, LogError> {
        let value = self.varlong(what)?;
        i32::try_from(value).map_err(|_| corrupt(&format!("{what} {value} overflows i32")))
    }

    fn bytes(&mut self, len: usize, what: &str) -> Result<&'a [u8], LogError> {
        if len > self.buf.len() - self.at {
            return Err(corrupt(&format!("{what} runs past the record")));
        }
        let slice = &self.buf[self.at..self.at + len];
        self.at += len;
        Ok(slice)
    }

    /// A length-prefixed nullable byte string.
    fn nullable(&mut self, what: &str) -> Result<Option<&'a [u8]>, LogError> {
        match self.varint(what)? {
            -1 => Ok(None),
            len if len >= 0 => Ok(Some(self.bytes(len as usize, what)?)),
            len => Err(corrupt(&format!("{what} length {len}"))),
        }
    }
}

/// Parses exactly `count` records from an uncompressed records section.
pub fn parse_records(section: &[u8], count: i32) -> Result<Vec<RecordView<'_>>, LogError> {
    if count < 0 {
        return Err(corrupt(&format!("records count {count}")));
    }
    // A record takes at least 7 bytes, so the section bounds the allocation.
    let mut records = Vec::with_capacity((count as usize).min(section.len() / 7 + 1));
    let mut outer = Cursor {
        buf: section,
        at: 0,
    };
    while outer.at < section.len() {
        let start = outer.at;
        let len = outer.varint("record length")?;
        if len < 0 {
            return Err(corrupt("negative record length"));
        }
        let body = outer.bytes(len as usize, "record")?;
        let mut cursor = Cursor { buf: body, at: 0 };
        let attributes = cursor.bytes(1, "attributes")?[0] as i8;
        let timestamp_delta = cursor.varlong("timestamp delta")?;
        let offset_delta = cursor.varint("offset delta")?;
        let key = cursor.nullable("key")?;
        let value = cursor.nullable("value")?;
        let headers = &body[cursor.at..];
        records.push(RecordView {
            attributes,
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers,
            raw: &section[start..outer.at],
        });
        if records.len() > count as usize {
            return Err(corrupt("more records than recordsCount"));
        }
    }
    if records.len() != count as usize {
        return Err(corrupt("fewer records than recordsCount"));
    }
    Ok(records)
}

/// Whether every record of the valid batch `bytes` has a key (a compacted topic refuses a batch
/// with a keyless record, Kafka's INVALID_RECORD). Decompresses compressed batches: the keys
/// are inside the records.
pub fn every_record_has_a_key(
    bytes: &[u8],
    header: &crate::batch::BatchHeader,
    decompressed_bytes_max: usize,
) -> Result<bool, LogError> {
    assert_eq!(bytes.len(), header.total_bytes());
    let section = super::codec::decompress(
        header.compression(),
        &bytes[crate::batch::HEADER_BYTES..],
        decompressed_bytes_max,
    )?;
    let records = parse_records(&section, header.records_count)?;
    Ok(records.iter().all(|record| record.key.is_some()))
}

/// Appends `record` with a new timestamp delta (used when the batch's base timestamp changes);
/// everything else is copied.
pub(crate) fn encode_record(out: &mut Vec<u8>, record: &RecordView<'_>, timestamp_delta: i64) {
    let mut body = Vec::with_capacity(record.raw.len() + VARLONG_BYTES_MAX);
    body.push(record.attributes as u8);
    put_varlong(&mut body, timestamp_delta);
    put_varlong(&mut body, i64::from(record.offset_delta));
    for field in [record.key, record.value] {
        match field {
            None => put_varlong(&mut body, -1),
            Some(bytes) => {
                put_varlong(&mut body, bytes.len() as i64);
                body.extend_from_slice(bytes);
            }
        }
    }
    body.extend_from_slice(record.headers);
    put_varlong(out, body.len() as i64);
    out.extend_from_slice(&body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: Option<&[u8]>, value: Option<&[u8]>, ts: i64, od: i32) -> Vec<u8> {
        let view = RecordView {
            attributes: 0,
            timestamp_delta: ts,
            offset_delta: od,
            key,
            value,
            headers: &[2, 2, b'h', 2, b'v'],
            raw: &[],
        };
        let mut out = Vec::new();
        encode_record(&mut out, &view, ts);
        out
    }

    #[test]
    fn encoded_records_parse_back_and_reencode_byte_for_byte() {
        let mut section = record(Some(b"k1"), Some(b"v1"), 5, 0);
        section.extend(record(Some(b"k2"), None, -300, 1));
        section.extend(record(None, Some(b""), i64::from(i32::MAX) + 7, 70_000));
        let records = parse_records(&section, 3).expect("parses");
        assert_eq!(records[0].key, Some(&b"k1"[..]));
        assert!(records[1].is_tombstone());
        assert_eq!(records[1].timestamp_delta, -300);
        assert_eq!(records[2].key, None);
        assert_eq!(records[2].offset_delta, 70_000);
        let mut again = Vec::new();
        for r in &records {
            encode_record(&mut again, r, r.timestamp_delta);
        }
        assert_eq!(again, section);
        assert!(parse_records(&section, 2).is_err());
        assert!(parse_records(&section, 4).is_err());
        assert!(parse_records(&section[..section.len() - 1], 3).is_err());
    }
}
