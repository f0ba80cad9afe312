//! Kafka RecordBatch v2 header: parse and validate without decompressing, and the few rewrites
//! the broker makes (baseOffset, partitionLeaderEpoch, LogAppendTime).
//!
//! Layout (big-endian): baseOffset i64 @0, batchLength i32 @8, partitionLeaderEpoch i32 @12,
//! magic i8 @16, crc u32 @17, attributes i16 @21, lastOffsetDelta i32 @23, baseTimestamp i64 @27,
//! maxTimestamp i64 @35, producerId i64 @43, producerEpoch i16 @51, baseSequence i32 @53,
//! recordsCount i32 @57, records @61. The CRC-32C covers attributes..end; baseOffset, batchLength
//! and partitionLeaderEpoch are outside it, so the broker may rewrite them freely.
//!
//! Its own crate (no glommio) so that clients read batches with the same view the broker
//! writes them with; `sluice_engine::batch` re-exports it.

use bytes::{Bytes, BytesMut};

pub const BASE_OFFSET_AT: usize = 0;
pub const BATCH_LENGTH_AT: usize = 8;
pub const PARTITION_LEADER_EPOCH_AT: usize = 12;
pub const MAGIC_AT: usize = 16;
pub const CRC_AT: usize = 17;
pub const ATTRIBUTES_AT: usize = 21;
pub const LAST_OFFSET_DELTA_AT: usize = 23;
pub const BASE_TIMESTAMP_AT: usize = 27;
pub const MAX_TIMESTAMP_AT: usize = 35;
pub const PRODUCER_ID_AT: usize = 43;
pub const PRODUCER_EPOCH_AT: usize = 51;
pub const BASE_SEQUENCE_AT: usize = 53;
pub const RECORDS_COUNT_AT: usize = 57;
/// Size of the fixed header; records follow.
pub const HEADER_BYTES: usize = 61;
/// Bytes before and including batchLength; `batchLength` counts the bytes after them.
pub const LOG_OVERHEAD_BYTES: usize = 12;
/// The only magic accepted.
pub const MAGIC_V2: i8 = 2;
/// attributes bits 0-2: compression codec (0 = none).
pub const ATTRIBUTE_COMPRESSION_MASK: i16 = 0x07;
/// attributes bit 3: timestamp type (1 = LogAppendTime).
pub const ATTRIBUTE_LOG_APPEND_TIME: i16 = 1 << 3;
/// attributes bit 4: transactional.
pub const ATTRIBUTE_TRANSACTIONAL: i16 = 1 << 4;
/// attributes bit 5: control batch.
pub const ATTRIBUTE_CONTROL: i16 = 1 << 5;

const _: () = assert!(RECORDS_COUNT_AT + 4 == HEADER_BYTES);
const _: () = assert!(ATTRIBUTES_AT == CRC_AT + 4);

/// Why bytes are not a valid batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("{0} bytes is shorter than a batch header")]
    TooShort(usize),
    #[error("unsupported magic {0}")]
    Magic(i8),
    #[error("batchLength {batch_length} does not match {available} available bytes")]
    Length { batch_length: i32, available: usize },
    #[error("crc mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Crc { stored: u32, computed: u32 },
    #[error("records count {count} inconsistent with lastOffsetDelta {last_offset_delta}")]
    Count { count: i32, last_offset_delta: i32 },
    #[error("records section does not hold recordsCount {count} records: {detail}")]
    Records { count: i32, detail: &'static str },
}

/// The parsed fixed header of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub records_count: i32,
}

impl BatchHeader {
    /// Total size of the batch on the wire and on disk.
    pub fn total_bytes(&self) -> usize {
        LOG_OVERHEAD_BYTES + self.batch_length as usize
    }

    /// Offset of the last record (base + lastOffsetDelta).
    pub fn last_offset(&self) -> i64 {
        self.base_offset + self.last_offset_delta as i64
    }

