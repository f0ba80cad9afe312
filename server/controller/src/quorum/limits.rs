//! Every bound of the quorum and its disk, in one place, tied together at compile time.

use crate::records::RECORD_BATCH_BYTES_MAX;

/// Largest proposal (one Raft entry's data). One entry holds one record batch.
pub const PROPOSAL_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Largest state-machine snapshot (the metadata image at an applied index).
pub const SNAPSHOT_BYTES_MAX: usize = 512 * 1024 * 1024;

/// Largest encoded Raft message accepted from a peer: a snapshot plus its envelope.
pub const MESSAGE_BYTES_MAX: usize = SNAPSHOT_BYTES_MAX + 1024 * 1024;

/// Bytes of entries the leader packs into one append message (raft-rs `max_size_per_msg`).
/// One entry larger than this still goes out alone.
pub const APPEND_BYTES_MAX: u64 = 1024 * 1024;

/// Append messages in flight to one follower before the leader waits for acknowledgements
/// (raft-rs `max_inflight_msgs`).
pub const APPENDS_IN_FLIGHT_MAX: usize = 256;

/// Readies handed out and not yet `persisted` (the disk writes queued behind one another).
pub const READIES_IN_FLIGHT_MAX: usize = 64;

/// Voters in the quorum (Kafka's controller quorums are 1, 3 or 5).
pub const VOTERS_MAX: usize = 9;

/// Largest record of the log file: header plus one entry.
pub const LOG_RECORD_BYTES_MAX: usize = PROPOSAL_BYTES_MAX + 64;

/// Largest log file read back at start; compaction keeps the log far below it.
pub const LOG_FILE_BYTES_MAX: u64 = 4 * 1024 * 1024 * 1024;

const _: () = assert!(PROPOSAL_BYTES_MAX >= RECORD_BATCH_BYTES_MAX);
const _: () = assert!(LOG_RECORD_BYTES_MAX > PROPOSAL_BYTES_MAX);
const _: () = assert!(MESSAGE_BYTES_MAX > SNAPSHOT_BYTES_MAX);
const _: () = assert!(MESSAGE_BYTES_MAX > PROPOSAL_BYTES_MAX);
const _: () = assert!(LOG_RECORD_BYTES_MAX <= u32::MAX as usize);
const _: () = assert!(SNAPSHOT_BYTES_MAX as u64 <= LOG_FILE_BYTES_MAX);
