//! Transactions: the transaction coordinator on a live broker (Kafka's `TransactionCoordinator`,
//! `TransactionStateManager` and `TransactionMarkerChannelManager`).
//!
//! The state machine is pure and lives in the `sluice-txn` crate (`server/txn/`). This module
//! owns what it cannot: where a transactional id's coordinator lives, the durable log, loading,
//! the transaction markers, and the timers.
//!
//! - **Placement** (`service`): a transactional id belongs to `__transaction_state` partition
//!   `abs(hashCode) % transaction.state.log.num.partitions` (Kafka's rule); its coordinator is
//!   the broker leading that partition, on the shard owning it. Requests travel there on the
//!   transaction mesh. Another broker's partition answers NOT_COORDINATOR; one still being
//!   replayed answers COORDINATOR_LOAD_IN_PROGRESS.
//! - **Durability** (`persist`): every state change the coordinator asks for is a record of
//!   Kafka's `TransactionLogKey`/`TransactionLogValue` format in `__transaction_state`, appended
//!   and replicated with acks=all before it takes effect and before the client hears of it.
//!   The topic is compacted; an expired transactional id is a tombstone.
//! - **Markers** (`markers`): once PrepareCommit/PrepareAbort is durable, EndTxn is answered and
//!   the COMMIT/ABORT control batches are written to every partition of the transaction
//!   (acks=all on the partition leaders): in process on the partitions this broker leads
//!   (`marker_write`), with WriteTxnMarkers on the others, retried until each partition has
//!   its marker; then CompleteCommit/CompleteAbort is written. A new leader of
//!   a `__transaction_state` partition finishes the markers of every transaction it finds in a
//!   Prepare state (`loader`).
//! - **Leadership** (`loader`): the shard watches role changes; a partition it now leads is
//!   replayed from its log into the coordinator (with the partition's leader epoch as the
//!   coordinator epoch, which fences markers of an older coordinator), one it lost is forgotten.
//! - **Timers** (`timers`): transactions past `transaction.timeout.ms` are aborted with the
//!   producer's epoch bumped (the hung producer is fenced); idle transactional ids expire after
//!   `transactional.id.expiration.ms`.
//! - **Verification** (`verify`): before a partition accepts a producer's first transactional
//!   batch, it asks the coordinator whether the partition was added to that producer's ongoing
//!   transaction (KIP-890 part 1), so a late write cannot open a transaction nobody will end.
//!
//! Must never: answer a client before its state change is durable on the in-sync replicas,
//! write Complete* before every marker is durable, or act as coordinator for a partition it has
//! not finished loading.

pub mod config;
pub mod loader;
pub mod marker_write;
pub mod markers;
pub mod peers;
pub mod persist;
pub mod runtime;
pub mod service;
pub mod timers;
pub mod verify;

pub use config::TxnSettings;
pub use service::{TxnAnswer, TxnMesh, TxnOp, TxnRequest, TxnService};
