//! What the cleaner keeps of one batch, by Kafka's rules (`LogCleaner.shouldRetainRecord` and
//! `MemoryRecords.filterTo`):
//!
//! - A record is kept when its offset is the latest the offset map holds for its key (or its
//!   key is not in the map: its latest record is in the clean section), and, for a tombstone,
//!   while the batch's delete horizon has not passed. Records without a key are removed.
//! - A batch keeping every record is copied byte for byte, unless it holds a tombstone and has
//!   no delete horizon yet: then it is rewritten with the horizon (`now + delete.retention.ms`)
//!   as its base timestamp and attribute bit 6 set (KIP-534), which is how a tombstone is kept
//!   for `delete.retention.ms` after the cleaner first passes it.
//! - A batch losing some records is rebuilt with its codec, baseOffset, lastOffsetDelta,
//!   producer id, epoch, base sequence, partitionLeaderEpoch and attributes; record timestamps
//!   are unchanged (re-encoded only when the base timestamp becomes the horizon).
//! - A batch losing every record is dropped, except the last batch of a producer id, which is
//!   kept as an empty batch so the producer's last sequence stays in the log.
//! - Transactions (`transactions.rs`): a batch of an aborted transaction loses every record;
//!   records of committed transactions follow the key rule. A marker stays while data of its
//!   transaction remains; once none does, it gets a delete horizon (`now + delete.retention.ms`,
//!   written as for tombstones) and goes when the horizon has passed.
//! - Batches at or past the end of what the offset map covers are kept as they are (and not
//!   shown to the transaction tracker: the pass stops there).

use std::collections::HashMap;

use crate::batch::{self, BatchHeader, CountRule};
use crate::compaction::codec;
use crate::compaction::offset_map::OffsetMap;
use crate::compaction::records::{encode_record, parse_records, RecordView};
use crate::compaction::transactions::{marker_type, TxnTracker};
use crate::error::LogError;

/// attributes bit 6: the base timestamp is the batch's delete horizon (KIP-534).
pub const ATTRIBUTE_DELETE_HORIZON: i16 = 1 << 6;

/// Producer id -> base offset of its last batch in the range the cleaner read. `None` when
/// more producers appeared than it tracks: every batch of a producer is then treated as
/// possibly its last (kept empty rather than dropped).
pub(crate) type ProducerLastBatches = Option<HashMap<i64, i64>>;

/// What the filter needs besides the batch.
pub(crate) struct FilterContext<'a> {
    pub map: &'a OffsetMap,
    /// Records at or past this offset were not put in the map; their batches stay as they are.
    pub map_end_offset: i64,
    pub now_ms: i64,
    pub delete_retention_ms: i64,
    pub producer_last_batches: &'a ProducerLastBatches,
    pub decompressed_bytes_max: usize,
}

/// The fate of one batch.
#[derive(Debug)]
pub(crate) enum Filtered {
    /// Kept byte for byte.
    Verbatim,
    /// Kept as these bytes (records removed, delete horizon set, or emptied).
    Rewritten(Vec<u8>),
    /// Removed.
    Dropped,
}

#[derive(Debug)]
pub(crate) struct FilterOutcome {
    pub filtered: Filtered,
    pub records_removed: u32,
    /// The delete horizon of a kept batch holding tombstones.
    pub delete_horizon_ms: Option<i64>,
}

fn verbatim() -> FilterOutcome {
    FilterOutcome {
        filtered: Filtered::Verbatim,
        records_removed: 0,
        delete_horizon_ms: None,
    }
}

