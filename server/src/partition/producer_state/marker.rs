//! Transaction markers as Kafka writes them (`MemoryRecords.withEndTransactionMarker`): a
//! control batch (attributes transactional | control, uncompressed), producer id and epoch
//! set, base sequence -1, one record whose key is the `ControlRecordType` (version i16 = 0,
//! type i16: 0 ABORT, 1 COMMIT) and whose value is the `EndTxnMarker` (version i16 = 0,
//! coordinator epoch i32). Building one for the leader, reading one back for followers and
//! recovery. Pure: bytes in, bytes out.

use bytes::Bytes;
use sluice_engine::batch::{
    compute_crc, ATTRIBUTES_AT, ATTRIBUTE_CONTROL, ATTRIBUTE_TRANSACTIONAL, BASE_SEQUENCE_AT,
    BASE_TIMESTAMP_AT, BATCH_LENGTH_AT, CRC_AT, HEADER_BYTES, LAST_OFFSET_DELTA_AT,
    LOG_OVERHEAD_BYTES, MAGIC_AT, MAGIC_V2, MAX_TIMESTAMP_AT, PARTITION_LEADER_EPOCH_AT,
    PRODUCER_EPOCH_AT, PRODUCER_ID_AT, RECORDS_COUNT_AT,
};

/// `ControlRecordType` ABORT and COMMIT.
const CONTROL_TYPE_ABORT: i16 = 0;
const CONTROL_TYPE_COMMIT: i16 = 1;
/// The only key and value versions Kafka writes.
const CONTROL_KEY_VERSION: i16 = 0;
const END_TXN_MARKER_VERSION: i16 = 0;
/// A marker batch is small; a control batch larger than this is not one we can read.
pub const MARKER_BATCH_BYTES_MAX: usize = 1024;

/// What a transaction marker says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub coordinator_epoch: i32,
    pub commit: bool,
}

