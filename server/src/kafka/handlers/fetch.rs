//! Fetch (key 1). Long poll: if less than `min_bytes` is available, wait until an append on an
//! owner shard wakes us or `max_wait_ms` passes (no polling loop). Respects `max_bytes` and the
//! per-partition limit, and always returns at least one whole batch of the first partition with
//! data. Fetch sessions are declined (session id 0): every fetch is a full fetch.
//!
//! isolation_level 1 (read_committed) reads up to each partition's last stable offset and
//! lists the aborted transactions (producer id, first offset) that overlap the returned data;
//! its long poll waits for the last stable offset to move. Every answer reports the real last
//! stable offset.
//!
//! Zero-copy: the response header and per-partition headers are encoded here by hand, and the
//! record bytes follow as the engine's own chunks (cached `Bytes` or a file range for sendfile),
//! never copied into a response buffer.
//!
//! Authorization (Kafka's `handleFetchRequest`): a consumer needs READ on each topic
//! (TOPIC_AUTHORIZATION_FAILED per partition, checked before whether the topic exists); a
//! follower needs CLUSTER_ACTION on the cluster, else every partition it asks for gets
//! TOPIC_AUTHORIZATION_FAILED, as in Kafka. A refused follower touches no fetch session and
//! no partition (its fetch is no acknowledgement).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::FetchRequest;
use kafka_protocol::protocol::VersionRange;

use sluice_security::acl::AclOperation;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::kafka::fetch_sessions::{FetchSessions, SessionUse};
use crate::kafka::response::Response;
use crate::kafka::wire::*;
use crate::limits::FETCH_WAIT_MS_MAX;
use crate::metadata::MetadataService;
use crate::partition::messages::{OutChunk, PartitionRead, ReadSpec, Watched};
use crate::partition::PartitionService;
use crate::util::{first_of, join_all};

/// isolation_level of a read_committed consumer (0: read_uncommitted).
const READ_COMMITTED: i8 = 1;

/// v13+ address topics by id; we serve names.
pub const VERSIONS: VersionRange = VersionRange { min: 4, max: 12 };

const FLEXIBLE_VERSION_MIN: i16 = 12;
const SESSION_FIELDS_VERSION_MIN: i16 = 7;
const LOG_START_OFFSET_VERSION_MIN: i16 = 5;
const PREFERRED_REPLICA_VERSION_MIN: i16 = 11;

pub(super) struct Wanted {
    pub(super) topic: String,
    pub(super) partition: i32,
    pub(super) fetch_offset: i64,
    pub(super) partition_max_bytes: u32,
    /// KIP-320 (consumers) and the replica checks (followers); -1: none.
    pub(super) current_leader_epoch: i32,
    /// Followers: the epoch of their last batch (Fetch v12+), -1: none.
    pub(super) last_fetched_epoch: i32,
    /// The shard to read from; None when this broker cannot serve the partition.
    pub(super) owner: Option<usize>,
    /// Why it cannot (UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER).
    pub(super) refused: i16,
}

