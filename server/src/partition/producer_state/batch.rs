//! The producer fields of one batch, read from its header (never from its records, so a
//! compressed batch is validated without decompressing it).

use sluice_engine::batch::BatchHeader;

/// `producerId` of a batch written without idempotence (Kafka's `RecordBatch.NO_PRODUCER_ID`).
pub const NO_PRODUCER_ID: i64 = -1;
/// `producerEpoch` of such a batch, and the epoch of a producer we know nothing of.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// `baseSequence` of such a batch.
pub const NO_SEQUENCE: i32 = -1;

/// What producer state needs of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerBatch {
    pub producer_id: i64,
    pub epoch: i16,
    pub first_seq: i32,
    /// `first_seq + lastOffsetDelta`, wrapping past `i32::MAX` to 0 as the client does.
    pub last_seq: i32,
    /// Offsets the batch takes: `lastOffsetDelta + 1`.
    pub offset_count: i64,
    pub max_timestamp_ms: i64,
    pub is_transactional: bool,
    pub is_control: bool,
}

impl ProducerBatch {
    /// `None` for a batch without a producer id (producer state ignores it), and for a header
    /// whose counts are negative (the engine's validation refuses it).
    pub fn from_header(header: &BatchHeader) -> Option<ProducerBatch> {
        if header.producer_id < 0 && !header.is_transactional() && !header.is_control() {
            return None;
        }
        if header.last_offset_delta < 0 {
            return None;
        }
        Some(ProducerBatch {
            producer_id: header.producer_id,
            epoch: header.producer_epoch,
            first_seq: header.base_sequence,
            last_seq: increment_sequence(header.base_sequence, header.last_offset_delta),
            offset_count: i64::from(header.last_offset_delta) + 1,
            max_timestamp_ms: header.max_timestamp,
            is_transactional: header.is_transactional(),
            is_control: header.is_control(),
        })
    }
}

/// `sequence + increment`, wrapping past `i32::MAX` to 0 (Kafka's `incrementSequence`).
pub fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    assert!(increment >= 0);
    if sequence < 0 {
        return sequence;
    }
    if sequence > i32::MAX - increment {
        return increment - (i32::MAX - sequence) - 1;
    }
    sequence + increment
}

/// True when `next` directly follows `last` (0 follows `i32::MAX`).
pub fn in_sequence(last: i32, next: i32) -> bool {
    i64::from(next) == i64::from(last) + 1 || (next == 0 && last == i32::MAX)
}
