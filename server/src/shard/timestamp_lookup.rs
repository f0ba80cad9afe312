//! ListOffsets by time, record-exact. Kafka answers with the first *record* whose timestamp is at
//! or after the time asked; the engine's index answers with the batch (it never decompresses).
//! This narrows the engine's batch to the record, decoding (and if need be decompressing) that
//! one batch. Runs on the partition's owner shard; rare, so the copy and decode are acceptable.

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::RecordBatchDecoder;
use sluice_engine::PartitionLog;

use crate::util::catch_decoder_panic;

/// RecordBatch v2 layout: batchLength at 8..12, attributes at 21..23 (bit 3: LogAppendTime).
const BATCH_LENGTH_AT: usize = 8;
const BATCH_LOG_OVERHEAD: usize = 12;
const ATTRIBUTES_AT: usize = 21;
const ATTRIBUTE_LOG_APPEND_TIME: u16 = 1 << 3;
const BATCH_HEADER_BYTES: usize = 61;

/// `(offset, timestamp)` of the first record at or after `timestamp_ms` in the batch the engine
/// found (`batch_answer`); the engine's answer itself when the batch can't be narrowed.
pub async fn first_record_at_or_after(
    log: &PartitionLog,
    batch_answer: (i64, i64),
    timestamp_ms: i64,
) -> (i64, i64) {
    let (batch_offset, _) = batch_answer;
    let Some(batch) = read_batch(log, batch_offset).await else {
        return batch_answer;
    };
    let attributes = u16::from_be_bytes([batch[ATTRIBUTES_AT], batch[ATTRIBUTES_AT + 1]]);
    if attributes & ATTRIBUTE_LOG_APPEND_TIME != 0 {
        // Every record carries the batch's append time: the batch start is the answer.
        return batch_answer;
    }
    let mut input = batch;
    let decoded = catch_decoder_panic(|| RecordBatchDecoder::decode(&mut input));
    let Some(Ok(records)) = decoded else {
        tracing::warn!(
            offset = batch_offset,
            "cannot decode batch for a time lookup"
        );
        return batch_answer;
    };
    records
        .records
        .iter()
        .find(|record| record.timestamp >= timestamp_ms && record.offset >= batch_offset)
        .map(|record| (record.offset, record.timestamp))
        .unwrap_or(batch_answer)
}

/// The bytes of the batch containing `offset` (the engine returns whole batches).
async fn read_batch(log: &PartitionLog, offset: i64) -> Option<Bytes> {
    let read = log.read(offset, 1, log.log_end_offset()).await.ok()?;
    // One batch may come as several chunks (a cached batch is its rewritten head, then its
    // body): join them all.
    let mut joined = BytesMut::with_capacity(read.bytes as usize);
    for chunk in &read.chunks {
        match chunk.to_bytes().await {
            Ok(bytes) => joined.extend_from_slice(&bytes),
            Err(err) => {
                tracing::warn!(offset, "time lookup read failed: {err}");
                return None;
            }
        }
    }
    let bytes = joined.freeze();
    if bytes.len() < BATCH_HEADER_BYTES {
        return None;
    }
    let at = BATCH_LENGTH_AT;
    let length = i32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let end = BATCH_LOG_OVERHEAD.checked_add(usize::try_from(length).ok()?)?;
    if end > bytes.len() || end < BATCH_HEADER_BYTES {
        return None;
    }
    Some(bytes.slice(..end))
}