pub fn handle(
    partitions: &Rc<PartitionService>,
    metadata: &MetadataService,
    sessions: &Rc<FetchSessions>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let mut body: FetchRequest = request.decode()?;
    let replica_id = body.replica_id.0;
    if replica_id >= 0 && !authz.cluster(AclOperation::ClusterAction) {
        let refused = ResponseError::TopicAuthorizationFailed.code();
        return Ok(refuse_all(&request, &body, refused).into());
    }
    let now_ms = crate::util::now_ms().max(0) as u64;
    let client_id = request.client_id.as_deref().unwrap_or_default();
    let session = sessions.begin(&mut body, client_id, now_ms);
    if let SessionUse::Refused(code) = session {
        return Ok(encode(&request, &[], &[], Vec::new(), SessionAnswer::error(code)).into());
    }
    if let SessionUse::Open { full: false, .. } = session {
        crate::metrics::hooks::replica_fetch_incremental();
    }
    let partitions = partitions.clone();
    let sessions = sessions.clone();
    let (topics, parts) = if replica_id >= 0 {
        wanted(&partitions, metadata, &body, |_| true)
    } else {
        wanted(&partitions, metadata, &body, |topic| {
            authz.topic(AclOperation::Read, topic)
        })
    };
    Ok(Outcome::Deferred(Box::pin(async move {
        let response = if replica_id >= 0 {
            let reads =
                super::fetch_for_follower::fetch(&partitions, replica_id, &body, &parts).await;
            match session {
                SessionUse::Open { id, full } => super::fetch_for_follower::encode_session(
                    &request, &sessions, id, full, &parts, reads,
                ),
                _ => {
                    let indexes: Vec<i32> = parts.iter().map(|p| p.partition).collect();
                    encode(&request, &topics, &indexes, reads, SessionAnswer::NONE)
                }
            }
        } else {
            fetch(&partitions, &request, body, topics, parts).await
        };
        Ok(Some(response))
    })))
}

/// The response's top-level error and session id.
#[derive(Debug, Clone, Copy)]
pub struct SessionAnswer {
    pub error_code: i16,
    pub session_id: i32,
}

impl SessionAnswer {
    pub const NONE: SessionAnswer = SessionAnswer {
        error_code: NONE,
        session_id: 0,
    };

    fn error(error_code: i16) -> SessionAnswer {
        SessionAnswer {
            error_code,
            session_id: 0,
        }
    }
}

/// The partitions asked for, each with the shard to read it from or why it cannot be read:
/// TOPIC_AUTHORIZATION_FAILED where `readable` refuses its topic (asked once per topic),
/// else the metadata's refusal.
fn wanted(
    partitions: &PartitionService,
    metadata: &MetadataService,
    body: &FetchRequest,
    readable: impl Fn(&str) -> bool,
) -> (Vec<(String, usize)>, Vec<Wanted>) {
    let meta = metadata.meta();
    let mut topics = Vec::with_capacity(body.topics.len());
    let mut parts = Vec::new();
    for topic in &body.topics {
        let name = topic.topic.0.to_string();
        let node = metadata.config().node_id;
        topics.push((name.clone(), topic.partitions.len()));
        let authorized = readable(&name);
        for partition in &topic.partitions {
            let index = partition.partition;
            let served = if authorized {
                meta.check_leader(node, &name, index)
            } else {
                Err(ResponseError::TopicAuthorizationFailed.code())
            };
            let known = served.is_ok();
            parts.push(Wanted {
                topic: name.clone(),
                partition: index,
                fetch_offset: partition.fetch_offset,
                partition_max_bytes: partition.partition_max_bytes.max(0) as u32,
                current_leader_epoch: partition.current_leader_epoch,
                last_fetched_epoch: partition.last_fetched_epoch,
                owner: known.then(|| partitions.owner_of(&name, index)),
                refused: served.err().unwrap_or(NONE),
            });
        }
    }
    (topics, parts)
}

/// Every partition of the request answers `refused`; nothing is read.
fn refuse_all(request: &Request, body: &FetchRequest, refused: i16) -> Response {
    let topics: Vec<(String, usize)> = body
        .topics
        .iter()
        .map(|topic| (topic.topic.0.to_string(), topic.partitions.len()))
        .collect();
    let indexes: Vec<i32> = body
        .topics
        .iter()
        .flat_map(|topic| topic.partitions.iter().map(|p| p.partition))
        .collect();
    let reads = indexes.iter().map(|_| unreadable(refused)).collect();
    encode(request, &topics, &indexes, reads, SessionAnswer::NONE)
}

