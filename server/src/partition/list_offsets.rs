//! Owner side of ListOffsets. Answers come from the readable log: a partition with unflushed
//! data is flushed first (a group commit), so "latest" covers every batch acknowledged before
//! the request, and no answer points at data a crash could still take back.

use std::rc::Rc;

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
                    if let Err(err) = partitions.flush_all_detached().await {
                        tracing::error!("flush before ListOffsets failed: {err}");
                    }
                }
                offset_answer(&partition, query.timestamp).await
            }
        };
        answers.push(answer);
    }
    answers
}

fn error(error: ResponseError) -> OffsetAnswer {
    OffsetAnswer {
        error_code: error.code(),
        timestamp: -1,
        offset: -1,
    }
}

async fn offset_answer(partition: &Partition, timestamp: i64) -> OffsetAnswer {
    let ok = |timestamp, offset| OffsetAnswer {
        error_code: NONE,
        timestamp,
        offset,
    };
    let high_watermark = partition.high_watermark();
    match timestamp {
        LATEST_TIMESTAMP => ok(-1, high_watermark),
        EARLIEST_TIMESTAMP | EARLIEST_LOCAL_TIMESTAMP => ok(-1, partition.log_start_offset()),
        MAX_TIMESTAMP => match partition.log().max_timestamp_and_offset() {
            Some((ts, offset)) if offset < high_watermark => ok(ts, offset),
            _ => ok(-1, -1),
        },
        ts if ts < 0 => error(ResponseError::InvalidRequest),
        ts => match partition.log().offset_for_timestamp(ts).await {
            Ok(Some((offset, _))) if offset >= high_watermark => ok(-1, -1),
            Ok(Some(batch_answer)) => {
                let (offset, found_ts) =
                    timestamp_lookup::first_record_at_or_after(partition, batch_answer, ts).await;
                ok(found_ts, offset)
            }
            Ok(None) => ok(-1, -1),
            Err(err) => {
                tracing::error!("offset_for_timestamp failed: {err}");
                error(ResponseError::KafkaStorageError)
            }
        },
    }
}
