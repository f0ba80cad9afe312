//! Owner side of OffsetForLeaderEpoch: for each partition, the end offset of the requested
//! leader epoch on this leader (Kafka's `Partition.lastOffsetForLeaderEpoch`). The connection
//! shard already checked that this broker leads the partition and the request's current leader
//! epoch against the metadata; here it is checked again against the epoch the log is written
//! at, which is what the answer describes.

use super::append::missing_code;
use super::epoch_end::{self, EpochEnd};
use super::epoch_fence::check_current_leader_epoch;
use super::partition::Partition;
use super::registry::Partitions;
use crate::error_code::NONE;
use crate::topics::ClusterMeta;

/// One partition of an OffsetForLeaderEpoch request.
#[derive(Debug, Clone)]
pub struct EpochQuery {
    pub topic: String,
    pub partition: i32,
    /// The epoch the client believes the partition is at (-1: no check).
    pub current_leader_epoch: i32,
    /// The epoch whose end offset is asked for.
    pub leader_epoch: i32,
}

/// Kafka's `EpochEndOffset`: an error, or the epoch found and its end offset (both -1 when the
/// log knows no such epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochEndAnswer {
    pub error_code: i16,
    pub leader_epoch: i32,
    pub end_offset: i64,
}

impl EpochEndAnswer {
    pub fn error(error_code: i16) -> EpochEndAnswer {
        assert_ne!(error_code, NONE);
        EpochEndAnswer {
            error_code,
            leader_epoch: epoch_end::UNDEFINED_EPOCH,
            end_offset: epoch_end::UNDEFINED_EPOCH_OFFSET,
        }
    }
}

/// Answers `queries` in order, from the partitions this shard owns. No I/O: the epoch entries
/// and offsets are in memory.
pub fn offsets_for_leader_epoch(
    partitions: &Partitions,
    meta: &ClusterMeta,
    owns: impl Fn(&str, i32) -> bool,
    queries: Vec<EpochQuery>,
) -> Vec<EpochEndAnswer> {
    queries
        .iter()
        .map(
            |query| match partitions.get(&query.topic, query.partition) {
                None => {
                    EpochEndAnswer::error(missing_code(meta, &owns, &query.topic, query.partition))
                }
                Some(partition) => answer(&partition, query),
            },
        )
        .collect()
}

/// The end offset of `query.leader_epoch` on `partition` (see `epoch_end::end_offset_for`).
pub fn answer(partition: &Partition, query: &EpochQuery) -> EpochEndAnswer {
    let leader_epoch = partition.leader_epoch();
    let fenced = check_current_leader_epoch(query.current_leader_epoch, leader_epoch);
    if fenced != NONE {
        return EpochEndAnswer::error(fenced);
    }
    let cache = partition.log().leader_epochs();
    let log_start = partition.log_start_offset();
    let log_end = partition.log_end_offset();
    let entries = epoch_end::leader_entries(&cache.entries, log_start, leader_epoch, log_end);
    let EpochEnd { epoch, end_offset } =
        epoch_end::end_offset_for(&entries, query.leader_epoch, log_end);
    // An epoch's end is never past the log end, and a known one is never before the log start.
    assert!(end_offset <= log_end);
    assert!(end_offset == epoch_end::UNDEFINED_EPOCH_OFFSET || end_offset >= log_start);
    EpochEndAnswer {
        error_code: NONE,
        leader_epoch: epoch,
        end_offset,
    }
}
