//! Loading this shard's `__consumer_offsets` partitions at start: open each log, replay it from
//! its log start offset, then let the coordinator serve its groups.

use std::rc::Rc;

use sluice_engine::batch;
use sluice_engine::{CleanupPolicy, CompactionConfig, LogConfig};

use crate::partition::Partition;

use super::batch::{decode_batches, Loaded};
use super::placement::OFFSETS_TOPIC;
use super::runtime::GroupRuntime;
use super::service::GroupService;

/// Bytes read per step while replaying.
pub const LOAD_READ_BYTES_MAX: u32 = 4 * 1024 * 1024;
/// The log settings of an offsets partition: compacted (Kafka's `cleanup.policy=compact` for
/// `__consumer_offsets`) with `compaction`'s settings, and never time or size retention, which
/// could drop the only record of a live offset. Forced here, whatever the topic's stored
/// config says, so an offsets topic created before compaction existed is compacted too.
pub fn offsets_log_config(segment_bytes: u64, compaction: CompactionConfig) -> LogConfig {
    LogConfig {
        segment_bytes,
        retention_ms: -1,
        retention_bytes: -1,
        cleanup_policy: CleanupPolicy {
            delete: false,
            compact: Some(compaction),
        },
        ..LogConfig::default()
    }
}

pub async fn load_all(shard: Rc<GroupService>, partitions: Vec<i32>) {
    let started = std::time::Instant::now();
    let count = partitions.len();
    for partition in partitions {
        match load(&shard, partition).await {
            // Unloaded (leadership lost) while replaying: whoever leads it next reloads it.
            Ok(_) if !shard.runtime().coord().is_loading(partition) => {}
            Ok(records) => {
                let now_ms = crate::util::now_ms() as u64;
                shard.runtime().with(|c| c.finish_load(partition, now_ms));
                tracing::debug!(partition, records, "loaded offsets partition");
            }
            Err(err) => {
                // The partition stays loading: its groups answer COORDINATOR_LOAD_IN_PROGRESS
                // rather than act on a partial state.
                tracing::error!(partition, "cannot load {OFFSETS_TOPIC}-{partition}: {err}");
            }
        }
    }
    let elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::info!(
        shard = shard.ctx().id(),
        partitions = count,
        elapsed_ms,
        "group coordinator loaded"
    );
}

async fn load(shard: &Rc<GroupService>, partition: i32) -> Result<u64, String> {
    let log = shard
        .partitions()
        .open(
            OFFSETS_TOPIC,
            partition,
            offsets_log_config(
                shard.runtime().config().offsets_segment_bytes,
                CompactionConfig::default(),
            ),
        )
        .await
        .map_err(|e| e.to_string())?;
    shard
        .runtime()
        .logs
        .borrow_mut()
        .insert(partition, log.clone());
    replay(shard.runtime(), partition, &log).await
}

/// Replays the partition up to its log end, not its high watermark: a new leader's log is the
/// partition's truth from its election on (what it has beyond the high watermark commits as
/// the followers catch up), as Kafka's coordinator loads to the log end.
pub(super) async fn replay(
    rt: &GroupRuntime,
    partition: i32,
    log: &Partition,
) -> Result<u64, String> {
    let end = log.log_end_offset();
    let mut offset = log.log_start_offset();
    let mut replayed = 0u64;
    let mut skipped = 0u64;
    while offset < end {
        let Some((bytes, batches_end)) = read_whole_batches(log, offset).await? else {
            break;
        };
        let next = batches_end;
        {
            let records = decode_batches(bytes).map_err(|e| e.to_string())?;
            let now_ms = crate::util::now_ms() as u64;
            let mut coord = rt.coord();
            if !coord.is_loading(partition) {
                return Ok(replayed);
            }
            for loaded in records.into_iter().filter(|r| r.offset() >= offset) {
                let record = match loaded {
                    Loaded::Marker {
                        producer_id,
                        commit,
                        ..
                    } => {
                        coord.load_marker(partition, producer_id, commit);
                        replayed += 1;
                        continue;
                    }
                    Loaded::Record(record) => record,
                };
                let record_offset = record.offset;
                match coord.load_record(partition, record, now_ms) {
                    Ok(()) => replayed += 1,
                    Err(err) => {
                        skipped += 1;
                        tracing::warn!(
                            partition,
                            offset = record_offset,
                            "skipping offsets record: {err}"
                        );
                    }
                }
            }
        }
        assert!(next > offset, "replay must make progress");
        offset = next;
    }
    if skipped > 0 {
        tracing::warn!(partition, skipped, "offsets records skipped while loading");
    }
    let open = rt.coord().open_txn_producers(partition);
    if !open.is_empty() {
        tracing::info!(
            partition,
            producers = ?open,
            "transactions still open at the log end keep their offsets pending"
        );
    }
    Ok(replayed)
}

/// The whole batches from `offset` on (up to `LOAD_READ_BYTES_MAX`, up to the log end) and the
/// offset after the last of them; `None` at the end. Only the concatenation of a read's chunks
/// is whole batches: a batch from the cache may come in pieces. Shared with the transaction
/// coordinator's loader.
pub async fn read_whole_batches(
    log: &Partition,
    offset: i64,
) -> Result<Option<(bytes::Bytes, i64)>, String> {
    let read = log
        .read_to_log_end(offset, LOAD_READ_BYTES_MAX)
        .await
        .map_err(|e| e.to_string())?;
    if read.chunks.is_empty() {
        return Ok(None);
    }
    let mut whole = bytes::BytesMut::with_capacity(read.bytes as usize);
    for chunk in read.chunks {
        let bytes = chunk.to_bytes().await.map_err(|e| e.to_string())?;
        whole.extend_from_slice(&bytes);
    }
    assert_eq!(whole.len(), read.bytes as usize);
    let bytes = whole.freeze();
    let end = batches_end(&bytes).ok_or("unreadable batch header")?;
    assert!(end > offset, "a read makes progress");
    Ok(Some((bytes, end)))
}

/// Offset after the last batch in `bytes` (whole RecordBatch v2 batches), from their headers.
fn batches_end(bytes: &[u8]) -> Option<i64> {
    let mut position = 0usize;
    let mut end = None;
    while position < bytes.len() {
        let header = batch::parse_header(&bytes[position..]).ok()?;
        end = Some(header.next_offset());
        position += header.total_bytes();
    }
    end
}
