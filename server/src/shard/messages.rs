//! Requests one shard sends to another (or to itself, on the same code path) and their replies.
//! Everything here is `Send`: it crosses executor threads over glommio shared channels. Each
//! request carries a one-shot reply sender for its own reply type.

use std::sync::Arc;

use bytes::Bytes;

use crate::topics::{ClusterMeta, TopicConfigs};

pub type Reply<T> = flume::Sender<T>;

/// One partition's batches for the owner to append (acks is the connection shard's business).
pub struct ProducePart {
    pub topic: String,
    pub partition: i32,
    pub batches: Vec<Bytes>,
}

#[derive(Debug, Clone)]
pub struct ProducePartResult {
    pub error_code: i16,
    pub error_message: Option<String>,
    pub base_offset: i64,
    pub log_append_time_ms: i64,
    pub log_start_offset: i64,
}

pub struct ReadSpec {
    pub topic: String,
    pub partition: i32,
    pub fetch_offset: i64,
    pub max_bytes: u32,
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
}

pub struct PartitionRead {
    pub error_code: i16,
    pub high_watermark: i64,
    pub log_start_offset: i64,
    pub chunks: Vec<OutChunk>,
    pub bytes: u32,
}

pub struct OffsetQuery {
    pub topic: String,
    pub partition: i32,
    /// -2 earliest, -1 latest, -3 max timestamp, else first offset with timestamp >= this.
    pub timestamp: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct OffsetAnswer {
    pub error_code: i16,
    pub timestamp: i64,
    pub offset: i64,
}

/// A topic metadata change; only shard 0 executes these.
pub enum AdminOp {
    CreateTopic {
        name: String,
        partitions: i32,
        configs: TopicConfigs,
        validate_only: bool,
    },
    DeleteTopic {
        name: String,
    },
    CreatePartitions {
        name: String,
        count: i32,
        validate_only: bool,
    },
    SetConfigs {
        name: String,
        configs: TopicConfigs,
        validate_only: bool,
    },
}

/// Kafka error code and message of a refused admin op.
pub type AdminResult = Result<(), (i16, String)>;

pub enum ShardRequest {
    Produce {
        parts: Vec<ProducePart>,
        now_ms: i64,
        /// When the requesting shard sent it (queueing time metric).
        sent_at: std::time::Instant,
        reply: Reply<Vec<ProducePartResult>>,
    },
    /// fdatasync everything appended so far to these partitions (group commit).
    Flush {
        parts: Vec<(String, i32)>,
        reply: Reply<Vec<i16>>,
    },
    Read {
        parts: Vec<ReadSpec>,
        /// When the requesting shard sent it (queueing time metric).
        sent_at: std::time::Instant,
        reply: Reply<Vec<PartitionRead>>,
    },
    /// Resolves when one of the partitions has data past its offset, or at the deadline.
    WaitForData {
        parts: Vec<(String, i32, i64)>,
        wait_ms: u64,
        reply: Reply<()>,
    },
    ListOffsets {
        queries: Vec<OffsetQuery>,
        reply: Reply<Vec<OffsetAnswer>>,
    },
    Admin {
        op: AdminOp,
        reply: Reply<AdminResult>,
    },
    ApplyMeta {
        meta: Arc<ClusterMeta>,
        reply: Reply<()>,
    },
    /// A consumer-group request for the coordinator shard of its group.
    Group(crate::group::service::GroupCall),
}
