//! The partition subsystem's cross-shard requests and replies. Everything here is `Send`: it
//! crosses executor threads on the partition mesh (`crate::shard::mesh`).

use std::sync::Arc;

use bytes::Bytes;

/// One partition's batches for the owner to append (acks is the connection shard's business).
pub struct ProducePart {
    pub topic: String,
    pub partition: i32,
    pub batches: Vec<Bytes>,
    /// The token of a KIP-890 verification this retry went through (see
    /// `PartitionAppendError::NeedsTxnVerification`); `None` on a first attempt.
    pub verification: Option<super::producer_state::VerificationToken>,
}

/// A transactional batch must be verified with the coordinator first (KIP-890).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedsVerification {
    pub producer_id: i64,
    pub epoch: i16,
    pub token: super::producer_state::VerificationToken,
}

#[derive(Debug, Clone)]
pub struct ProducePartResult {
    pub error_code: i16,
    pub error_message: Option<String>,
    /// Set with error INVALID_TXN_STATE when the append needs a verification first: the
    /// produce path may verify and retry with the token.
    pub needs_verification: Option<NeedsVerification>,
    pub base_offset: i64,
    /// The last offset appended (acks=all waits until the high watermark passes it).
    pub last_offset: i64,
    pub log_append_time_ms: i64,
    pub log_start_offset: i64,
}

impl ProducePartResult {
    pub fn error(error_code: i16, message: String) -> ProducePartResult {
        ProducePartResult {
            error_code,
            error_message: Some(message),
            needs_verification: None,
            base_offset: -1,
            last_offset: -1,
            log_append_time_ms: -1,
            log_start_offset: -1,
        }
    }
}

pub struct ReadSpec {
    pub topic: String,
    pub partition: i32,
    pub fetch_offset: i64,
    pub max_bytes: u32,
    /// The leader epoch the consumer believes current (KIP-320; -1: no check).
    pub current_leader_epoch: i32,
    /// isolation_level 1: read up to the last stable offset, with the aborted transactions.
    pub read_committed: bool,
}

/// Record bytes for the wire: cached bytes (written with writev) or a file range (sendfile).
pub enum OutChunk {
    Bytes(Bytes),
    File {
        file: Arc<std::fs::File>,
        position: u64,
        len: u32,
    },
}

