//! Fetch from a follower (ReplicaId >= 0): the leader side of replication. Each partition goes
//! to its owner shard, which checks the follower's epochs (stale or future peers are refused,
//! a diverged log gets DivergingEpoch), records the fetch offset as the follower's durable
//! acknowledgement (which may move the high watermark), and returns batches up to the log end,
//! not the high watermark. Long poll: waits for appends past the fetch offsets.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_protocol::messages::FetchRequest;

use super::fetch::{
    encode, race_owners, read_by_owner, trim_to_max_bytes, SessionAnswer, Wanted, Watch,
};
use crate::error_code::NONE;
use crate::kafka::fetch_sessions::{FetchSessions, ServedPartition};
use crate::limits::FETCH_WAIT_MS_MAX;
use crate::partition::messages::{PartitionRead, ReplicaReadSpec, Watched};
use crate::partition::PartitionService;

pub(super) async fn fetch(
    partitions: &PartitionService,
    replica_id: i32,
    body: &FetchRequest,
    parts: &[Wanted],
) -> Vec<PartitionRead> {
    assert!(replica_id >= 0);
    let here = partitions.shard();
    crate::metrics::hooks::replica_fetch_served(
        parts
            .iter()
            .any(|part| part.owner.is_some_and(|owner| owner != here)),
    );
    let wait_ms = body.max_wait_ms.clamp(0, FETCH_WAIT_MS_MAX) as u64;
    let deadline = Instant::now() + Duration::from_millis(wait_ms);
    let min_bytes = body.min_bytes.max(0) as u64;
    let max_bytes = if body.max_bytes <= 0 {
        i32::MAX as u32
    } else {
        body.max_bytes as u32
    };
    // Only the first read records the fetch: it is the follower's acknowledgement.
    let mut record = true;
    loop {
        let reads = read_all(partitions, replica_id, parts, max_bytes, record).await;
        record = false;
        let total: u64 = reads.iter().map(|r| u64::from(r.bytes)).sum();
        let answered = reads
            .iter()
            .any(|r| r.error_code != NONE || r.diverging_epoch.is_some());
        let now = Instant::now();
        if total >= min_bytes || answered || now >= deadline || partitions.is_stopping() {
            return reads;
        }
        wait_for_append(partitions, parts, deadline - now).await;
    }
}

async fn read_all(
    partitions: &PartitionService,
    replica_id: i32,
    parts: &[Wanted],
    max_bytes: u32,
    record: bool,
) -> Vec<PartitionRead> {
    let spec = |part: &Wanted| ReplicaReadSpec {
        topic: part.topic.clone(),
        partition: part.partition,
        fetch_offset: part.fetch_offset,
        last_fetched_epoch: part.last_fetched_epoch,
        current_leader_epoch: part.current_leader_epoch,
        max_bytes: part.partition_max_bytes.min(max_bytes),
    };
    let read = |owner, specs| partitions.replica_read(owner, replica_id, specs, record);
    let results = read_by_owner(parts, spec, read).await;
    trim_to_max_bytes(results, max_bytes)
}

/// Waits until an owner sees an append past one of the fetch offsets, or the time is up.
async fn wait_for_append(partitions: &PartitionService, parts: &[Wanted], wait: Duration) {
    let mut by_owner: BTreeMap<usize, Vec<Watched>> = BTreeMap::new();
    for part in parts {
        if let Some(owner) = part.owner {
            let key = (part.topic.clone(), part.partition, part.fetch_offset);
            by_owner.entry(owner).or_default().push(key);
        }
    }
    race_owners(partitions, by_owner, wait, Watch::Appended).await;
}

/// A session's answer: only partitions with news (all of them when the session just opened),
/// grouped by topic in request order, with the session id.
pub(super) fn encode_session(
    request: &crate::kafka::dispatch::Request,
    sessions: &FetchSessions,
    id: i32,
    full: bool,
    parts: &[Wanted],
    reads: Vec<PartitionRead>,
) -> crate::kafka::response::Response {
    assert_eq!(parts.len(), reads.len());
    let served: Vec<ServedPartition> = parts
        .iter()
        .zip(&reads)
        .map(|(part, read)| ServedPartition {
            key: (part.topic.clone(), part.partition),
            has_records_or_error: read.bytes > 0
                || read.error_code != NONE
                || read.diverging_epoch.is_some(),
            high_watermark: read.high_watermark,
            log_start_offset: read.log_start_offset,
        })
        .collect();
    let include = sessions.finish(id, full, &served);
    let mut topics: Vec<(String, usize)> = Vec::new();
    let mut indexes = Vec::new();
    let mut kept = Vec::new();
    for ((part, read), include) in parts.iter().zip(reads).zip(include) {
        if !include {
            continue;
        }
        match topics.last_mut() {
            Some((name, count)) if *name == part.topic => *count += 1,
            _ => topics.push((part.topic.clone(), 1)),
        }
        indexes.push(part.partition);
        kept.push(read);
    }
    let answer = SessionAnswer {
        error_code: NONE,
        session_id: id,
    };
    encode(request, &topics, &indexes, kept, answer)
}
