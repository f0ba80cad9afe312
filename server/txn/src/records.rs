//! The `__transaction_state` record formats, byte for byte as Kafka writes them
//! (`TransactionLogKey` v0 and `TransactionLogValue` v0/v1, each prefixed by its int16 version,
//! big-endian). A tombstone (expired id) is a record with this key and a null value.
//!
//! We write value v1 (flexible), with `PreviousProducerId` (tag 0) and `NextProducerId`
//! (tag 1) when not -1. Kafka 3.x writes v0; Kafka 4 writes v1 once transaction.version ≥ 1
//! but leaves both tags at their default. Both read back here; a v0 value reads them as -1.
//! Neither version holds `last_producer_epoch`: it always reads back as -1.

use std::collections::BTreeSet;

use crate::limits::TRANSACTIONAL_ID_BYTES_MAX;
use crate::limits::{NO_PRODUCER_EPOCH, NO_PRODUCER_ID, TOPIC_NAME_BYTES_MAX};
use crate::state::{TopicPartition, TxnMetadata, TxnState};

pub const KEY_VERSION: i16 = 0;
pub const VALUE_VERSION_V0: i16 = 0;
pub const VALUE_VERSION_V1: i16 = 1;
const TAG_PREVIOUS_PRODUCER_ID: u32 = 0;
const TAG_NEXT_PRODUCER_ID: u32 = 1;
/// Kafka 4's `ClientTransactionVersion` (int16); read past, never written.
const TAG_CLIENT_TRANSACTION_VERSION: u32 = 2;
/// More tagged fields than this in one value is garbage.
const TAGGED_FIELDS_MAX: u32 = 64;
/// An unsigned varint of a u32 takes at most 5 bytes.
const VARINT_BYTES_MAX: usize = 5;

/// Why bytes are not a valid record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The bytes end inside a field.
    Truncated,
    /// Bytes left after the last field.
    TrailingBytes(usize),
    /// A key version other than 0 (Kafka skips such records while loading).
    UnknownKeyVersion(i16),
    UnknownValueVersion(i16),
    /// A string that is not UTF-8, or longer than its bound.
    InvalidString,
    /// A negative length or count where none is allowed, or a malformed varint.
    InvalidLength,
    /// A `TransactionStatus` that no record holds (unknown, Dead or PrepareEpochFence).
    InvalidState(i8),
    /// Fields that are each valid but break the metadata rules (`TxnMetadata::check`).
    Inconsistent(&'static str),
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid __transaction_state record: {self:?}")
    }
}

impl std::error::Error for RecordError {}

/// The key of every record of `transactional_id` (v0: version, int16-length string).
pub fn encode_key(transactional_id: &str) -> Vec<u8> {
    assert!(!transactional_id.is_empty(), "empty transactional id");
    let mut out = Vec::with_capacity(4 + transactional_id.len());
    put_i16(&mut out, KEY_VERSION);
    put_string(&mut out, transactional_id, TRANSACTIONAL_ID_BYTES_MAX);
    out
}

pub fn decode_key(bytes: &[u8]) -> Result<String, RecordError> {
    let mut reader = Reader { bytes };
    let version = reader.i16()?;
    if version != KEY_VERSION {
        return Err(RecordError::UnknownKeyVersion(version));
    }
    let transactional_id = reader.string(TRANSACTIONAL_ID_BYTES_MAX)?;
    if transactional_id.is_empty() {
        return Err(RecordError::InvalidString);
    }
    reader.finish()?;
    Ok(transactional_id)
}

/// The value for `metadata` (v1). Panics on metadata no record holds (Dead is a tombstone).
pub fn encode_value(metadata: &TxnMetadata) -> Vec<u8> {
    metadata.assert_invariants();
    let mut out = Vec::with_capacity(64);
    put_i16(&mut out, VALUE_VERSION_V1);
    put_i64(&mut out, metadata.producer_id);
    put_i16(&mut out, metadata.producer_epoch);
    put_i32(&mut out, metadata.timeout_ms);
    out.push(metadata.state.code().to_be_bytes()[0]);
    if metadata.state == TxnState::Empty {
        put_uvarint(&mut out, 0); // a null array, as Kafka writes for Empty
    } else {
        let topics = group_by_topic(&metadata.partitions);
        put_uvarint(&mut out, len_u32(topics.len()) + 1);
        for (topic, partition_ids) in topics {
            put_compact_string(&mut out, topic);
            put_uvarint(&mut out, len_u32(partition_ids.len()) + 1);
            for partition_id in partition_ids {
                put_i32(&mut out, partition_id);
            }
            put_uvarint(&mut out, 0); // no tagged fields in PartitionsSchema
        }
    }
    put_i64(&mut out, metadata.last_update_timestamp_ms);
    put_i64(&mut out, metadata.start_timestamp_ms);
    let tags: Vec<(u32, i64)> = [
        (TAG_PREVIOUS_PRODUCER_ID, metadata.previous_producer_id),
        (TAG_NEXT_PRODUCER_ID, metadata.next_producer_id),
    ]
    .into_iter()
    .filter(|&(_, value)| value != NO_PRODUCER_ID)
    .collect();
    put_uvarint(&mut out, len_u32(tags.len()));
    for (tag, value) in tags {
        put_uvarint(&mut out, tag);
        put_uvarint(&mut out, 8);
        put_i64(&mut out, value);
    }
    out
}

