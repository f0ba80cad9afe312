//! Configuration (Kafka's names) and the bounds everything else is checked against.

/// Kafka's `RecordBatch.NO_PRODUCER_ID`.
pub const NO_PRODUCER_ID: i64 = -1;
/// Kafka's `RecordBatch.NO_PRODUCER_EPOCH`.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// The highest epoch handed to a producer; at it, the next InitProducerId rotates the producer
/// id. `i16::MAX` itself is reserved for fencing the producer at this epoch.
pub const PRODUCER_EPOCH_EXHAUSTED: i16 = i16::MAX - 1;
const _: () = assert!(PRODUCER_EPOCH_EXHAUSTED < i16::MAX);

/// A transactional id is an int16-length string in the protocol and in the record key.
pub const TRANSACTIONAL_ID_BYTES_MAX: usize = i16::MAX as usize;
/// Kafka's longest topic name (`Topic.MAX_NAME_LENGTH`).
pub const TOPIC_NAME_BYTES_MAX: usize = 249;
const _: () = assert!(TOPIC_NAME_BYTES_MAX <= i16::MAX as usize);

/// Kafka's `transaction.max.timeout.ms` default (15 minutes).
pub const MAX_TIMEOUT_MS_DEFAULT: i32 = 900_000;
/// Kafka's `transactional.id.expiration.ms` default (7 days).
pub const ID_EXPIRATION_MS_DEFAULT: i64 = 604_800_000;
/// Kafka's `transaction.abort.timed.out.transaction.cleanup.interval.ms` default.
pub const ABORT_TIMED_OUT_INTERVAL_MS_DEFAULT: i64 = 10_000;

/// The coordinator's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnConfig {
    /// `transaction.max.timeout.ms`: the longest transaction timeout a producer may ask for.
    pub max_timeout_ms: i32,
    /// `transactional.id.expiration.ms`: an idle id (Empty, Complete*) not updated for this long
    /// is removed (a tombstone).
    pub id_expiration_ms: i64,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`: how often Kafka scans for
    /// timed-out transactions. `next_deadline_ms` gives exact deadlines; a glue that polls
    /// instead uses this period.
    pub abort_timed_out_interval_ms: i64,
}

impl Default for TxnConfig {
    fn default() -> TxnConfig {
        TxnConfig {
            max_timeout_ms: MAX_TIMEOUT_MS_DEFAULT,
            id_expiration_ms: ID_EXPIRATION_MS_DEFAULT,
            abort_timed_out_interval_ms: ABORT_TIMED_OUT_INTERVAL_MS_DEFAULT,
        }
    }
}

impl TxnConfig {
    /// Panics on a configuration Kafka would refuse.
    pub fn assert_valid(&self) {
        assert!(
            self.max_timeout_ms > 0,
            "transaction.max.timeout.ms {}",
            self.max_timeout_ms
        );
        assert!(self.id_expiration_ms > 0, "transactional.id.expiration.ms");
        assert!(self.abort_timed_out_interval_ms > 0, "abort interval");
    }
}