async fn fetch(
    partitions: &PartitionService,
    request: &Request,
    body: FetchRequest,
    topics: Vec<(String, usize)>,
    parts: Vec<Wanted>,
) -> Response {
    let wait_ms = body.max_wait_ms.clamp(0, FETCH_WAIT_MS_MAX) as u64;
    let deadline = Instant::now() + Duration::from_millis(wait_ms);
    let min_bytes = body.min_bytes.max(0) as u64;
    let max_bytes = if body.max_bytes <= 0 {
        i32::MAX as u32
    } else {
        body.max_bytes as u32
    };
    let read_committed = body.isolation_level == READ_COMMITTED;
    let reads = loop {
        let reads = read_all(partitions, &parts, max_bytes, read_committed).await;
        let total: u64 = reads.iter().map(|r| u64::from(r.bytes)).sum();
        let errored = reads.iter().any(|r| r.error_code != NONE);
        let now = Instant::now();
        if total >= min_bytes || errored || now >= deadline || partitions.is_stopping() {
            break reads;
        }
        let waited = wait_for_data(partitions, &parts, &reads, read_committed, deadline - now);
        crate::metrics::hooks::long_poll(waited).await;
    };
    let indexes: Vec<i32> = parts.iter().map(|p| p.partition).collect();
    encode(request, &topics, &indexes, reads, SessionAnswer::NONE)
}

/// Trims reads to `max_bytes` in request order, keeping the first partition with data whatever
/// its size.
pub(super) fn trim_to_max_bytes(
    results: Vec<Option<PartitionRead>>,
    max_bytes: u32,
) -> Vec<PartitionRead> {
    let mut total: u64 = 0;
    let mut out = Vec::with_capacity(results.len());
    for read in results.into_iter() {
        let mut read = read.unwrap_or_else(|| unreadable(ResponseError::UnknownServerError.code()));
        let bytes = u64::from(read.bytes);
        if total > 0 && total + bytes > u64::from(max_bytes) {
            read.chunks.clear();
            read.bytes = 0;
        }
        total += u64::from(read.bytes);
        out.push(read);
    }
    out
}

/// Reads every partition from its owner (owners in parallel), then trims to `max_bytes` in
/// request order, keeping the first partition with data whatever its size.
async fn read_all(
    partitions: &PartitionService,
    parts: &[Wanted],
    max_bytes: u32,
    read_committed: bool,
) -> Vec<PartitionRead> {
    let spec = |part: &Wanted| ReadSpec {
        topic: part.topic.clone(),
        partition: part.partition,
        fetch_offset: part.fetch_offset,
        max_bytes: part.partition_max_bytes.min(max_bytes),
        current_leader_epoch: part.current_leader_epoch,
        read_committed,
    };
    let results = read_by_owner(parts, spec, |owner, specs| partitions.read(owner, specs)).await;
    trim_to_max_bytes(results, max_bytes)
}

