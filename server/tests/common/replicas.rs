//! Replicas compared byte for byte: a checksum of a partition's segment files on each broker's
//! data dir, over the batches below the high watermark. Replication copies batches verbatim
//! (the leader stamps PartitionLeaderEpoch before it appends, followers append what they
//! fetched), so every in-sync replica must hold the same bytes below the HW, whatever its
//! segment boundaries.
//!
//! The segment files are read directly (`<data>/<topic>-<p>/<base offset:020>.log`), walking
//! RecordBatch v2 headers: baseOffset i64 at byte 0, batchLength i32 at byte 8 (the batch ends
//! at 12 + batchLength), magic i8 at byte 16, lastOffsetDelta i32 at byte 23. A segment is
//! preallocated and its tail zero-padded, so the walk of a file stops at the first header
//! that is not a whole v2 batch.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cluster::Cluster;
use super::kafka::{list_offset, LATEST_TIMESTAMP};

/// Bytes of a RecordBatch v2 header up to and including the records count.
const BATCH_HEADER_BYTES: usize = 61;
/// Offsets of the header fields the walk reads.
const BATCH_LENGTH_AT: usize = 8;
const MAGIC_AT: usize = 16;
const LAST_OFFSET_DELTA_AT: usize = 23;
/// Bytes before the batchLength field's count starts (baseOffset + batchLength).
const LOG_OVERHEAD_BYTES: usize = 12;
const MAGIC_V2: u8 = 2;
const _: () = assert!(LAST_OFFSET_DELTA_AT + 4 <= BATCH_HEADER_BYTES);
const _: () = assert!(MAGIC_AT < BATCH_HEADER_BYTES);
/// How long the replicas of every partition may take to be back in the ISR after healing.
pub const REJOIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Replication factor and `min.insync.replicas` of the replication tests' topics.
pub const REPLICATION_FACTOR: i16 = 3;
pub const MIN_INSYNC_REPLICAS: &str = "2";
/// The topic configs that go with them.
pub const MIN_INSYNC_CONFIG: [(&str, &str); 1] = [("min.insync.replicas", MIN_INSYNC_REPLICAS)];
/// How long a partition may go without a leader after its leader died or was cut off: the
/// broker session timeout below, the election, and a loaded 2-core machine.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Broker settings of the replication tests: short broker sessions (3 s, heartbeats every
/// 500 ms), so that a dead or paused broker is fenced within the test's patience; a follower
/// leaves the ISR after `replica_lag_ms` without catching up; `min.insync.replicas` 2 as the
/// broker default too; the offsets topic replicated 3 times.
pub fn replication_toml(replica_lag_ms: u64) -> String {
    format!(
        "\"broker.session.timeout.ms\" = 3000\n\
         \"broker.heartbeat.interval.ms\" = 500\n\
         \"replica.lag.time.max.ms\" = {replica_lag_ms}\n\
         \"min.insync.replicas\" = {MIN_INSYNC_REPLICAS}\n\
         \"offsets.topic.replication.factor\" = {REPLICATION_FACTOR}\n"
    )
}

/// What a replica holds below a high watermark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaDigest {
    pub batches: u64,
    pub bytes: u64,
    /// CRC-32C over the batches' bytes, in offset order.
    pub crc: u32,
    /// The offset after the last batch counted (0 without one).
    pub next_offset: i64,
}

fn be_i64(bytes: &[u8]) -> i64 {
    i64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"))
}

fn be_i32(bytes: &[u8]) -> i32 {
    i32::from_be_bytes(bytes[..4].try_into().expect("4 bytes"))
}

/// The `.log` segment files of a partition's directory, by base offset.
fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
                .path()
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    // Names are zero-padded base offsets: name order is offset order.
    files.sort();
    files
}

/// One whole RecordBatch v2 found by [`whole_batches`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSpan {
    pub base_offset: i64,
    pub last_offset: i64,
    /// Where the batch lies in the walked bytes.
    pub bytes: std::ops::Range<usize>,
}