/// The bytes of a marker batch at offset 0 (the engine assigns the offset and leader epoch).
pub fn build_marker_batch(marker: Marker, timestamp_ms: i64) -> Bytes {
    assert!(marker.producer_id >= 0);
    let control_type = if marker.commit {
        CONTROL_TYPE_COMMIT
    } else {
        CONTROL_TYPE_ABORT
    };
    let mut body = Vec::with_capacity(32);
    body.push(0u8); // record attributes
    put_varint(&mut body, 0); // timestampDelta
    put_varint(&mut body, 0); // offsetDelta
    put_varint(&mut body, 4); // key length
    body.extend_from_slice(&CONTROL_KEY_VERSION.to_be_bytes());
    body.extend_from_slice(&control_type.to_be_bytes());
    put_varint(&mut body, 6); // value length
    body.extend_from_slice(&END_TXN_MARKER_VERSION.to_be_bytes());
    body.extend_from_slice(&marker.coordinator_epoch.to_be_bytes());
    put_varint(&mut body, 0); // headers
    let mut out = vec![0u8; HEADER_BYTES];
    put_varint(&mut out, body.len() as i64);
    out.extend_from_slice(&body);
    let batch_length = (out.len() - LOG_OVERHEAD_BYTES) as i32;
    out[BATCH_LENGTH_AT..BATCH_LENGTH_AT + 4].copy_from_slice(&batch_length.to_be_bytes());
    out[PARTITION_LEADER_EPOCH_AT..PARTITION_LEADER_EPOCH_AT + 4]
        .copy_from_slice(&(-1i32).to_be_bytes());
    out[MAGIC_AT] = MAGIC_V2 as u8;
    let attributes = ATTRIBUTE_TRANSACTIONAL | ATTRIBUTE_CONTROL;
    out[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
    out[LAST_OFFSET_DELTA_AT..LAST_OFFSET_DELTA_AT + 4].copy_from_slice(&0i32.to_be_bytes());
    out[BASE_TIMESTAMP_AT..BASE_TIMESTAMP_AT + 8].copy_from_slice(&timestamp_ms.to_be_bytes());
    out[MAX_TIMESTAMP_AT..MAX_TIMESTAMP_AT + 8].copy_from_slice(&timestamp_ms.to_be_bytes());
    out[PRODUCER_ID_AT..PRODUCER_ID_AT + 8].copy_from_slice(&marker.producer_id.to_be_bytes());
    out[PRODUCER_EPOCH_AT..PRODUCER_EPOCH_AT + 2]
        .copy_from_slice(&marker.producer_epoch.to_be_bytes());
    out[BASE_SEQUENCE_AT..BASE_SEQUENCE_AT + 4].copy_from_slice(&(-1i32).to_be_bytes());
    out[RECORDS_COUNT_AT..RECORDS_COUNT_AT + 4].copy_from_slice(&1i32.to_be_bytes());
    let crc = compute_crc(&out);
    out[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_be_bytes());
    assert!(out.len() <= MARKER_BATCH_BYTES_MAX);
    Bytes::from(out)
}

/// Reads the marker of a control batch (whole batch bytes, CRC already checked by whoever
/// stored it). `None` for a control batch that is not a transaction marker (Kafka has other
/// control types, which producer state ignores) or that does not parse.
pub fn parse_marker(batch: &[u8]) -> Option<Marker> {
    if batch.len() < HEADER_BYTES || batch.len() > MARKER_BATCH_BYTES_MAX {
        return None;
    }
    let attributes = i16::from_be_bytes([batch[ATTRIBUTES_AT], batch[ATTRIBUTES_AT + 1]]);
    if attributes & ATTRIBUTE_CONTROL == 0 || attributes & 0x07 != 0 {
        return None;
    }
    let producer_id =
        i64::from_be_bytes(batch[PRODUCER_ID_AT..PRODUCER_ID_AT + 8].try_into().ok()?);
    let producer_epoch = i16::from_be_bytes(
        batch[PRODUCER_EPOCH_AT..PRODUCER_EPOCH_AT + 2]
            .try_into()
            .ok()?,
    );
    let mut at = HEADER_BYTES;
    let _record_len = read_varint(batch, &mut at)?;
    at += 1; // record attributes
    let _timestamp_delta = read_varint(batch, &mut at)?;
    let _offset_delta = read_varint(batch, &mut at)?;
    let key_len = read_varint(batch, &mut at)?;
    if key_len < 4 {
        return None;
    }
    let key = batch.get(at..at + 4)?;
    at += usize::try_from(key_len).ok()?;
    let control_type = i16::from_be_bytes([key[2], key[3]]);
    let value_len = read_varint(batch, &mut at)?;
    if value_len < 6 {
        return None;
    }
    let value = batch.get(at..at + 6)?;
    let coordinator_epoch = i32::from_be_bytes([value[2], value[3], value[4], value[5]]);
    let commit = match control_type {
        CONTROL_TYPE_COMMIT => true,
        CONTROL_TYPE_ABORT => false,
        _ => return None,
    };
    (producer_id >= 0).then_some(Marker {
        producer_id,
        producer_epoch,
        coordinator_epoch,
        commit,
    })
}

fn put_varint(out: &mut Vec<u8>, value: i64) {
    let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
    while zigzag >= 0x80 {
        out.push((zigzag as u8 & 0x7f) | 0x80);
        zigzag >>= 7;
    }
    out.push(zigzag as u8);
}

/// A zigzag varint of at most 10 bytes.
fn read_varint(buf: &[u8], at: &mut usize) -> Option<i64> {
    let mut raw = 0u64;
    for shift in 0..10 {
        let byte = *buf.get(*at)?;
        *at += 1;
        raw |= u64::from(byte & 0x7f) << (7 * shift);
        if byte & 0x80 == 0 {
            return Some(((raw >> 1) as i64) ^ -((raw & 1) as i64));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_engine::batch::{validate, CountRule};

    #[test]
    fn a_built_marker_is_a_valid_control_batch_that_reads_back() {
        for commit in [true, false] {
            let marker = Marker {
                producer_id: 77,
                producer_epoch: 3,
                coordinator_epoch: 9,
                commit,
            };
            let bytes = build_marker_batch(marker, 1_000);
            let header = validate(&bytes, CountRule::Compacted).expect("valid batch");
            assert!(header.is_control());
            assert!(header.is_transactional());
            assert_eq!(header.base_sequence, -1);
            assert_eq!(header.records_count, 1);
            assert_eq!(parse_marker(&bytes), Some(marker));
        }
    }

    #[test]
    fn marker_record_is_laid_out_as_kafka_writes_it() {
        // Key: version 0, type 1 (COMMIT); value: version 0, coordinator epoch 5.
        let marker = Marker {
            producer_id: 1,
            producer_epoch: 0,
            coordinator_epoch: 5,
            commit: true,
        };
        let bytes = build_marker_batch(marker, 0);
        let records = &bytes[HEADER_BYTES..];
        assert_eq!(
            records,
            &[32, 0, 0, 0, 8, 0, 0, 0, 1, 12, 0, 0, 0, 0, 0, 5, 0]
        );
    }

    #[test]
    fn data_batches_and_garbage_are_not_markers() {
        let data = sluice_engine::batch::build_batch(0, 0, 1, b"x");
        assert_eq!(parse_marker(&data), None);
        assert_eq!(parse_marker(&[0u8; 10]), None);
    }
}
