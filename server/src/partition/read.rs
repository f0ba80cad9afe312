//! Owner side of Fetch: read whole batches from each partition up to its high watermark, as
//! chunks another shard's connection can send without copying.

use std::sync::Arc;

use sluice_engine::{ReadChunk, ReadError};

use super::append::missing_code;
use super::messages::{OutChunk, PartitionRead, ReadSpec};
use super::partition::Partition;
use super::registry::Partitions;
use crate::error_code::{ResponseError, NONE};
use crate::topics::ClusterMeta;

pub async fn read(
    partitions: &Partitions,
    meta: &ClusterMeta,
    owns: impl Fn(&str, i32) -> bool,
    specs: Vec<ReadSpec>,
) -> Vec<PartitionRead> {
    let mut results = Vec::with_capacity(specs.len());
    for spec in specs {
        let Some(partition) = partitions.get(&spec.topic, spec.partition) else {
            let code = missing_code(meta, &owns, &spec.topic, spec.partition);
            results.push(PartitionRead::error(code, -1, -1));
            continue;
        };
        results.push(read_one(&partition, &spec).await);
    }
    results
}

async fn read_one(partition: &Partition, spec: &ReadSpec) -> PartitionRead {
    let high_watermark = partition.high_watermark();
    let start = partition.log_start_offset();
    let end = partition.log_end_offset();
    // Between the high watermark and the log end is data not yet readable: an empty answer,
    // as Kafka gives a consumer ahead of the high watermark. Past the log end is out of range.
    if spec.fetch_offset < start || spec.fetch_offset > end {
        let code = ResponseError::OffsetOutOfRange.code();
        return PartitionRead::error(code, high_watermark, start);
    }
    if spec.fetch_offset >= high_watermark {
        return PartitionRead::error(NONE, high_watermark, start);
    }
    let read = partition.read(spec.fetch_offset, spec.max_bytes);
    match crate::metrics::hooks::read(read).await {
        Ok(result) => {
            let mut chunks = Vec::with_capacity(result.chunks.len());
            for chunk in result.chunks {
                match out_chunk(chunk).await {
                    Ok(chunk) => chunks.push(chunk),
                    Err(err) => {
                        tracing::error!(topic = %spec.topic, partition = spec.partition, "read: {err}");
                        let code = ResponseError::KafkaStorageError.code();
                        return PartitionRead::error(code, high_watermark, start);
                    }
                }
            }
            let bytes = chunks.iter().map(|c| c.len() as u32).sum();
            assert_eq!(bytes, result.bytes);
            PartitionRead {
                error_code: NONE,
                high_watermark,
                log_start_offset: result.log_start_offset,
                chunks,
                bytes,
            }
        }
        Err(ReadError::OffsetOutOfRange { .. }) => {
            let code = ResponseError::OffsetOutOfRange.code();
            PartitionRead::error(code, high_watermark, partition.log_start_offset())
        }
        Err(err) => {
            tracing::error!(topic = %spec.topic, partition = spec.partition, "read failed: {err}");
            let code = ResponseError::KafkaStorageError.code();
            PartitionRead::error(code, high_watermark, start)
        }
    }
}

/// A file range leaves the shard as a dup'd fd so any shard's connection can sendfile it;
/// storage without a real fd (in-memory) hands over a copy of the bytes.
async fn out_chunk(chunk: ReadChunk) -> std::io::Result<OutChunk> {
    Ok(match chunk {
        ReadChunk::Cached(bytes) => OutChunk::Bytes(bytes),
        ReadChunk::File(range) => match range.try_clone_fd()? {
            Some(file) => OutChunk::File {
                file: Arc::new(file),
                position: range.position,
                len: range.len,
            },
            None => OutChunk::Bytes(ReadChunk::File(range).to_bytes().await?),
        },
    })
}