/// Decides what stays of the batch `bytes` (already validated, header `header`). Batches
/// below the map's end must come in offset order: `txns` follows them.
pub(crate) fn filter_batch(
    bytes: &[u8],
    header: &BatchHeader,
    ctx: &FilterContext<'_>,
    txns: &mut TxnTracker,
) -> Result<FilterOutcome, LogError> {
    assert_eq!(bytes.len(), header.total_bytes());
    if header.base_offset >= ctx.map_end_offset {
        return Ok(verbatim());
    }
    let section = codec::decompress(
        header.compression(),
        &bytes[batch::HEADER_BYTES..],
        ctx.decompressed_bytes_max,
    )?;
    let has_horizon = header.attributes & ATTRIBUTE_DELETE_HORIZON != 0;
    let horizon_passed = has_horizon && ctx.now_ms >= header.base_timestamp;
    let records = parse_records(&section, header.records_count)?;
    if header.is_control() {
        let discardable = txns.on_control_batch(header, marker_type(header, &section));
        return filter_marker(header, &records, discardable, horizon_passed, ctx);
    }
    let aborted = txns.on_data_batch(header);
    let kept: Vec<RecordView<'_>> = records
        .iter()
        .filter(|record| {
            if aborted {
                return false;
            }
            let offset = header.base_offset + i64::from(record.offset_delta);
            let Some(key) = record.key else {
                return false;
            };
            let latest = ctx.map.get(key).is_none_or(|mapped| offset >= mapped);
            latest && !(record.is_tombstone() && horizon_passed)
        })
        .copied()
        .collect();
    let records_removed = (records.len() - kept.len()) as u32;
    let has_tombstone = kept.iter().any(RecordView::is_tombstone);
    if kept.is_empty() {
        let filtered = if is_last_of_producer(header, ctx.producer_last_batches) {
            Filtered::Rewritten(empty_batch(header))
        } else {
            Filtered::Dropped
        };
        return Ok(FilterOutcome {
            filtered,
            records_removed,
            delete_horizon_ms: None,
        });
    }
    keep_with_horizon(header, &kept, records_removed, has_tombstone, ctx)
}