/// The metadata a value holds (v0 or v1), checked against the metadata rules. Never panics.
pub fn decode_value(transactional_id: &str, bytes: &[u8]) -> Result<TxnMetadata, RecordError> {
    let mut reader = Reader { bytes };
    let version = reader.i16()?;
    let flexible = match version {
        VALUE_VERSION_V0 => false,
        VALUE_VERSION_V1 => true,
        _ => return Err(RecordError::UnknownValueVersion(version)),
    };
    let producer_id = reader.i64()?;
    let producer_epoch = reader.i16()?;
    let timeout_ms = reader.i32()?;
    let code = reader.i8()?;
    let state = TxnState::from_code(code)
        .filter(|state| state.is_durable())
        .ok_or(RecordError::InvalidState(code))?;
    let partitions = reader.partitions(flexible)?;
    let last_update_timestamp_ms = reader.i64()?;
    let start_timestamp_ms = reader.i64()?;
    let (mut previous_producer_id, mut next_producer_id) = (NO_PRODUCER_ID, NO_PRODUCER_ID);
    if flexible {
        let count = reader.uvarint()?;
        if count > TAGGED_FIELDS_MAX {
            return Err(RecordError::InvalidLength);
        }
        for _ in 0..count {
            let tag = reader.uvarint()?;
            let size = reader.uvarint()? as usize;
            let mut field = Reader {
                bytes: reader.take(size)?,
            };
            match tag {
                TAG_PREVIOUS_PRODUCER_ID => previous_producer_id = field.i64()?,
                TAG_NEXT_PRODUCER_ID => next_producer_id = field.i64()?,
                TAG_CLIENT_TRANSACTION_VERSION => {
                    field.i16()?;
                }
                _ => field.bytes = &[], // an unknown tag is skipped, as Kafka does
            }
            field.finish()?;
        }
    }
    reader.finish()?;
    let metadata = TxnMetadata {
        transactional_id: transactional_id.to_owned(),
        producer_id,
        previous_producer_id,
        next_producer_id,
        producer_epoch,
        last_producer_epoch: NO_PRODUCER_EPOCH,
        timeout_ms,
        state,
        // Kafka ignores the partitions of an Empty value.
        partitions: if state == TxnState::Empty {
            BTreeSet::new()
        } else {
            partitions
        },
        start_timestamp_ms,
        last_update_timestamp_ms,
    };
    metadata.check().map_err(RecordError::Inconsistent)?;
    Ok(metadata)
}

fn group_by_topic(partitions: &BTreeSet<TopicPartition>) -> Vec<(&str, Vec<i32>)> {
    let mut topics: Vec<(&str, Vec<i32>)> = Vec::new();
    for partition in partitions {
        match topics.last_mut() {
            Some((topic, ids)) if *topic == partition.topic => ids.push(partition.partition),
            _ => topics.push((&partition.topic, vec![partition.partition])),
        }
    }
    topics
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len)
        .ok()
        .filter(|&len| len < u32::MAX)
        .expect("length fits a varint")
}

