//! The bytes of a producer-state snapshot file (`<offset:020>.snapshot` in the partition
//! directory: the state after every batch below `offset`). Sluice's own layout, not Kafka's
//! (which keeps only each producer's last batch); all remembered batches are kept so that
//! retries across a restart are still recognised.
//!
//! Layout, big-endian: magic u32, version u16, producer count u32, then per producer:
//! producer id i64, epoch i16, last timestamp i64, [version 2: current transaction first
//! offset i64 (-1: none), coordinator epoch i32,] batch count u8, then per batch: first seq
//! i32, last seq i32, first offset i64, last offset i64, timestamp i64. A CRC-32C of
//! everything before it ends the file. Version 1 (before transactions) is still read: its
//! producers have no ongoing transaction and no coordinator epoch.

use super::entry::{BatchMeta, ProducerEntry, BATCHES_RETAINED_PER_PRODUCER, NO_COORDINATOR_EPOCH};
use super::states::{ProducerStates, PRODUCERS_PER_PARTITION_MAX};

const MAGIC: u32 = 0x534c_5053; // "SLPS"
/// Written since transactions; [`VERSION_IDEMPOTENCE`] is still read.
const VERSION: u16 = 2;
const VERSION_IDEMPOTENCE: u16 = 1;
const HEADER_BYTES: usize = 4 + 2 + 4;
const ENTRY_BYTES: usize = 8 + 2 + 8 + 8 + 4 + 1;
const BATCH_BYTES: usize = 4 + 4 + 8 + 8 + 8;
const CRC_BYTES: usize = 4;
/// The largest snapshot: every producer with every batch.
pub const SNAPSHOT_BYTES_MAX: usize = HEADER_BYTES
    + PRODUCERS_PER_PARTITION_MAX * (ENTRY_BYTES + BATCHES_RETAINED_PER_PRODUCER * BATCH_BYTES)
    + CRC_BYTES;
const _: () = assert!(BATCHES_RETAINED_PER_PRODUCER <= u8::MAX as usize);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SnapshotError {
    #[error("producer snapshot of {0} bytes is truncated or too large")]
    Length(usize),
    #[error("producer snapshot checksum mismatch")]
    Crc,
    #[error("not a producer snapshot (magic {magic:#x}, version {version})")]
    Format { magic: u32, version: u16 },
    #[error("producer snapshot is inconsistent: {0}")]
    Inconsistent(&'static str),
}

pub fn encode(states: &ProducerStates) -> Vec<u8> {
    let mut entries: Vec<&ProducerEntry> = states.entries().collect();
    entries.sort_by_key(|entry| entry.producer_id);
    let mut out = Vec::with_capacity(HEADER_BYTES + entries.len() * ENTRY_BYTES + CRC_BYTES);
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&VERSION.to_be_bytes());
    let count = u32::try_from(entries.len()).expect("producer count is bounded");
    out.extend_from_slice(&count.to_be_bytes());
    for entry in entries {
        out.extend_from_slice(&entry.producer_id.to_be_bytes());
        out.extend_from_slice(&entry.epoch.to_be_bytes());
        out.extend_from_slice(&entry.last_timestamp_ms.to_be_bytes());
        let txn_first_offset = entry.current_txn_first_offset.unwrap_or(-1);
        out.extend_from_slice(&txn_first_offset.to_be_bytes());
        out.extend_from_slice(&entry.coordinator_epoch.to_be_bytes());
        assert!(entry.batches.len() <= BATCHES_RETAINED_PER_PRODUCER);
        out.push(entry.batches.len() as u8);
        for batch in &entry.batches {
            out.extend_from_slice(&batch.first_seq.to_be_bytes());
            out.extend_from_slice(&batch.last_seq.to_be_bytes());
            out.extend_from_slice(&batch.first_offset.to_be_bytes());
            out.extend_from_slice(&batch.last_offset.to_be_bytes());
            out.extend_from_slice(&batch.timestamp_ms.to_be_bytes());
        }
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    assert!(out.len() <= SNAPSHOT_BYTES_MAX);
    out
}

pub fn decode(data: &[u8]) -> Result<ProducerStates, SnapshotError> {
    if data.len() < HEADER_BYTES + CRC_BYTES || data.len() > SNAPSHOT_BYTES_MAX {
        return Err(SnapshotError::Length(data.len()));
    }
    let (body, crc) = data.split_at(data.len() - CRC_BYTES);
    if crc32c::crc32c(body) != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err(SnapshotError::Crc);
    }
    let mut reader = Reader { data: body, at: 0 };
    let magic = reader.u32()?;
    let version = reader.u16()?;
    if magic != MAGIC || (version != VERSION && version != VERSION_IDEMPOTENCE) {
        return Err(SnapshotError::Format { magic, version });
    }
    let count = reader.u32()? as usize;
    if count > PRODUCERS_PER_PARTITION_MAX {
        return Err(SnapshotError::Inconsistent("too many producers"));
    }
    let mut states = ProducerStates::default();
    for _ in 0..count {
        let producer_id = reader.i64()?;
        let epoch = reader.i16()?;
        let last_timestamp_ms = reader.i64()?;
        let (txn_first_offset, coordinator_epoch) = if version == VERSION {
            (reader.i64()?, reader.i32()?)
        } else {
            (-1, NO_COORDINATOR_EPOCH)
        };
        if txn_first_offset < -1 {
            return Err(SnapshotError::Inconsistent("bad transaction first offset"));
        }
        let batch_count = usize::from(reader.u8()?);
        if producer_id < 0 || batch_count > BATCHES_RETAINED_PER_PRODUCER {
            return Err(SnapshotError::Inconsistent("bad producer entry"));
        }
        let mut entry = ProducerEntry::new(producer_id, epoch);
        for _ in 0..batch_count {
            let batch = BatchMeta {
                first_seq: reader.i32()?,
                last_seq: reader.i32()?,
                first_offset: reader.i64()?,
                last_offset: reader.i64()?,
                timestamp_ms: reader.i64()?,
            };
            let ordered = entry
                .batches
                .back()
                .is_none_or(|last| last.last_offset < batch.first_offset);
            if batch.first_offset < 0 || batch.first_offset > batch.last_offset || !ordered {
                return Err(SnapshotError::Inconsistent("bad batch offsets"));
            }
            entry.push(epoch, batch);
        }
        entry.last_timestamp_ms = last_timestamp_ms;
        entry.current_txn_first_offset = (txn_first_offset >= 0).then_some(txn_first_offset);
        entry.coordinator_epoch = coordinator_epoch;
        if states.get(producer_id).is_some() {
            return Err(SnapshotError::Inconsistent("producer listed twice"));
        }
        states.insert(entry);
    }
    if reader.at != body.len() {
        return Err(SnapshotError::Length(data.len()));
    }
    assert_eq!(states.len(), count);
    Ok(states)
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let end = self.at + N;
        let Some(bytes) = self.data.get(self.at..end) else {
            return Err(SnapshotError::Length(self.data.len()));
        };
        self.at = end;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, SnapshotError> {
        Ok(u16::from_be_bytes(self.take()?))
    }
    fn i16(&mut self) -> Result<i16, SnapshotError> {
        Ok(i16::from_be_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_be_bytes(self.take()?))
    }
    fn i32(&mut self) -> Result<i32, SnapshotError> {
        Ok(i32::from_be_bytes(self.take()?))
    }
    fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(i64::from_be_bytes(self.take()?))
    }
}