impl OutChunk {
    pub fn len(&self) -> usize {
        match self {
            OutChunk::Bytes(bytes) => bytes.len(),
            OutChunk::File { len, .. } => *len as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct PartitionRead {
    pub error_code: i16,
    pub high_watermark: i64,
    /// -1 when unknown (errors).
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
    /// read_committed: the (producer id, first offset) of each aborted transaction that
    /// overlaps the data; `None` for read_uncommitted (null on the wire).
    pub aborted: Option<Vec<(i64, i64)>>,
    /// A follower's log parted from the leader's here (Fetch v12 DivergingEpoch).
    pub diverging_epoch: Option<sluice_replica::EpochEnd>,
    pub chunks: Vec<OutChunk>,
    pub bytes: u32,
}

impl PartitionRead {
    pub fn error(error_code: i16, high_watermark: i64, log_start_offset: i64) -> PartitionRead {
        PartitionRead {
            error_code,
            high_watermark,
            last_stable_offset: -1,
            log_start_offset,
            aborted: None,
            diverging_epoch: None,
            chunks: Vec::new(),
            bytes: 0,
        }
    }
}

/// One partition of a follower's fetch (see `leader_fetch.rs`).
pub struct ReplicaReadSpec {
    pub topic: String,
    pub partition: i32,
    pub fetch_offset: i64,
    pub last_fetched_epoch: i32,
    pub current_leader_epoch: i32,
    pub max_bytes: u32,
}

/// One transaction marker for one partition (WriteTxnMarkers, or a local coordinator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnMarkerWrite {
    pub topic: String,
    pub partition: i32,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub coordinator_epoch: i32,
    /// COMMIT, else ABORT.
    pub commit: bool,
}

/// One partition of an acks=all produce: appended up to `last_offset`, now to be replicated.
pub struct ReplicatePart {
    pub topic: String,
    pub partition: i32,
    pub last_offset: i64,
}

pub struct OffsetQuery {
    pub topic: String,
    pub partition: i32,
    /// -2 earliest, -1 latest, -3 max timestamp, else first offset with timestamp >= this.
    pub timestamp: i64,
    /// The epoch the client believes the partition is at (-1: no check).
    pub current_leader_epoch: i32,
    /// A consumer's request (replica id -1): refused while the high watermark lags the start
    /// of the leader's epoch (KIP-207).
    pub from_consumer: bool,
    /// read_committed: "latest" is the last stable offset, and lookups find nothing at or
    /// past it (Kafka's `fetchOffsetForTimestamp` with its isolation level).
    pub read_committed: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct OffsetAnswer {
    pub error_code: i16,
    pub timestamp: i64,
    pub offset: i64,
    /// The epoch of the offset's record (the leader's epoch for latest), -1 if unknown.
    pub leader_epoch: i32,
}

/// One producer a partition remembers (DescribeProducers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerView {
    pub producer_id: i64,
    pub epoch: i16,
    pub last_sequence: i32,
    pub last_timestamp_ms: i64,
    /// Coordinator epoch of the producer's last marker here (-1: none).
    pub coordinator_epoch: i32,
    /// First offset of its ongoing transaction here (-1: none).
    pub current_txn_start_offset: i64,
}

/// A partition's producers, or why there are none to show.
#[derive(Debug, Clone)]
pub struct PartitionProducers {
    pub error_code: i16,
    pub producers: Vec<ProducerView>,
}

/// (topic, partition, offset): wake when this partition has readable data past `offset`.
pub type Watched = (String, i32, i64);

pub enum PartitionRequest {
    Produce {
        parts: Vec<ProducePart>,
        /// acks=all: refuse partitions whose ISR is below `min.insync.replicas`, unwritten.
        acks_all: bool,
        now_ms: i64,
        /// When the requesting shard sent it (queueing time metric).
        sent_at: std::time::Instant,
    },
    /// acks=all: fdatasync these partitions (group commit), then wait until every in-sync
    /// replica has them durably, or `timeout_ms`.
    Replicate {
        parts: Vec<ReplicatePart>,
        timeout_ms: u64,
    },
    /// A follower's fetch: checks, then batches up to the log end. `record`: count the fetch
    /// as the follower's acknowledgement (the first read of a long poll only).
    ReplicaRead {
        replica_id: i32,
        parts: Vec<ReplicaReadSpec>,
        record: bool,
        now_ms: u64,
    },
    /// Resolves when one of the partitions has appended data past its offset (a follower's
    /// long poll), or at the deadline.
    WaitForAppend {
        parts: Vec<Watched>,
        wait_ms: u64,
    },
    Read {
        parts: Vec<ReadSpec>,
        /// When the requesting shard sent it (queueing time metric).
        sent_at: std::time::Instant,
    },
    /// Resolves when one of the partitions has readable data past its offset, or at the
    /// deadline.
    WaitForData {
        parts: Vec<Watched>,
        /// Readable means below the last stable offset, not the high watermark.
        read_committed: bool,
        wait_ms: u64,
    },
    /// Append transaction markers, then wait until every in-sync replica has them (acks=all)
    /// or `timeout_ms`; an error code per marker.
    WriteTxnMarkers {
        markers: Vec<TxnMarkerWrite>,
        timeout_ms: u64,
        now_ms: i64,
    },
    ListOffsets {
        queries: Vec<OffsetQuery>,
    },
    DescribeProducers {
        parts: Vec<(String, i32)>,
    },
    /// The end offset of a leader epoch per partition (`offset_for_leader_epoch.rs`).
    OffsetForLeaderEpoch {
        queries: Vec<super::offset_for_leader_epoch::EpochQuery>,
    },
}

pub enum PartitionReply {
    Produce(Vec<ProducePartResult>),
    Replicate(Vec<i16>),
    WriteTxnMarkers(Vec<i16>),
    Read(Vec<PartitionRead>),
    WaitForData,
    ListOffsets(Vec<OffsetAnswer>),
    DescribeProducers(Vec<PartitionProducers>),
    OffsetForLeaderEpoch(Vec<super::offset_for_leader_epoch::EpochEndAnswer>),
}