/// Sends each owner shard its parts' specs (owners in parallel) and puts every answer back in
/// request order; a part no shard serves gets its refusal, an owner that is down a storage
/// error.
pub(super) async fn read_by_owner<S, Call, Fut>(
    parts: &[Wanted],
    spec: impl Fn(&Wanted) -> S,
    call: Call,
) -> Vec<Option<PartitionRead>>
where
    Call: Fn(usize, Vec<S>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<PartitionRead>, crate::shard::mesh::ShardDown>>,
{
    let mut results: Vec<Option<PartitionRead>> = parts.iter().map(|_| None).collect();
    let mut by_owner: BTreeMap<usize, (Vec<usize>, Vec<S>)> = BTreeMap::new();
    for (position, part) in parts.iter().enumerate() {
        let Some(owner) = part.owner else {
            results[position] = Some(unreadable(part.refused));
            continue;
        };
        let entry = by_owner
            .entry(owner)
            .or_insert_with(|| (Vec::new(), Vec::new()));
        entry.0.push(position);
        entry.1.push(spec(part));
    }
    let calls = by_owner
        .into_iter()
        .map(|(owner, (positions, specs))| {
            let read = call(owner, specs);
            async move { (positions, read.await) }
        })
        .collect();
    for (positions, reads) in join_all(calls).await {
        let count = positions.len();
        let reads = reads.unwrap_or_else(|_| {
            (0..count)
                .map(|_| unreadable(ResponseError::KafkaStorageError.code()))
                .collect()
        });
        assert_eq!(reads.len(), count);
        for (position, read) in positions.into_iter().zip(reads) {
            results[position] = Some(read);
        }
    }
    results
}

pub(super) fn unreadable(error_code: i16) -> PartitionRead {
    PartitionRead {
        error_code,
        high_watermark: -1,
        last_stable_offset: -1,
        log_start_offset: -1,
        aborted: None,
        diverging_epoch: None,
        chunks: Vec::new(),
        bytes: 0,
    }
}

/// One of the waits a long poll races: an owner's wake-up or the deadline.
type Wait<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// Waits until any owner reports readable data for one of our partitions beyond what the last
/// `reads` already saw, or the time is up. Watching from the high watermark each read reported
/// (not from the fetch offset) matters when some data is readable but less than `min_bytes`:
/// the wait then ends only when more arrives, instead of at once, over and over.
/// The first owner to answer ends the wait; the other owners' waits are dropped.
async fn wait_for_data(
    partitions: &PartitionService,
    parts: &[Wanted],
    reads: &[PartitionRead],
    read_committed: bool,
    wait: Duration,
) {
    assert_eq!(parts.len(), reads.len());
    let mut by_owner: BTreeMap<usize, Vec<Watched>> = BTreeMap::new();
    for (part, read) in parts.iter().zip(reads) {
        if let Some(owner) = part.owner {
            let readable_end = if read_committed {
                read.last_stable_offset
            } else {
                read.high_watermark
            };
            let seen = part.fetch_offset.max(readable_end);
            let key = (part.topic.clone(), part.partition, seen);
            by_owner.entry(owner).or_default().push(key);
        }
    }
    race_owners(
        partitions,
        by_owner,
        wait,
        Watch::Readable { read_committed },
    )
    .await;
}

/// What an owner's long poll waits for: data a consumer can read (below the high watermark,
/// or the last stable offset for read_committed), or any append (a follower reads up to the
/// log end).
#[derive(Debug, Clone, Copy)]
pub(super) enum Watch {
    Readable { read_committed: bool },
    Appended,
}

/// Asks every owner to wait for its watched partitions and returns when the first one answers
/// or `wait` is up; the other owners' waits are dropped.
pub(super) async fn race_owners(
    partitions: &PartitionService,
    by_owner: BTreeMap<usize, Vec<Watched>>,
    wait: Duration,
    watch: Watch,
) {
    // Rounded up: an owner whose wait ended before ours (truncated to the millisecond) would
    // be asked again with 0 ms, over and over, until our own deadline passed.
    let wait_ms = wait.as_micros().div_ceil(1000) as u64;
    let mut waits: Vec<Wait<'_>> = by_owner
        .into_iter()
        .map(|(owner, watched)| -> Wait<'_> {
            Box::pin(async move {
                let waited = match watch {
                    Watch::Readable { read_committed } => {
                        let watch =
                            partitions.wait_for_data(owner, watched, read_committed, wait_ms);
                        watch.await
                    }
                    Watch::Appended => partitions.wait_for_append(owner, watched, wait_ms).await,
                };
                // A stopped owner ends nothing early: the timer decides then.
                if waited.is_err() {
                    futures_lite::future::pending::<()>().await;
                }
            })
        })
        .collect();
    waits.push(Box::pin(glommio::timer::sleep(wait)));
    first_of(waits).await;
}

