//! The coordinator's settings, from the broker config (Kafka's names).

use crate::config::BrokerConfig;

/// Longest wait for the in-sync replicas when writing `__transaction_state` (Kafka uses the
/// coordinator's `request.timeout.ms`).
pub const TXN_LOG_WRITE_TIMEOUT_MS: u64 = 30_000;
/// Pause between rounds of markers that could not be written yet (leader moving, replicas
/// behind).
pub const MARKER_RETRY_BACKOFF_MS: u64 = 100;
/// Longest pause between rounds while a leader refuses the markers for authorization (the
/// backoff doubles from `MARKER_RETRY_BACKOFF_MS`): an operator adding the ACL sees the
/// transactions complete within this long.
pub const MARKER_REFUSED_BACKOFF_MS_MAX: u64 = 5_000;
/// At most one error line per shard this often while markers are refused for authorization.
pub const MARKER_REFUSED_LOG_INTERVAL_MS: u64 = 60_000;
/// Longest single WriteTxnMarkers exchange with a broker.
pub const MARKER_REQUEST_TIMEOUT_MS: u64 = 30_000;
/// Longest connection attempt to another broker.
pub const PEER_CONNECT_TIMEOUT_MS: u64 = 5_000;
/// Attempts to write the Complete* record after the markers before leaving it to the next
/// coordinator load (which writes the markers again: they are idempotent).
pub const COMPLETE_WRITE_ATTEMPTS_MAX: u32 = 10;

const _: () = assert!(MARKER_RETRY_BACKOFF_MS <= MARKER_REFUSED_BACKOFF_MS_MAX);
const _: () = assert!(MARKER_REFUSED_BACKOFF_MS_MAX < MARKER_REFUSED_LOG_INTERVAL_MS);

#[derive(Debug, Clone)]
pub struct TxnSettings {
    /// `transaction.state.log.num.partitions`.
    pub log_partitions: i32,
    /// `transaction.state.log.segment.bytes`.
    pub log_segment_bytes: u64,
    /// `transaction.max.timeout.ms`.
    pub max_timeout_ms: i32,
    /// `transactional.id.expiration.ms`.
    pub id_expiration_ms: i64,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`.
    pub abort_check_interval_ms: u64,
    /// `transaction.remove.expired.transaction.cleanup.interval.ms`.
    pub expiry_check_interval_ms: u64,
    /// `offsets.topic.num.partitions` (AddOffsetsToTxn adds the group's offsets partition).
    pub offsets_partitions: i32,
    /// This broker.
    pub node_id: i32,
}

impl TxnSettings {
    pub fn from_broker(config: &BrokerConfig) -> TxnSettings {
        assert!(config.transaction_state_log_num_partitions > 0);
        assert!(config.transaction_max_timeout_ms > 0);
        TxnSettings {
            log_partitions: config.transaction_state_log_num_partitions,
            log_segment_bytes: config.transaction_state_log_segment_bytes,
            max_timeout_ms: config.transaction_max_timeout_ms,
            id_expiration_ms: config.transactional_id_expiration_ms,
            abort_check_interval_ms: config.transaction_abort_timed_out_cleanup_interval_ms,
            expiry_check_interval_ms: config.transaction_remove_expired_cleanup_interval_ms,
            offsets_partitions: config.offsets_topic_num_partitions,
            node_id: config.node_id,
        }
    }

    pub fn coordinator_config(&self) -> sluice_txn::TxnConfig {
        sluice_txn::TxnConfig {
            max_timeout_ms: self.max_timeout_ms,
            id_expiration_ms: self.id_expiration_ms,
            abort_timed_out_interval_ms: self.abort_check_interval_ms as i64,
        }
    }

    /// The `__transaction_state` partition of `transactional_id`.
    pub fn partition_of(&self, transactional_id: &str) -> i32 {
        sluice_txn::transaction_partition(transactional_id, self.log_partitions)
    }
}
