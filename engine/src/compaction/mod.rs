//! Log compaction (`cleanup.policy=compact`): Kafka's log cleaner, one per shard.
//!
//! Contract: a pass keeps, in the sealed segments below the first uncleanable offset, the
//! latest record of every key at its original offset (offsets never move; gaps appear); a
//! tombstone stays for `delete.retention.ms` after the pass that first keeps it, then goes.
//! Batches keep their codec, producer id, epoch, base sequence, partitionLeaderEpoch and
//! timestamps (`filter.rs`). The offset map is bounded (`offset_map.rs`); a log larger than it
//! is cleaned a prefix per pass (`cleaner.rs`). Cleaned files replace segments crash-safely
//! (`swap.rs`); a kill -9 at any step leaves a log that opens with every key's latest value.
//! The active segment is never cleaned, so appends never wait for the cleaner; reads go on
//! during a pass and see either the old or the cleaned segments, both valid logs.
//!
//! Transactions follow Kafka's cleaner (`transactions.rs`): aborted data goes, markers stay
//! until no data of their transaction remains and then `delete.retention.ms` more, and the
//! cleaned segment's `.txnindex` keeps the entries of the aborted transactions whose markers
//! stay with data. Nothing at or past the caller's bound (the last stable offset) is cleaned.
//!
//! This is the only part of the engine that decompresses records (`codec.rs`).

pub mod cleaner;
pub mod codec;
pub mod dirty;
mod filter;
pub mod offset_map;
pub mod records;
mod segment_io;
mod swap;
mod transactions;

pub use cleaner::{CleanOutcome, Cleaner, CleanerConfig, CleanerTotals};
pub use dirty::{dirtiest_log, CleanableStats};
pub use filter::ATTRIBUTE_DELETE_HORIZON;
