//! Every engine limit in one place, with its unit last. Relationships between them are asserted
//! at compile time.

/// O_DIRECT alignment the engine writes with (file positions and lengths).
pub const BLOCK_BYTES: u64 = 4096;
/// Smallest write-behind chunk; chunks double up to `CHUNK_BYTES_MAX` while a partition streams.
pub const CHUNK_BYTES_MIN: usize = 64 * 1024;
/// Largest write-behind chunk (one O_DIRECT write).
pub const CHUNK_BYTES_MAX: usize = 1024 * 1024;
/// Full chunks a single segment may have in flight before `append` waits for the oldest.
pub const CHUNKS_IN_FLIGHT_MAX: usize = 4;
/// Largest chunk a `WriteTuning` (from `sluice iotune`) may ask for.
pub const CHUNK_BYTES_TUNED_MAX: usize = 8 * 1024 * 1024;
/// Most chunks in flight per segment a `WriteTuning` may ask for.
pub const CHUNKS_IN_FLIGHT_TUNED_MAX: usize = 32;
/// Written full-size chunk buffers a shard keeps for reuse (outside the pool budget).
pub const FREE_CHUNKS_MAX: usize = 8;
/// Smallest pre-allocation step (fallocate) of a segment file. Steps double with the segment's
/// size up to `PREALLOCATE_BYTES_STEP_MAX`, so a streaming partition reserves space in large
/// steps while thousands of quiet partitions reserve little.
pub const PREALLOCATE_BYTES_STEP_MIN: u64 = 256 * 1024;
/// Largest pre-allocation step.
pub const PREALLOCATE_BYTES_STEP_MAX: u64 = 16 * 1024 * 1024;
/// Smallest accepted `segment.bytes` (Kafka's minimum is 14 bytes; we need room for a batch).
pub const SEGMENT_BYTES_MIN: u64 = 16 * 1024;
/// Largest `segment.bytes`: index positions are u32.
pub const SEGMENT_BYTES_MAX: u64 = (1 << 31) - 1;
/// Largest batch accepted whatever `max.message.bytes` says (protects the read path).
pub const BATCH_BYTES_MAX: u32 = 64 * 1024 * 1024;
/// Bytes read at a time when scanning a segment during recovery or index rebuild.
pub const SCAN_READ_BYTES: usize = 1024 * 1024;
/// Default per-shard batch cache budget.
pub const BATCH_CACHE_BYTES_DEFAULT: usize = 64 * 1024 * 1024;
/// Default per-shard write-behind buffer pool budget.
pub const WRITE_BUFFER_POOL_BYTES_DEFAULT: usize = 64 * 1024 * 1024;
/// Batches in one `append` call.
pub const APPEND_BATCHES_MAX: usize = 1024;

const _: () = assert!((CHUNK_BYTES_MIN as u64).is_multiple_of(BLOCK_BYTES));
const _: () = assert!((CHUNK_BYTES_MAX as u64).is_multiple_of(BLOCK_BYTES));
const _: () = assert!(CHUNK_BYTES_MIN <= CHUNK_BYTES_MAX);
const _: () = assert!(CHUNK_BYTES_MAX <= CHUNK_BYTES_TUNED_MAX);
const _: () = assert!((CHUNK_BYTES_TUNED_MAX as u64).is_multiple_of(BLOCK_BYTES));
const _: () = assert!(CHUNKS_IN_FLIGHT_MAX <= CHUNKS_IN_FLIGHT_TUNED_MAX);
const _: () = assert!(PREALLOCATE_BYTES_STEP_MIN.is_multiple_of(BLOCK_BYTES));
const _: () = assert!(PREALLOCATE_BYTES_STEP_MIN <= PREALLOCATE_BYTES_STEP_MAX);
const _: () = assert!(SEGMENT_BYTES_MIN <= SEGMENT_BYTES_MAX);
const _: () = assert!((SCAN_READ_BYTES as u64).is_multiple_of(BLOCK_BYTES));
const _: () = assert!(WRITE_BUFFER_POOL_BYTES_DEFAULT >= CHUNK_BYTES_MAX);