/// The whole v2 batches at the start of `bytes`, back to back; the walk stops at the first
/// header that is not one (zero padding, a torn tail, the end).
pub fn whole_batches(bytes: &[u8]) -> Vec<BatchSpan> {
    let mut spans = Vec::new();
    let mut at = 0;
    while at + BATCH_HEADER_BYTES <= bytes.len() {
        let header = &bytes[at..];
        let length = be_i32(&header[BATCH_LENGTH_AT..]);
        let whole = length >= (BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES) as i32
            && at + LOG_OVERHEAD_BYTES + length as usize <= bytes.len()
            && header[MAGIC_AT] == MAGIC_V2;
        if !whole {
            break;
        }
        let end = at + LOG_OVERHEAD_BYTES + length as usize;
        let base_offset = be_i64(header);
        let last_offset = base_offset + i64::from(be_i32(&header[LAST_OFFSET_DELTA_AT..]));
        assert!(
            last_offset >= base_offset,
            "batch at {base_offset} ends before it starts"
        );
        spans.push(BatchSpan {
            base_offset,
            last_offset,
            bytes: at..end,
        });
        at = end;
    }
    spans
}

/// The digest of `topic`-`partition` in `data_dir` over the batches whose last offset is
/// below `high_watermark`. Panics if the batches overlap or go back in offset.
pub fn replica_digest(
    data_dir: &Path,
    topic: &str,
    partition: i32,
    high_watermark: i64,
) -> ReplicaDigest {
    let dir = data_dir.join(format!("{topic}-{partition}"));
    let mut digest = ReplicaDigest {
        batches: 0,
        bytes: 0,
        crc: 0,
        next_offset: 0,
    };
    for file in segment_files(&dir) {
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        for batch in whole_batches(&bytes) {
            if batch.last_offset >= high_watermark {
                return digest;
            }
            assert!(
                batch.base_offset >= digest.next_offset,
                "{}: batch at {} overlaps the previous one (next offset {})",
                file.display(),
                batch.base_offset,
                digest.next_offset
            );
            digest.crc = crc32c::crc32c_append(digest.crc, &bytes[batch.bytes.clone()]);
            digest.batches += 1;
            digest.bytes += batch.bytes.len() as u64;
            digest.next_offset = batch.last_offset + 1;
        }
    }
    digest
}

/// After healing: waits (from broker `ask`) until every partition of `topic` has all its
/// replicas in the ISR, then, per partition, reads the leader's high watermark and requires
/// every replica's segment bytes below it to be identical to the leader's and to reach it.
pub fn assert_replicas_identical(cluster: &Cluster, ask: usize, topic: &str, partitions: usize) {
    let views = cluster.wait_for_full_isr(ask, topic, partitions, REJOIN_TIMEOUT);
    for view in &views {
        let leader = cluster.index_of(view.leader);
        let mut conn = cluster.brokers[leader].connect();
        let answer = list_offset(&mut conn, topic, view.partition, LATEST_TIMESTAMP);
        assert_eq!(
            answer.error_code, 0,
            "ListOffsets(latest) of {topic}-{} on its leader {}",
            view.partition, view.leader
        );
        let high_watermark = answer.offset;
        let digests: Vec<(i32, ReplicaDigest)> = view
            .replicas
            .iter()
            .map(|node| {
                let broker = &cluster.brokers[cluster.index_of(*node)];
                let digest =
                    replica_digest(broker.data_dir(), topic, view.partition, high_watermark);
                (*node, digest)
            })
            .collect();
        let leader_digest = &digests
            .iter()
            .find(|(node, _)| *node == view.leader)
            .expect("the leader is a replica")
            .1;
        for (node, digest) in &digests {
            assert_eq!(
                digest.next_offset, high_watermark,
                "{topic}-{}: node {node}'s batches below the HW end at {} where the HW is \
                 {high_watermark} (leader {}); all: {digests:?}",
                view.partition, digest.next_offset, view.leader
            );
            assert_eq!(
                digest, leader_digest,
                "{topic}-{}: node {node} differs from the leader {} below the HW \
                 {high_watermark}; all: {digests:?}",
                view.partition, view.leader
            );
        }
        eprintln!(
            "{topic}-{}: {} replicas identical below HW {high_watermark} ({} batches, {} bytes, \
             crc32c {:08x})",
            view.partition,
            digests.len(),
            leader_digest.batches,
            leader_digest.bytes,
            leader_digest.crc
        );
    }
}
