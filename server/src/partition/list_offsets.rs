//! Owner side of ListOffsets. Answers come from the readable log: a partition with unflushed
//! data is flushed first (a group commit), so "latest" covers every batch acknowledged before
//! the request, and no answer points at data a crash could still take back. The request's
//! current leader epoch is checked against the partition's (KIP-320), and a leader whose high
//! watermark lags the start of its epoch does not answer "latest" yet (KIP-207). A
//! read_committed query ends at the last stable offset instead of the high watermark.

use std::rc::Rc;

use super::epoch_end;
use super::epoch_fence::check_current_leader_epoch;
use super::messages::{OffsetAnswer, OffsetQuery};
use super::partition::Partition;
use super::registry::Partitions;
use super::timestamp_lookup;
use crate::error_code::{ResponseError, NONE};

const LATEST_TIMESTAMP: i64 = -1;
const EARLIEST_TIMESTAMP: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL_TIMESTAMP: i64 = -4;

pub async fn list_offsets(
    partitions: &Rc<Partitions>,
    queries: Vec<OffsetQuery>,
) -> Vec<OffsetAnswer> {
    let mut answers = Vec::with_capacity(queries.len());
    let mut flushed = false;
    for query in queries {
        let answer = match partitions.get(&query.topic, query.partition) {
            None => error(ResponseError::UnknownTopicOrPartition),
            Some(partition) => {
                if partition.has_unflushed_data() && !flushed {
                    flushed = true;
                    if let Err(err) = partitions.flush_round().await {
                        tracing::error!("flush before ListOffsets failed: {err}");
                    }
                }
                offset_answer(&partition, &query).await
            }
        };
        answers.push(answer);
    }
    answers
}

fn error(error: ResponseError) -> OffsetAnswer {
    error_answer(error.code())
}

fn error_answer(error_code: i16) -> OffsetAnswer {
    assert_ne!(error_code, NONE);
    OffsetAnswer {
        error_code,
        timestamp: -1,
        offset: -1,
        leader_epoch: -1,
    }
}

/// Kafka's `Partition.fetchOffsetForTimestamp` on the leader: the current leader epoch check,
/// then the offset. A consumer gets OFFSET_NOT_AVAILABLE (retriable) for "latest", and for a
/// timestamp lookup that finds nothing readable, while the high watermark is below the start of
/// the leader's epoch (KIP-207): a new leader's high watermark can be behind the old leader's,
/// and answering from it would move a consumer's offsets backwards.
async fn offset_answer(partition: &Partition, query: &OffsetQuery) -> OffsetAnswer {
    let leader_epoch = partition.leader_epoch();
    let fenced = check_current_leader_epoch(query.current_leader_epoch, leader_epoch);
    if fenced != NONE {
        return error_answer(fenced);
    }
    let high_watermark = partition.high_watermark();
    // What the query may see: up to the high watermark, or the last stable offset.
    let fetchable_end = partition.readable_end(query.read_committed);
    let log_start = partition.log_start_offset();
    let cache = partition.log().leader_epochs();
    let log_end = partition.log_end_offset();
    let entries = epoch_end::leader_entries(&cache.entries, log_start, leader_epoch, log_end);
    let epoch_start = epoch_end::start_offset_of(&entries, leader_epoch);
    let lagging = query.from_consumer && epoch_start.is_some_and(|start| start > high_watermark);
    // Kafka names the epoch of the record at the offset; an offset at the log end of a log
    // without entries (empty) is where the current epoch will write.
    let epoch_of = |offset| epoch_end::epoch_for_offset(&entries, offset).unwrap_or(leader_epoch);
    let ok = |timestamp, offset| OffsetAnswer {
        error_code: NONE,
        timestamp,
        offset,
        leader_epoch: epoch_of(offset),
    };
    // Nothing readable matched: none found, unless the high watermark may still move up to
    // where it was on the old leader.
    let nothing = || {
        if lagging {
            error(ResponseError::OffsetNotAvailable)
        } else {
            OffsetAnswer {
                error_code: NONE,
                timestamp: -1,
                offset: -1,
                leader_epoch: -1,
            }
        }
    };
    match query.timestamp {
        LATEST_TIMESTAMP if lagging => error(ResponseError::OffsetNotAvailable),
        LATEST_TIMESTAMP => OffsetAnswer {
            leader_epoch,
            ..ok(-1, fetchable_end)
        },
        EARLIEST_TIMESTAMP | EARLIEST_LOCAL_TIMESTAMP => ok(-1, log_start),
        MAX_TIMESTAMP => match partition.log().max_timestamp_and_offset() {
            Some((ts, offset)) if offset < fetchable_end => ok(ts, offset),
            _ => nothing(),
        },
        ts if ts < 0 => error(ResponseError::InvalidRequest),
        ts => match partition.log().offset_for_timestamp(ts).await {
            Ok(Some((offset, _))) if offset >= fetchable_end => nothing(),
            Ok(Some(batch_answer)) => {
                let (offset, found_ts) =
                    timestamp_lookup::first_record_at_or_after(partition, batch_answer, ts).await;
                ok(found_ts, offset)
            }
            Ok(None) => nothing(),
            Err(err) => {
                tracing::error!("offset_for_timestamp failed: {err}");
                error(ResponseError::KafkaStorageError)
            }
        },
    }
}

#[cfg(test)]
#[path = "list_offsets_tests.rs"]
mod tests;