    /// The next offset after this batch.
    pub fn next_offset(&self) -> i64 {
        self.last_offset() + 1
    }

    pub fn is_control(&self) -> bool {
        self.attributes & ATTRIBUTE_CONTROL != 0
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTRIBUTE_TRANSACTIONAL != 0
    }

    /// The compression codec id of the records section (0 none, 1 gzip, 2 snappy, 3 lz4,
    /// 4 zstd).
    pub fn compression(&self) -> i16 {
        self.attributes & ATTRIBUTE_COMPRESSION_MASK
    }

    /// Whether the broker stamped the batch (`max_timestamp` is then the append time).
    pub fn is_log_append_time(&self) -> bool {
        self.attributes & ATTRIBUTE_LOG_APPEND_TIME != 0
    }
}

fn be_i64(buf: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    i64::from_be_bytes(b)
}

fn be_i32(buf: &[u8], at: usize) -> i32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    i32::from_be_bytes(b)
}

fn be_i16(buf: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([buf[at], buf[at + 1]])
}

/// The batchLength field of the batch starting at `buf` (bytes after the log overhead), read
/// before anything else is checked: what splits a records blob into batches. None when `buf`
/// is shorter than the log overhead.
pub fn batch_length(buf: &[u8]) -> Option<i32> {
    if buf.len() < LOG_OVERHEAD_BYTES {
        return None;
    }
    Some(be_i32(buf, BATCH_LENGTH_AT))
}

/// Parses the fixed header from the start of `buf` (which may hold more than one batch). Checks
/// only what the header alone can tell: magic and a batchLength big enough for the header.
pub fn parse_header(buf: &[u8]) -> Result<BatchHeader, BatchError> {
    if buf.len() < HEADER_BYTES {
        return Err(BatchError::TooShort(buf.len()));
    }
    let magic = buf[MAGIC_AT] as i8;
    let batch_length = be_i32(buf, BATCH_LENGTH_AT);
    if batch_length < (HEADER_BYTES - LOG_OVERHEAD_BYTES) as i32 {
        return Err(BatchError::Length {
            batch_length,
            available: buf.len(),
        });
    }
    if magic != MAGIC_V2 {
        return Err(BatchError::Magic(magic));
    }
    Ok(BatchHeader {
        base_offset: be_i64(buf, BASE_OFFSET_AT),
        batch_length,
        partition_leader_epoch: be_i32(buf, PARTITION_LEADER_EPOCH_AT),
        magic,
        crc: be_i32(buf, CRC_AT) as u32,
        attributes: be_i16(buf, ATTRIBUTES_AT),
        last_offset_delta: be_i32(buf, LAST_OFFSET_DELTA_AT),
        base_timestamp: be_i64(buf, BASE_TIMESTAMP_AT),
        max_timestamp: be_i64(buf, MAX_TIMESTAMP_AT),
        producer_id: be_i64(buf, PRODUCER_ID_AT),
        producer_epoch: be_i16(buf, PRODUCER_EPOCH_AT),
        base_sequence: be_i32(buf, BASE_SEQUENCE_AT),
        records_count: be_i32(buf, RECORDS_COUNT_AT),
    })
}

/// CRC-32C of attributes..end of a whole batch.
///
/// Every batch is summed once by the leader and once by each follower (and once more by a
/// producer), so this is one of the broker's hottest loops; `crc-fast` picks the widest
/// carry-less-multiply fold the CPU offers at run time.
pub fn compute_crc(batch: &[u8]) -> u32 {
    let sum = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, &batch[ATTRIBUTES_AT..]);
    // CRC-32 algorithms answer in the low 32 bits.
    sum as u32
}

/// How strictly record counts are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountRule {
    /// Produce path: recordsCount >= 1 and lastOffsetDelta == recordsCount - 1.
    Producer,
    /// Replicated or on-disk data: compaction may have removed records, so only
    /// 0 <= recordsCount <= lastOffsetDelta + 1.
    Compacted,
}