/// A batch keeping `kept`: verbatim, or rebuilt when records went or a delete horizon is due.
fn keep_with_horizon(
    header: &BatchHeader,
    kept: &[RecordView<'_>],
    records_removed: u32,
    needs_horizon: bool,
    ctx: &FilterContext<'_>,
) -> Result<FilterOutcome, LogError> {
    let has_horizon = header.attributes & ATTRIBUTE_DELETE_HORIZON != 0;
    let set_horizon = needs_horizon && !has_horizon;
    if records_removed == 0 && !set_horizon {
        return Ok(FilterOutcome {
            delete_horizon_ms: (needs_horizon && has_horizon).then_some(header.base_timestamp),
            ..verbatim()
        });
    }
    let base_timestamp = if set_horizon {
        ctx.now_ms.saturating_add(ctx.delete_retention_ms)
    } else {
        header.base_timestamp
    };
    let rebuilt = rebuild(header, kept, base_timestamp, set_horizon)?;
    Ok(FilterOutcome {
        filtered: Filtered::Rewritten(rebuilt),
        records_removed,
        delete_horizon_ms: needs_horizon.then_some(base_timestamp),
    })
}

/// A transaction marker (or other control batch): kept while its transaction has data left
/// (`discardable` false); then kept until its delete horizon, set on the first pass that finds
/// it discardable, has passed; then removed (Kafka's `LogCleaner` with KIP-534's horizon).
fn filter_marker(
    header: &BatchHeader,
    records: &[RecordView<'_>],
    discardable: bool,
    horizon_passed: bool,
    ctx: &FilterContext<'_>,
) -> Result<FilterOutcome, LogError> {
    if !discardable || records.is_empty() {
        return Ok(verbatim());
    }
    if horizon_passed {
        return Ok(FilterOutcome {
            filtered: Filtered::Dropped,
            records_removed: records.len() as u32,
            delete_horizon_ms: None,
        });
    }
    keep_with_horizon(header, records, 0, true, ctx)
}

fn is_last_of_producer(header: &BatchHeader, last_batches: &ProducerLastBatches) -> bool {
    if header.producer_id < 0 {
        return false;
    }
    match last_batches {
        Some(map) => map.get(&header.producer_id) == Some(&header.base_offset),
        None => true,
    }
}

/// The batch header with fields set and CRC computed over `records`.
fn encode_batch(header: &BatchHeader, records: &[u8], records_count: i32) -> Vec<u8> {
    let mut out = vec![0u8; batch::HEADER_BYTES];
    out.extend_from_slice(records);
    let batch_length = (out.len() - batch::LOG_OVERHEAD_BYTES) as i32;
    let put = |out: &mut Vec<u8>, at: usize, field: &[u8]| {
        out[at..at + field.len()].copy_from_slice(field);
    };
    put(
        &mut out,
        batch::BASE_OFFSET_AT,
        &header.base_offset.to_be_bytes(),
    );
    put(
        &mut out,
        batch::BATCH_LENGTH_AT,
        &batch_length.to_be_bytes(),
    );
    let epoch = header.partition_leader_epoch.to_be_bytes();
    put(&mut out, batch::PARTITION_LEADER_EPOCH_AT, &epoch);
    out[batch::MAGIC_AT] = batch::MAGIC_V2 as u8;
    put(
        &mut out,
        batch::ATTRIBUTES_AT,
        &header.attributes.to_be_bytes(),
    );
    let delta = header.last_offset_delta.to_be_bytes();
    put(&mut out, batch::LAST_OFFSET_DELTA_AT, &delta);
    put(
        &mut out,
        batch::BASE_TIMESTAMP_AT,
        &header.base_timestamp.to_be_bytes(),
    );
    put(
        &mut out,
        batch::MAX_TIMESTAMP_AT,
        &header.max_timestamp.to_be_bytes(),
    );
    put(
        &mut out,
        batch::PRODUCER_ID_AT,
        &header.producer_id.to_be_bytes(),
    );
    put(
        &mut out,
        batch::PRODUCER_EPOCH_AT,
        &header.producer_epoch.to_be_bytes(),
    );
    put(
        &mut out,
        batch::BASE_SEQUENCE_AT,
        &header.base_sequence.to_be_bytes(),
    );
    put(
        &mut out,
        batch::RECORDS_COUNT_AT,
        &records_count.to_be_bytes(),
    );
    let crc = batch::compute_crc(&out);
    put(&mut out, batch::CRC_AT, &crc.to_be_bytes());
    out
}

/// A batch of the kept records with the original's codec and identity fields.
fn rebuild(
    header: &BatchHeader,
    kept: &[RecordView<'_>],
    base_timestamp: i64,
    set_horizon: bool,
) -> Result<Vec<u8>, LogError> {
    let mut section = Vec::new();
    let mut max_timestamp = i64::MIN;
    for record in kept {
        let timestamp = header.base_timestamp.saturating_add(record.timestamp_delta);
        max_timestamp = max_timestamp.max(timestamp);
        if base_timestamp == header.base_timestamp {
            section.extend_from_slice(record.raw);
        } else {
            encode_record(
                &mut section,
                record,
                timestamp.saturating_sub(base_timestamp),
            );
        }
    }
    let compressed = codec::compress(header.compression(), &section)?;
    let mut attributes = header.attributes;
    if set_horizon {
        attributes |= ATTRIBUTE_DELETE_HORIZON;
    }
    let rebuilt_header = BatchHeader {
        attributes,
        base_timestamp,
        // LogAppendTime batches keep the broker's stamp, as Kafka does.
        max_timestamp: if header.is_log_append_time() {
            header.max_timestamp
        } else {
            max_timestamp
        },
        ..*header
    };
    let out = encode_batch(&rebuilt_header, &compressed, kept.len() as i32);
    let check = batch::validate(&out, CountRule::Compacted).map_err(|err| LogError::Corrupt {
        detail: format!("rebuilt batch at {} is invalid: {err}", header.base_offset),
    })?;
    assert_eq!(check.base_offset, header.base_offset);
    assert_eq!(check.last_offset_delta, header.last_offset_delta);
    Ok(out)
}

/// A header-only batch (Kafka's `writeEmptyHeader`): no records, no codec, the original
/// offsets, producer fields, epoch and max timestamp.
fn empty_batch(header: &BatchHeader) -> Vec<u8> {
    let keep = batch::ATTRIBUTE_LOG_APPEND_TIME
        | batch::ATTRIBUTE_TRANSACTIONAL
        | batch::ATTRIBUTE_CONTROL;
    let empty = BatchHeader {
        attributes: header.attributes & keep,
        base_timestamp: -1,
        ..*header
    };
    let out = encode_batch(&empty, &[], 0);
    assert_eq!(out.len(), batch::HEADER_BYTES);
    out
}