fn put_i16(out: &mut Vec<u8>, value: i16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_i32(out: &mut Vec<u8>, value: i32) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_i64(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_uvarint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_string(out: &mut Vec<u8>, value: &str, bytes_max: usize) {
    assert!(value.len() <= bytes_max, "string of {} bytes", value.len());
    let len = i16::try_from(value.len()).expect("bounded by bytes_max");
    put_i16(out, len);
    out.extend_from_slice(value.as_bytes());
}

fn put_compact_string(out: &mut Vec<u8>, value: &str) {
    assert!(
        value.len() <= TOPIC_NAME_BYTES_MAX,
        "topic of {} bytes",
        value.len()
    );
    put_uvarint(out, len_u32(value.len()) + 1);
    out.extend_from_slice(value.as_bytes());
}

/// Reads fields off the front of `bytes`; every read checks the length first.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], RecordError> {
        if len > self.bytes.len() {
            return Err(RecordError::Truncated);
        }
        let (head, tail) = self.bytes.split_at(len);
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RecordError> {
        let head = self.take(N)?;
        let mut array = [0; N];
        array.copy_from_slice(head);
        Ok(array)
    }

    fn i8(&mut self) -> Result<i8, RecordError> {
        Ok(i8::from_be_bytes(self.array()?))
    }

    fn i16(&mut self) -> Result<i16, RecordError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32, RecordError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, RecordError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    fn uvarint(&mut self) -> Result<u32, RecordError> {
        let mut value: u32 = 0;
        for index in 0..VARINT_BYTES_MAX {
            let byte = self.array::<1>()?[0];
            let bits = u32::from(byte & 0x7f);
            if index == VARINT_BYTES_MAX - 1 && bits > 0x0f {
                return Err(RecordError::InvalidLength);
            }
            value |= bits << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(RecordError::InvalidLength)
    }

    fn utf8(&mut self, len: usize, bytes_max: usize) -> Result<String, RecordError> {
        if len > bytes_max {
            return Err(RecordError::InvalidString);
        }
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| RecordError::InvalidString)
    }

    /// An int16-length string (non-flexible versions).
    fn string(&mut self, bytes_max: usize) -> Result<String, RecordError> {
        let len = usize::try_from(self.i16()?).map_err(|_| RecordError::InvalidLength)?;
        self.utf8(len, bytes_max)
    }

    /// A uvarint length+1 string (flexible versions), not null.
    fn compact_string(&mut self, bytes_max: usize) -> Result<String, RecordError> {
        let len_plus_one = self.uvarint()? as usize;
        let len = len_plus_one
            .checked_sub(1)
            .ok_or(RecordError::InvalidLength)?;
        self.utf8(len, bytes_max)
    }

    /// An array count: None for null; never more elements than `element_bytes_min`-byte
    /// elements fit in what is left (nothing is allocated for a count the bytes can't hold).
    fn count(
        &mut self,
        flexible: bool,
        element_bytes_min: usize,
    ) -> Result<Option<usize>, RecordError> {
        let count = if flexible {
            match self.uvarint()? {
                0 => return Ok(None),
                len_plus_one => (len_plus_one - 1) as usize,
            }
        } else {
            match self.i32()? {
                -1 => return Ok(None),
                count => usize::try_from(count).map_err(|_| RecordError::InvalidLength)?,
            }
        };
        if count.saturating_mul(element_bytes_min) > self.bytes.len() {
            return Err(RecordError::Truncated);
        }
        Ok(Some(count))
    }

    /// `TransactionPartitions` (nullable; null reads as no partitions).
    fn partitions(&mut self, flexible: bool) -> Result<BTreeSet<TopicPartition>, RecordError> {
        let mut partitions = BTreeSet::new();
        // A topic entry takes at least 2 bytes flexible (two lengths), 6 bytes otherwise.
        let topics = self
            .count(flexible, if flexible { 2 } else { 6 })?
            .unwrap_or(0);
        for _ in 0..topics {
            let topic = if flexible {
                self.compact_string(TOPIC_NAME_BYTES_MAX)?
            } else {
                self.string(TOPIC_NAME_BYTES_MAX)?
            };
            if topic.is_empty() {
                return Err(RecordError::InvalidString);
            }
            let ids = self.count(flexible, 4)?.ok_or(RecordError::InvalidLength)?;
            for _ in 0..ids {
                let partition = self.i32()?;
                if partition < 0 {
                    return Err(RecordError::Inconsistent("negative partition"));
                }
                partitions.insert(TopicPartition {
                    topic: topic.clone(),
                    partition,
                });
            }
            if flexible {
                self.skip_tagged_fields()?;
            }
        }
        Ok(partitions)
    }

    fn skip_tagged_fields(&mut self) -> Result<(), RecordError> {
        let count = self.uvarint()?;
        if count > TAGGED_FIELDS_MAX {
            return Err(RecordError::InvalidLength);
        }
        for _ in 0..count {
            self.uvarint()?;
            let size = self.uvarint()? as usize;
            self.take(size)?;
        }
        Ok(())
    }

    fn finish(&self) -> Result<(), RecordError> {
        match self.bytes.len() {
            0 => Ok(()),
            left => Err(RecordError::TrailingBytes(left)),
        }
    }
}