/// Validates that `buf` is exactly one whole batch: header, length, CRC and counts.
pub fn validate(buf: &[u8], rule: CountRule) -> Result<BatchHeader, BatchError> {
    let header = parse_header(buf)?;
    if header.total_bytes() != buf.len() {
        return Err(BatchError::Length {
            batch_length: header.batch_length,
            available: buf.len(),
        });
    }
    check_counts(&header, rule)?;
    let computed = compute_crc(buf);
    if computed != header.crc {
        return Err(BatchError::Crc {
            stored: header.crc,
            computed,
        });
    }
    check_records_framing(buf, &header)?;
    Ok(header)
}

/// Uncompressed batches: the records section must be exactly `recordsCount` length-prefixed
/// records. Only the length varints are read (no record is decoded), so a count that disagrees
/// with the bytes is refused cheaply; a consumer would otherwise fail on the batch later.
/// Compressed records are not looked at (the broker never decompresses).
pub fn check_records_framing(buf: &[u8], header: &BatchHeader) -> Result<(), BatchError> {
    if header.attributes & ATTRIBUTE_COMPRESSION_MASK != 0 {
        return Ok(());
    }
    let count = header.records_count;
    let fail = |detail| Err(BatchError::Records { count, detail });
    let mut at = HEADER_BYTES;
    let mut seen: i64 = 0;
    while at < buf.len() {
        let Some((len, used)) = read_varint_i32(&buf[at..]) else {
            return fail("bad record length varint");
        };
        at += used;
        if len < 0 || len as usize > buf.len() - at {
            return fail("a record length runs past the batch");
        }
        at += len as usize;
        seen += 1;
        if seen > i64::from(count) {
            return fail("more records than recordsCount");
        }
    }
    if seen != i64::from(count) {
        return fail("fewer records than recordsCount");
    }
    Ok(())
}

/// A zigzag varint of at most 5 bytes (Kafka's varint for int32); returns (value, bytes used).
fn read_varint_i32(buf: &[u8]) -> Option<(i32, usize)> {
    let mut raw: u32 = 0;
    for (i, &byte) in buf.iter().take(5).enumerate() {
        raw |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let value = (raw >> 1) as i32 ^ -((raw & 1) as i32);
            return Some((value, i + 1));
        }
    }
    None
}

/// Record count sanity relative to lastOffsetDelta.
pub fn check_counts(header: &BatchHeader, rule: CountRule) -> Result<(), BatchError> {
    let count = header.records_count;
    let delta = header.last_offset_delta;
    let ok = match rule {
        CountRule::Producer => count >= 1 && delta == count - 1,
        CountRule::Compacted => delta >= 0 && count >= 0 && count as i64 <= delta as i64 + 1,
    };
    if ok {
        Ok(())
    } else {
        Err(BatchError::Count {
            count,
            last_offset_delta: delta,
        })
    }
}

/// Writes baseOffset into a batch buffer (outside the CRC).
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) {
    batch[BASE_OFFSET_AT..BASE_OFFSET_AT + 8].copy_from_slice(&base_offset.to_be_bytes());
}

/// Writes partitionLeaderEpoch into a batch buffer (outside the CRC).
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) {
    batch[PARTITION_LEADER_EPOCH_AT..PARTITION_LEADER_EPOCH_AT + 4]
        .copy_from_slice(&epoch.to_be_bytes());
}

