//! The owner-side work of every cross-shard request: this is where a shard touches its own
//! partition logs. Called for requests from other shards and, on the same path, for our own.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::future;
use sluice_engine::{AppendError, ReadChunk, ReadError};

use super::messages::*;
use super::metadata;
use super::shard::Shard;
use super::timestamp_lookup;
use crate::kafka::errors;
use crate::util::join_all;

/// Serves one request and sends its reply. A send error only means the requester went away.
pub async fn serve(shard: Rc<Shard>, request: ShardRequest) {
    crate::metrics::hooks::dequeued(&request);
    match request {
        ShardRequest::Produce {
            parts,
            now_ms,
            reply,
            ..
        } => {
            let results = produce(&shard, parts, now_ms).await;
            reply.send(results).ok();
        }
        ShardRequest::Flush { parts, reply } => {
            reply.send(flush(&shard, parts).await).ok();
        }
        ShardRequest::Read { parts, reply, .. } => {
            reply.send(read(&shard, parts).await).ok();
        }
        ShardRequest::WaitForData {
            parts,
            wait_ms,
            reply,
        } => {
            wait_for_data(&shard, &parts, wait_ms).await;
            reply.send(()).ok();
        }
        ShardRequest::ListOffsets { queries, reply } => {
            reply.send(list_offsets(&shard, queries).await).ok();
        }
        ShardRequest::Admin { op, reply } => {
            reply.send(metadata::execute(&shard, op).await).ok();
        }
        ShardRequest::ApplyMeta { meta, reply } => {
            metadata::apply(&shard, meta).await;
            reply.send(()).ok();
        }
        ShardRequest::Group(call) => crate::group::service::serve(shard, call).await,
    }
}

fn produce_error(error_code: i16, message: String) -> ProducePartResult {
    ProducePartResult {
        error_code,
        error_message: Some(message),
        base_offset: -1,
        log_append_time_ms: -1,
        log_start_offset: -1,
    }
}

async fn produce(
    shard: &Rc<Shard>,
    parts: Vec<ProducePart>,
    now_ms: i64,
) -> Vec<ProducePartResult> {
    let mut results = Vec::with_capacity(parts.len());
    let mut appended = false;
    for part in parts {
        let Some(log) = shard.log(&part.topic, part.partition) else {
            let message = format!("{}-{} is not on this broker", part.topic, part.partition);
            let code = missing_log_code(shard, &part.topic, part.partition);
            results.push(produce_error(code, message));
            continue;
        };
        let append = log.append(&part.batches, now_ms);
        match crate::metrics::hooks::append(&part.batches, append).await {
            Ok(info) => {
                appended = true;
                assert!(info.last_offset >= info.base_offset);
                results.push(ProducePartResult {
                    error_code: errors::NONE,
                    error_message: None,
                    base_offset: info.base_offset,
                    log_append_time_ms: info.log_append_time_ms,
                    log_start_offset: log.log_start_offset(),
                });
            }
            Err(err) => {
                let code = append_error_code(&err);
                if code == errors::KAFKA_STORAGE_ERROR {
                    tracing::error!(topic = %part.topic, partition = part.partition, "append failed: {err}");
                }
                results.push(produce_error(code, err.to_string()));
            }
        }
    }
    if appended {
        shard.notify.notify();
    }
    results
}

/// A partition the metadata has but whose log is not open here failed to open (its error was
/// logged then): a storage error, not an unknown partition. Otherwise the topic is gone.
fn missing_log_code(shard: &Shard, topic: &str, partition: i32) -> i16 {
    let meta = shard.meta();
    let known = meta.topic(topic).is_some_and(|t| partition < t.partitions);
    if known && shard.owns(topic, partition) {
        errors::KAFKA_STORAGE_ERROR
    } else {
        errors::UNKNOWN_TOPIC_OR_PARTITION
    }
}

fn append_error_code(err: &AppendError) -> i16 {
    match err {
        AppendError::Corrupt { .. } => errors::CORRUPT_MESSAGE,
        AppendError::InvalidBatch { .. } => errors::INVALID_RECORD,
        AppendError::TooLarge { .. } => errors::MESSAGE_TOO_LARGE,
        AppendError::Storage(_) => errors::KAFKA_STORAGE_ERROR,
        #[allow(unreachable_patterns)]
        _ => errors::UNKNOWN_SERVER_ERROR,
    }
}

async fn flush(shard: &Rc<Shard>, parts: Vec<(String, i32)>) -> Vec<i16> {
    let flushes = parts
        .iter()
        .map(|(topic, partition)| {
            let log = shard.log(topic, *partition);
            async move {
                let Some(log) = log else {
                    return errors::UNKNOWN_TOPIC_OR_PARTITION;
                };
                match crate::metrics::hooks::flush(log.flush()).await {
                    Ok(_) => errors::NONE,
                    Err(err) => {
                        tracing::error!(%topic, partition, "flush failed: {err}");
                        errors::KAFKA_STORAGE_ERROR
                    }
                }
            }
        })
        .collect();
    join_all(flushes).await
}

fn read_error(error_code: i16, high_watermark: i64, log_start_offset: i64) -> PartitionRead {
    PartitionRead {
        error_code,
        high_watermark,
        log_start_offset,
        chunks: Vec::new(),
        bytes: 0,
    }
}