/// Assembles a Fetch response: hand-encoded headers around each partition's record chunks,
/// which are never copied. Public for the instruction-count benchmark (benches/icount).
pub fn encode(
    request: &Request,
    topics: &[(String, usize)],
    indexes: &[i32],
    reads: Vec<PartitionRead>,
    session: SessionAnswer,
) -> Response {
    assert_eq!(indexes.len(), reads.len());
    let version = request.version;
    let flexible = version >= FLEXIBLE_VERSION_MIN;
    let mut chunks: Vec<OutChunk> = Vec::new();
    let mut head = BytesMut::with_capacity(256);
    head.put_i32(0); // size, patched below
    head.put_i32(request.correlation_id);
    if request.flexible_response_header() {
        put_no_tagged_fields(&mut head);
    }
    head.put_i32(0); // throttle_time_ms
    if version >= SESSION_FIELDS_VERSION_MIN {
        head.put_i16(session.error_code);
        head.put_i32(session.session_id);
    }
    put_array_len(&mut head, topics.len(), flexible);
    let mut reads = indexes.iter().zip(reads);
    for (name, partitions) in topics {
        put_string(&mut head, name, flexible);
        put_array_len(&mut head, *partitions, flexible);
        for _ in 0..*partitions {
            let Some((index, read)) = reads.next() else {
                unreachable!("one read per requested partition");
            };
            put_partition_header(&mut head, version, *index, &read, flexible);
            let diverging = read.diverging_epoch;
            if read.bytes > 0 {
                chunks.push(OutChunk::Bytes(head.split().freeze()));
                chunks.extend(read.chunks);
            }
            if flexible {
                put_partition_tagged_fields(&mut head, diverging);
            }
        }
        if flexible {
            put_no_tagged_fields(&mut head); // topic
        }
    }
    if flexible {
        put_no_tagged_fields(&mut head); // response
    }
    chunks.push(OutChunk::Bytes(head.freeze()));
    patch_size(chunks)
}

fn put_partition_header(
    head: &mut BytesMut,
    version: i16,
    index: i32,
    read: &PartitionRead,
    flexible: bool,
) {
    head.put_i32(index);
    head.put_i16(read.error_code);
    head.put_i64(read.high_watermark);
    head.put_i64(read.last_stable_offset);
    if version >= LOG_START_OFFSET_VERSION_MIN {
        head.put_i64(read.log_start_offset);
    }
    // Empty (not null) for read_uncommitted, as before transactions.
    let aborted = read.aborted.as_deref().unwrap_or(&[]);
    put_array_len(head, aborted.len(), flexible);
    for (producer_id, first_offset) in aborted {
        head.put_i64(*producer_id);
        head.put_i64(*first_offset);
        if flexible {
            put_no_tagged_fields(head);
        }
    }
    if version >= PREFERRED_REPLICA_VERSION_MIN {
        head.put_i32(-1);
    }
    put_bytes_len(head, read.bytes as usize, flexible);
}

/// The partition's tagged fields (v12+): DivergingEpoch (tag 0) when a follower's log parted
/// from ours, nothing otherwise.
fn put_partition_tagged_fields(head: &mut BytesMut, diverging: Option<sluice_replica::EpochEnd>) {
    let Some(diverging) = diverging else {
        put_no_tagged_fields(head);
        return;
    };
    // epoch (int32) + end offset (int64) + the struct's own empty tagged fields.
    const DIVERGING_EPOCH_BYTES: u32 = 4 + 8 + 1;
    put_unsigned_varint(head, 1); // one tagged field
    put_unsigned_varint(head, 0); // tag 0: diverging_epoch
    put_unsigned_varint(head, DIVERGING_EPOCH_BYTES);
    let before = head.len();
    head.put_i32(diverging.epoch);
    head.put_i64(diverging.end_offset);
    put_no_tagged_fields(head);
    assert_eq!(head.len() - before, DIVERGING_EPOCH_BYTES as usize);
}

/// Writes the total length after the size prefix into the first chunk.
fn patch_size(mut chunks: Vec<OutChunk>) -> Response {
    let total: usize = chunks.iter().map(OutChunk::len).sum();
    assert!(total >= 4);
    let size = (total - 4) as i32;
    if let Some(OutChunk::Bytes(first)) = chunks.first_mut() {
        let mut patched = BytesMut::from(&first[..]);
        patched[..4].copy_from_slice(&size.to_be_bytes());
        *first = patched.freeze();
    }
    Response { chunks }
}