/// Switches a batch to LogAppendTime with `now_ms` as its max timestamp and recomputes the CRC
/// (both fields are inside it), as Kafka does.
pub fn set_log_append_time(batch: &mut [u8], now_ms: i64) {
    let attributes = be_i16(batch, ATTRIBUTES_AT) | ATTRIBUTE_LOG_APPEND_TIME;
    batch[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
    batch[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8].copy_from_slice(&now_ms.to_be_bytes());
    let crc = compute_crc(batch);
    batch[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Returns `batch` with baseOffset and partitionLeaderEpoch rewritten. Copies the batch once
/// (the input is shared and immutable); the copy is what the log and the cache keep.
pub fn rewrite_header(batch: &Bytes, base_offset: i64, leader_epoch: Option<i32>) -> BytesMut {
    let mut out = BytesMut::from(&batch[..]);
    set_base_offset(&mut out, base_offset);
    if let Some(epoch) = leader_epoch {
        set_partition_leader_epoch(&mut out, epoch);
    }
    out
}

/// Builds a valid uncompressed batch for tests and benches: `records_count` records whose values
/// are `value` (keys null, no headers), timestamps `base_timestamp + i`.
pub fn build_batch(
    base_offset: i64,
    base_timestamp: i64,
    records_count: i32,
    value: &[u8],
) -> Bytes {
    assert!(records_count >= 1);
    let mut records = Vec::with_capacity(value.len() * records_count as usize + 16);
    for i in 0..records_count {
        let mut body = Vec::with_capacity(value.len() + 16);
        body.push(0u8); // attributes
        put_varint(&mut body, i as i64); // timestampDelta
        put_varint(&mut body, i as i64); // offsetDelta
        put_varint(&mut body, -1); // key length: null
        put_varint(&mut body, value.len() as i64);
        body.extend_from_slice(value);
        put_varint(&mut body, 0); // headers count
        put_varint(&mut records, body.len() as i64);
        records.extend_from_slice(&body);
    }
    let total = HEADER_BYTES + records.len();
    let mut out = vec![0u8; HEADER_BYTES];
    out.extend_from_slice(&records);
    set_base_offset(&mut out, base_offset);
    let batch_length = (total - LOG_OVERHEAD_BYTES) as i32;
    out[BATCH_LENGTH_AT..BATCH_LENGTH_AT + 4].copy_from_slice(&batch_length.to_be_bytes());
    set_partition_leader_epoch(&mut out, -1);
    out[MAGIC_AT] = MAGIC_V2 as u8;
    out[LAST_OFFSET_DELTA_AT..LAST_OFFSET_DELTA_AT + 4]
        .copy_from_slice(&(records_count - 1).to_be_bytes());
    out[BASE_TIMESTAMP_AT..BASE_TIMESTAMP_AT + 8].copy_from_slice(&base_timestamp.to_be_bytes());
    let max_timestamp = base_timestamp + records_count as i64 - 1;
    out[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8].copy_from_slice(&max_timestamp.to_be_bytes());
    out[PRODUCER_ID_AT..PRODUCER_ID_AT + 8].copy_from_slice(&(-1i64).to_be_bytes());
    out[PRODUCER_EPOCH_AT..PRODUCER_EPOCH_AT + 2].copy_from_slice(&(-1i16).to_be_bytes());
    out[BASE_SEQUENCE_AT..BASE_SEQUENCE_AT + 4].copy_from_slice(&(-1i32).to_be_bytes());
    out[RECORDS_COUNT_AT..RECORDS_COUNT_AT + 4].copy_from_slice(&records_count.to_be_bytes());
    let crc = compute_crc(&out);
    out[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(out)
}

fn put_varint(out: &mut Vec<u8>, value: i64) {
    let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
    loop {
        if zigzag < 0x80 {
            out.push(zigzag as u8);
            return;
        }
        out.push((zigzag as u8 & 0x7f) | 0x80);
        zigzag >>= 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_batch_validates_and_rewrites_keep_crc() {
        let batch = build_batch(0, 1000, 3, b"hello");
        let header = validate(&batch, CountRule::Producer).expect("built batch is valid");
        assert_eq!(header.records_count, 3);
        assert_eq!(header.last_offset_delta, 2);
        assert_eq!(header.compression(), 0);
        assert!(!header.is_log_append_time());
        let rewritten = rewrite_header(&batch, 77, Some(5));
        let header = validate(&rewritten, CountRule::Producer).expect("rewrite keeps the crc");
        assert_eq!(header.base_offset, 77);
        assert_eq!(header.partition_leader_epoch, 5);
        let mut stamped = rewritten.to_vec();
        set_log_append_time(&mut stamped, 5000);
        let header = validate(&stamped, CountRule::Producer).expect("stamping recomputes the crc");
        assert!(header.is_log_append_time());
        assert_eq!(header.max_timestamp, 5000);
    }

    #[test]
    fn records_count_must_match_the_records_section() {
        let batch = build_batch(0, 1000, 3, b"counted");
        // recordsCount and lastOffsetDelta agree (5 / 4) and the CRC is right, but only 3
        // records follow: found by the reliability bad-input corpus.
        for (count, delta) in [(5i32, 4i32), (1, 0)] {
            let mut lie = batch.to_vec();
            lie[RECORDS_COUNT_AT..RECORDS_COUNT_AT + 4].copy_from_slice(&count.to_be_bytes());
            lie[LAST_OFFSET_DELTA_AT..LAST_OFFSET_DELTA_AT + 4]
                .copy_from_slice(&delta.to_be_bytes());
            let crc = compute_crc(&lie);
            lie[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
            assert!(matches!(
                validate(&lie, CountRule::Producer),
                Err(BatchError::Records { .. })
            ));
        }
        assert!(validate(&batch, CountRule::Producer).is_ok());
    }

    /// CRC-32C one bit at a time (reflected polynomial 0x82F63B78): slow, and too simple to
    /// share a bug with a folding implementation.
    fn crc32c_bitwise(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= byte as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0x82F6_3B78
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn batch_crc_is_crc32c_at_every_length_and_alignment() {
        // The check value of CRC-32/ISCSI (the catalogue's "123456789").
        let mut check = vec![0u8; ATTRIBUTES_AT];
        check.extend_from_slice(b"123456789");
        assert_eq!(compute_crc(&check), 0xE306_9283);
        // Short inputs take a different code path from long ones, and the wide folds have
        // their own tails: cover both, from every start alignment.
        let data: Vec<u8> = (0..70_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let lengths = (0..300).chain([511, 512, 513, 4095, 4096, 4097, 65_536, 69_000]);
        for length in lengths {
            for start in 0..4 {
                let body = &data[start..start + length];
                let mut batch = vec![0u8; ATTRIBUTES_AT];
                batch.extend_from_slice(body);
                assert_eq!(
                    compute_crc(&batch),
                    crc32c_bitwise(body),
                    "length {length} start {start}"
                );
            }
        }
    }

    #[test]
    fn flipped_bit_fails_crc() {
        let batch = build_batch(0, 1000, 1, b"x");
        let mut bad = batch.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(
            validate(&bad, CountRule::Producer),
            Err(BatchError::Crc { .. })
        ));
    }
}

/// The smallest batchLength of a valid v2 batch: its header past the length field.
const BATCH_LENGTH_MIN: usize = HEADER_BYTES - LOG_OVERHEAD_BYTES;

/// Splits a records blob into whole batches by their length fields.
pub fn split_batches(records: &Bytes) -> Result<Vec<Bytes>, String> {
    let mut batches = Vec::new();
    let mut at = 0;
    while at < records.len() {
        let remaining = records.len() - at;
        let Some(length) = batch_length(&records[at..]) else {
            return Err(format!("{remaining} trailing bytes are not a record batch"));
        };
        if length < BATCH_LENGTH_MIN as i32 || length as usize > remaining - LOG_OVERHEAD_BYTES {
            return Err(format!(
                "record batch length {length} does not fit the request"
            ));
        }
        let end = at + LOG_OVERHEAD_BYTES + length as usize;
        batches.push(records.slice(at..end));
        at = end;
    }
    if batches.is_empty() {
        return Err("no record batch".to_string());
    }
    Ok(batches)
}