async fn read(shard: &Rc<Shard>, parts: Vec<ReadSpec>) -> Vec<PartitionRead> {
    let mut results = Vec::with_capacity(parts.len());
    for spec in parts {
        let Some(log) = shard.log(&spec.topic, spec.partition) else {
            let code = missing_log_code(shard, &spec.topic, spec.partition);
            results.push(read_error(code, -1, -1));
            continue;
        };
        let end = log.log_end_offset();
        let start = log.log_start_offset();
        if spec.fetch_offset < start || spec.fetch_offset > end {
            results.push(read_error(errors::OFFSET_OUT_OF_RANGE, end, start));
            continue;
        }
        if spec.fetch_offset == end {
            results.push(read_error(errors::NONE, end, start));
            continue;
        }
        results.push(read_one(&log, &spec, end, start).await);
    }
    results
}

async fn read_one(
    log: &sluice_engine::PartitionLog,
    spec: &ReadSpec,
    end: i64,
    start: i64,
) -> PartitionRead {
    match crate::metrics::hooks::read(log.read(spec.fetch_offset, spec.max_bytes, end)).await {
        Ok(result) => {
            let mut chunks = Vec::with_capacity(result.chunks.len());
            for chunk in result.chunks {
                match out_chunk(chunk).await {
                    Ok(chunk) => chunks.push(chunk),
                    Err(err) => {
                        tracing::error!(topic = %spec.topic, partition = spec.partition, "read: {err}");
                        return read_error(errors::KAFKA_STORAGE_ERROR, end, start);
                    }
                }
            }
            let bytes = chunks.iter().map(|c| c.len() as u32).sum();
            assert_eq!(bytes, result.bytes);
            PartitionRead {
                error_code: errors::NONE,
                high_watermark: end,
                log_start_offset: result.log_start_offset,
                chunks,
                bytes,
            }
        }
        Err(ReadError::OffsetOutOfRange { .. }) => {
            read_error(errors::OFFSET_OUT_OF_RANGE, end, log.log_start_offset())
        }
        Err(err) => {
            tracing::error!(topic = %spec.topic, partition = spec.partition, "read failed: {err}");
            read_error(errors::KAFKA_STORAGE_ERROR, end, start)
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

fn has_data(shard: &Shard, parts: &[(String, i32, i64)]) -> bool {
    parts.iter().any(
        |(topic, partition, offset)| match shard.log(topic, *partition) {
            Some(log) => log.log_end_offset() > *offset,
            None => true,
        },
    )
}

async fn wait_for_data(shard: &Rc<Shard>, parts: &[(String, i32, i64)], wait_ms: u64) {
    let deadline = Instant::now() + Duration::from_millis(wait_ms);
    loop {
        let generation = shard.notify.generation();
        if has_data(shard, parts) || crate::signals::shutdown_requested() {
            return;
        }
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        let changed = shard.notify.changed_since(generation);
        let timer = glommio::timer::sleep(deadline - now);
        future::or(changed, timer).await;
    }
}

async fn list_offsets(shard: &Rc<Shard>, queries: Vec<OffsetQuery>) -> Vec<OffsetAnswer> {
    let mut answers = Vec::with_capacity(queries.len());
    for query in queries {
        let answer = match shard.log(&query.topic, query.partition) {
            None => OffsetAnswer {
                error_code: errors::UNKNOWN_TOPIC_OR_PARTITION,
                timestamp: -1,
                offset: -1,
            },
            Some(log) => offset_answer(&log, query.timestamp).await,
        };
        answers.push(answer);
    }
    answers
}

const LATEST_TIMESTAMP: i64 = -1;
const EARLIEST_TIMESTAMP: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL_TIMESTAMP: i64 = -4;

async fn offset_answer(log: &sluice_engine::PartitionLog, timestamp: i64) -> OffsetAnswer {
    let ok = |timestamp, offset| OffsetAnswer {
        error_code: errors::NONE,
        timestamp,
        offset,
    };
    match timestamp {
        LATEST_TIMESTAMP => ok(-1, log.log_end_offset()),
        EARLIEST_TIMESTAMP | EARLIEST_LOCAL_TIMESTAMP => ok(-1, log.log_start_offset()),
        MAX_TIMESTAMP => match log.max_timestamp_and_offset() {
            Some((ts, offset)) => ok(ts, offset),
            None => ok(-1, -1),
        },
        ts if ts < 0 => OffsetAnswer {
            error_code: errors::INVALID_REQUEST,
            timestamp: -1,
            offset: -1,
        },
        ts => match log.offset_for_timestamp(ts).await {
            Ok(Some(batch_answer)) => {
                let (offset, found_ts) =
                    timestamp_lookup::first_record_at_or_after(log, batch_answer, ts).await;
                ok(found_ts, offset)
            }
            Ok(None) => ok(-1, -1),
            Err(err) => {
                tracing::error!("offset_for_timestamp failed: {err}");
                OffsetAnswer {
                    error_code: errors::KAFKA_STORAGE_ERROR,
                    timestamp: -1,
                    offset: -1,
                }
            }
        },
    }
}
