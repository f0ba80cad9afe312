//! ListOffsets by time, record-exact. Kafka answers with the first *record* whose timestamp is at
//! or after the time asked; the engine's index answers with the batch (it never decompresses).
//! This narrows the engine's batch to the record, decoding (and if need be decompressing) that
//! one batch. Runs on the partition's owner shard; rare, so the copy and decode are acceptable.

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::RecordBatchDecoder;
use sluice_engine::batch::{self, BatchHeader};

use super::partition::Partition;
use crate::util::catch_decoder_panic;

/// `(offset, timestamp)` of the first record at or after `timestamp_ms` in the batch the engine
/// found (`batch_answer`); the engine's answer itself when the batch can't be narrowed.
pub async fn first_record_at_or_after(
    partition: &Partition,
    batch_answer: (i64, i64),
    timestamp_ms: i64,
) -> (i64, i64) {
    let (batch_offset, _) = batch_answer;
    let Some((batch, header)) = read_batch(partition, batch_offset).await else {
        return batch_answer;
    };
    if header.is_log_append_time() {
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
async fn read_batch(partition: &Partition, offset: i64) -> Option<(Bytes, BatchHeader)> {
    let read = partition.read(offset, 1).await.ok()?;
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
    let header = batch::parse_header(&bytes).ok()?;
    let end = header.total_bytes();
    if end > bytes.len() {
        return None;
    }
    Some((bytes.slice(..end), header))
}
