//! Owner side of Fetch: read whole batches from each partition up to its high watermark (its
//! last stable offset for read_committed, with the aborted transactions that overlap the
//! data), as chunks another shard's connection can send without copying. A follower's fetch
//! reads up to the log end.

use std::rc::Rc;
use std::sync::Arc;

use sluice_engine::{ReadChunk, ReadError};

use super::append::missing_code;
use super::leader_fetch::{ReplicaFetch, ReplicaFetchCheck};
use super::messages::{OutChunk, PartitionRead, ReadSpec, ReplicaReadSpec};
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
    let last_stable_offset = partition.last_stable_offset();
    let start = partition.log_start_offset();
    let end = partition.log_end_offset();
    if let Err(code) = partition.check_client_epoch(spec.current_leader_epoch) {
        return PartitionRead::error(code, high_watermark, start);
    }
    // Between the readable end and the log end is data not yet readable: an empty answer,
    // as Kafka gives a consumer ahead of the high watermark. Past the log end is out of range.
    if spec.fetch_offset < start || spec.fetch_offset > end {
        let code = ResponseError::OffsetOutOfRange.code();
        return PartitionRead::error(code, high_watermark, start);
    }
    let readable_end = if spec.read_committed {
        last_stable_offset
    } else {
        high_watermark
    };
    if spec.fetch_offset >= readable_end {
        let mut empty = PartitionRead::error(NONE, high_watermark, start);
        empty.last_stable_offset = last_stable_offset;
        empty.aborted = spec.read_committed.then(Vec::new);
        return empty;
    }
    let (read, aborted) = if spec.read_committed {
        let aborted = std::cell::RefCell::new(None);
        let read = async {
            let (result, found) = partition
                .read_committed(spec.fetch_offset, spec.max_bytes)
                .await?;
            let found: Vec<(i64, i64)> = found
                .iter()
                .map(|txn| (txn.producer_id, txn.first_offset))
                .collect();
            *aborted.borrow_mut() = Some(found);
            Ok(result)
        };
        let read = crate::metrics::hooks::read(read).await;
        (read, aborted.into_inner())
    } else {
        let read = partition.read(spec.fetch_offset, spec.max_bytes);
        (crate::metrics::hooks::read(read).await, None)
    };
    let mut out = into_partition_read(&spec.topic, spec.partition, partition, read).await;
    if out.error_code == NONE {
        out.aborted = aborted;
    }
    out
}

/// The engine's answer as the fetch response's partition: chunks any shard's connection can
/// send without copying, or Kafka's error.
async fn into_partition_read(
    topic: &str,
    index: i32,
    partition: &Partition,
    read: Result<sluice_engine::ReadResult, ReadError>,
) -> PartitionRead {
    let high_watermark = partition.high_watermark();
    let start = partition.log_start_offset();
    match read {
        Ok(result) => {
            let mut chunks = Vec::with_capacity(result.chunks.len());
            for chunk in result.chunks {
                match out_chunk(chunk).await {
                    Ok(chunk) => chunks.push(chunk),
                    Err(err) => {
                        tracing::error!(%topic, partition = index, "read: {err}");
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
                last_stable_offset: partition.last_stable_offset(),
                log_start_offset: result.log_start_offset,
                aborted: None,
                diverging_epoch: None,
                chunks,
                bytes,
            }
        }
        Err(ReadError::OffsetOutOfRange { .. }) => {
            let code = ResponseError::OffsetOutOfRange.code();
            PartitionRead::error(code, high_watermark, start)
        }
        Err(err) => {
            tracing::error!(%topic, partition = index, "read failed: {err}");
            let code = ResponseError::KafkaStorageError.code();
            PartitionRead::error(code, high_watermark, start)
        }
    }
}

/// A follower's fetch of each part: the leader's checks (`leader_fetch.rs`), then batches up
/// to the log end. Wakes acks=all producers and consumers when the high watermark moved, and
/// flushes here when that moves it further.
pub async fn read_for_replica(
    partitions: &Rc<Partitions>,
    meta: &ClusterMeta,
    owns: impl Fn(&str, i32) -> bool,
    replica_id: i32,
    specs: Vec<ReplicaReadSpec>,
    record: bool,
    now_ms: u64,
) -> Vec<PartitionRead> {
    let mut results = Vec::with_capacity(specs.len());
    let mut moved = false;
    let mut flush_helps = false;
    for spec in specs {
        let Some(partition) = partitions.get(&spec.topic, spec.partition) else {
            let code = missing_code(meta, &owns, &spec.topic, spec.partition);
            results.push(PartitionRead::error(code, -1, -1));
            continue;
        };
        let fetch = ReplicaFetch {
            replica_id,
            fetch_offset: spec.fetch_offset,
            last_fetched_epoch: spec.last_fetched_epoch,
            current_leader_epoch: spec.current_leader_epoch,
        };
        let check = partition.check_replica_fetch(fetch, record, now_ms);
        let high_watermark = partition.high_watermark();
        let start = partition.log_start_offset();
        match check {
            Err(code) => results.push(PartitionRead::error(code, high_watermark, start)),
            Ok(ReplicaFetchCheck::Diverging(diverging)) => {
                let mut read = PartitionRead::error(NONE, high_watermark, start);
                read.diverging_epoch = Some(diverging);
                results.push(read);
            }
            Ok(ReplicaFetchCheck::Serve {
                high_watermark_moved,
                leader_flush_helps,
            }) => {
                moved |= high_watermark_moved;
                flush_helps |= leader_flush_helps;
                let read = partition.read_to_log_end(spec.fetch_offset, spec.max_bytes);
                results.push(
                    into_partition_read(&spec.topic, spec.partition, &partition, read.await).await,
                );
            }
        }
    }
    if moved {
        partitions.data_notify().notify();
    }
    if flush_helps {
        let partitions = partitions.clone();
        glommio::spawn_local(async move {
            if let Err(err) = partitions.flush_round().await {
                tracing::warn!("flush for the high watermark failed: {err}");
            }
        })
        .detach();
    }
    results
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
