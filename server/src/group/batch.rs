//! `__consumer_offsets` records as RecordBatch v2 (uncompressed, no producer id), the format
//! every Kafka tool reads; and back, for loading.

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
    TimestampType, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID,
};

use super::records::OffsetsRecord;

/// Bytes of keys and values per batch; stays well under the default `max.message.bytes`.
pub const BATCH_PAYLOAD_BYTES_MAX: usize = 512 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("encoding an offsets batch: {0}")]
    Encode(String),
    #[error("decoding an offsets batch: {0}")]
    Decode(String),
}

/// A decoded record with its offset in the partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedRecord {
    pub offset: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
}

/// Encodes `records` into one or more batches (base offset 0: the log assigns offsets),
/// splitting at `BATCH_PAYLOAD_BYTES_MAX`.
pub fn encode_batches(records: &[OffsetsRecord], now_ms: i64) -> Result<Vec<Bytes>, BatchError> {
    let mut batches = Vec::new();
    let mut chunk: Vec<Record> = Vec::new();
    let mut chunk_bytes = 0usize;
    for r in records {
        let bytes = r.key.len() + r.value.as_ref().map_or(0, |v| v.len());
        if !chunk.is_empty() && chunk_bytes + bytes > BATCH_PAYLOAD_BYTES_MAX {
            batches.push(encode_one(&chunk)?);
            chunk.clear();
            chunk_bytes = 0;
        }
        let index = chunk.len() as i64;
        chunk.push(Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            timestamp_type: TimestampType::Creation,
            offset: index,
            // The encoder starts a new batch whenever offset - sequence changes; keep it 0.
            sequence: index as i32,
            timestamp: now_ms,
            key: Some(r.key.clone()),
            value: r.value.clone(),
            headers: IndexMap::new(),
        });
        chunk_bytes += bytes;
    }
    if !chunk.is_empty() {
        batches.push(encode_one(&chunk)?);
    }
    Ok(batches)
}

fn encode_one(records: &[Record]) -> Result<Bytes, BatchError> {
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, records.iter(), &options)
        .map_err(|e| BatchError::Encode(e.to_string()))?;
    Ok(buf.freeze())
}

/// Decodes whole batches (as read back from the log) into records, in offset order. Control
/// batches are skipped.
pub fn decode_batches(mut bytes: Bytes) -> Result<Vec<LoadedRecord>, BatchError> {
    let sets = RecordBatchDecoder::decode_all(&mut bytes)
        .map_err(|e| BatchError::Decode(e.to_string()))?;
    let mut out = Vec::new();
    for set in sets {
        for r in set.records {
            if r.control {
                continue;
            }
            out.push(LoadedRecord {
                offset: r.offset,
                key: r.key,
                value: r.value,
            });
        }
    }
    Ok(out)
}
