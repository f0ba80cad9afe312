//! Typed errors. Mapping to Kafka error codes is the server's job; the doc of each variant says
//! which code it is meant to become.

use std::io;

/// A storage-level failure of a partition log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// An I/O error, with what the engine was doing (-> KAFKA_STORAGE_ERROR).
    #[error("i/o error while {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The device is full (ENOSPC/EDQUOT) (-> KAFKA_STORAGE_ERROR).
    #[error("no space left while {context}")]
    NoSpace { context: String },
    /// On-disk data failed validation where the engine cannot repair it.
    #[error("corrupt log data: {detail}")]
    Corrupt { detail: String },
    /// The partition log was closed or deleted.
    #[error("log {name} is closed")]
    Closed { name: String },
    /// An argument was outside the log (e.g. truncate above the end).
    #[error("invalid argument: {detail}")]
    InvalidArgument { detail: String },
}

impl LogError {
    /// Wraps an `io::Error`, classifying ENOSPC/EDQUOT as `NoSpace`.
    pub fn io(context: impl Into<String>, source: io::Error) -> LogError {
        let context = context.into();
        match source.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => LogError::NoSpace { context },
            _ => LogError::Io { context, source },
        }
    }
}

/// Why an append was refused. Nothing of the call was appended.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The CRC-32C does not match (-> CORRUPT_MESSAGE).
    #[error(
        "batch {batch_index}: crc mismatch (stored {stored:#010x}, computed {computed:#010x})"
    )]
    Corrupt {
        batch_index: usize,
        stored: u32,
        computed: u32,
    },
    /// Malformed batch header (-> CORRUPT_MESSAGE for framing, INVALID_RECORD otherwise).
    #[error("batch {batch_index}: invalid: {reason}")]
    InvalidBatch { batch_index: usize, reason: String },
    /// A batch is larger than `max.message.bytes` (-> MESSAGE_TOO_LARGE).
    #[error("batch {batch_index}: {batch_bytes} bytes > max {batch_bytes_max}")]
    TooLarge {
        batch_index: usize,
        batch_bytes: u32,
        batch_bytes_max: u32,
    },
    /// Replicated batches do not continue the log (follower path).
    #[error("non-contiguous replicated batch: expected offset {expected}, got {got}")]
    NonContiguous { expected: i64, got: i64 },
    /// Storage failed (-> KAFKA_STORAGE_ERROR).
    #[error(transparent)]
    Storage(#[from] LogError),
}

/// Why a read was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The offset is below the log start or above the log end (-> OFFSET_OUT_OF_RANGE).
    #[error("offset {offset} out of range [{log_start_offset}, {log_end_offset}]")]
    OffsetOutOfRange {
        offset: i64,
        log_start_offset: i64,
        log_end_offset: i64,
    },
    /// Storage failed (-> KAFKA_STORAGE_ERROR).
    #[error(transparent)]
    Storage(#[from] LogError),
}
