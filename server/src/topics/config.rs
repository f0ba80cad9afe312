//! Per-topic configs: the Kafka keys Sluice supports, their validation, and the engine
//! `LogConfig` they resolve to (topic override, else broker default).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sluice_engine::{CleanupPolicy, CompactionConfig, LogConfig, TimestampType};

use crate::config::BrokerConfig;

pub const RETENTION_MS: &str = "retention.ms";
pub const RETENTION_BYTES: &str = "retention.bytes";
pub const SEGMENT_BYTES: &str = "segment.bytes";
pub const SEGMENT_MS: &str = "segment.ms";
pub const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
pub const MESSAGE_TIMESTAMP_TYPE: &str = "message.timestamp.type";
pub const CLEANUP_POLICY: &str = "cleanup.policy";
pub const MIN_CLEANABLE_DIRTY_RATIO: &str = "min.cleanable.dirty.ratio";
pub const MIN_COMPACTION_LAG_MS: &str = "min.compaction.lag.ms";
pub const MAX_COMPACTION_LAG_MS: &str = "max.compaction.lag.ms";
pub const DELETE_RETENTION_MS: &str = "delete.retention.ms";
pub const MIN_INSYNC_REPLICAS: &str = "min.insync.replicas";
pub const UNCLEAN_LEADER_ELECTION_ENABLE: &str = "unclean.leader.election.enable";

/// Every topic config key Sluice accepts, in the order DescribeConfigs lists them.
pub const SUPPORTED_KEYS: [&str; 13] = [
    CLEANUP_POLICY,
    DELETE_RETENTION_MS,
    MAX_COMPACTION_LAG_MS,
    MAX_MESSAGE_BYTES,
    MESSAGE_TIMESTAMP_TYPE,
    MIN_CLEANABLE_DIRTY_RATIO,
    MIN_COMPACTION_LAG_MS,
    MIN_INSYNC_REPLICAS,
    RETENTION_BYTES,
    RETENTION_MS,
    SEGMENT_BYTES,
    SEGMENT_MS,
    UNCLEAN_LEADER_ELECTION_ENABLE,
];

/// Smallest segment Kafka allows (`segment.bytes` >= 14 bytes in Kafka; we ask for 1 MiB so
/// index offsets stay meaningful).
const SEGMENT_BYTES_MIN: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown or unsupported topic config '{0}'")]
    UnknownKey(String),
    #[error("invalid value '{value}' for {key}: {reason}")]
    InvalidValue {
        key: String,
        value: String,
        reason: &'static str,
    },
}

/// Topic-level overrides, as Kafka strings (what DescribeConfigs shows and the store persists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicConfigs {
    pub overrides: BTreeMap<String, String>,
}

impl TopicConfigs {
    /// Validates and sets one override.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        validate(key, value)?;
        self.overrides
            .insert(key.to_string(), value.trim().to_string());
        Ok(())
    }

    pub fn remove(&mut self, key: &str) -> Result<(), ConfigError> {
        if !SUPPORTED_KEYS.contains(&key) {
            return Err(ConfigError::UnknownKey(key.to_string()));
        }
        self.overrides.remove(key);
        Ok(())
    }

    /// The effective value of `key`: the override, else the broker default.
    pub fn value(&self, key: &str, broker: &BrokerConfig) -> Option<String> {
        if let Some(value) = self.overrides.get(key) {
            return Some(value.clone());
        }
        // Kafka's defaults (no broker-wide overrides of these yet).
        let compaction = CompactionConfig::default();
        let default = match key {
            RETENTION_MS => broker.retention_ms.to_string(),
            RETENTION_BYTES => broker.retention_bytes.to_string(),
            SEGMENT_BYTES => broker.segment_bytes.to_string(),
            SEGMENT_MS => broker.segment_ms.to_string(),
            MAX_MESSAGE_BYTES => broker.max_message_bytes.to_string(),
            MESSAGE_TIMESTAMP_TYPE => broker.message_timestamp_type.clone(),
            CLEANUP_POLICY => "delete".to_string(),
            MIN_CLEANABLE_DIRTY_RATIO => compaction.min_cleanable_dirty_ratio.to_string(),
            MIN_COMPACTION_LAG_MS => compaction.min_compaction_lag_ms.to_string(),
            MAX_COMPACTION_LAG_MS => compaction.max_compaction_lag_ms.to_string(),
            DELETE_RETENTION_MS => compaction.delete_retention_ms.to_string(),
            MIN_INSYNC_REPLICAS => broker.min_insync_replicas.to_string(),
            UNCLEAN_LEADER_ELECTION_ENABLE => broker.unclean_leader_election_enable.to_string(),
            _ => return None,
        };
        Some(default)
    }

    /// `min.insync.replicas` of this topic: the fewest in-sync replicas an acks=all produce
    /// needs.
    pub fn min_insync_replicas(&self, broker: &BrokerConfig) -> usize {
        self.value(MIN_INSYNC_REPLICAS, broker)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1)
    }

    /// `unclean.leader.election.enable` of this topic.
    pub fn unclean_leader_election(&self, broker: &BrokerConfig) -> bool {
        self.value(UNCLEAN_LEADER_ELECTION_ENABLE, broker)
            .as_deref()
            == Some("true")
    }

    /// The engine config of a partition of this topic. Overrides were validated on `set`.
    pub fn log_config(&self, broker: &BrokerConfig) -> LogConfig {
        let int = |key: &str| -> i64 {
            self.value(key, broker)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or_else(|| panic!("validated config {key} must parse"))
        };
        let timestamp_type = match self.value(MESSAGE_TIMESTAMP_TYPE, broker).as_deref() {
            Some("LogAppendTime") => TimestampType::LogAppendTime,
            _ => TimestampType::CreateTime,
        };
        let policy = self.value(CLEANUP_POLICY, broker).unwrap_or_default();
        let policies: Vec<&str> = policy.split(',').map(str::trim).collect();
        let compact = policies.contains(&"compact").then(|| CompactionConfig {
            min_cleanable_dirty_ratio: self
                .value(MIN_CLEANABLE_DIRTY_RATIO, broker)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("validated {MIN_CLEANABLE_DIRTY_RATIO} must parse")),
            min_compaction_lag_ms: int(MIN_COMPACTION_LAG_MS),
            max_compaction_lag_ms: int(MAX_COMPACTION_LAG_MS),
            delete_retention_ms: int(DELETE_RETENTION_MS),
        });
        LogConfig {
            segment_bytes: int(SEGMENT_BYTES) as u64,
            segment_ms: int(SEGMENT_MS),
            index_interval_bytes: broker.index_interval_bytes,
            retention_ms: int(RETENTION_MS),
            retention_bytes: int(RETENTION_BYTES),
            max_message_bytes: int(MAX_MESSAGE_BYTES) as u32,
            timestamp_type,
            cleanup_policy: CleanupPolicy {
                delete: policies.contains(&"delete"),
                compact,
            },
        }
    }
}

fn validate(key: &str, value: &str) -> Result<(), ConfigError> {
    let value = value.trim();
    let bad = |reason| {
        Err(ConfigError::InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
            reason,
        })
    };
    let parse = value.parse::<i64>();
    match key {
        RETENTION_MS | RETENTION_BYTES => match parse {
            Ok(v) if v >= -1 => Ok(()),
            _ => bad("must be an integer >= -1 (-1 = unlimited)"),
        },
        SEGMENT_MS => match parse {
            Ok(v) if v >= 1 => Ok(()),
            _ => bad("must be a positive integer"),
        },
        SEGMENT_BYTES => match parse {
            Ok(v) if v >= SEGMENT_BYTES_MIN as i64 && v <= u32::MAX as i64 => Ok(()),
            _ => bad("must be between 1048576 and 4294967295"),
        },
        MAX_MESSAGE_BYTES => match parse {
            Ok(v) if v >= 0 && v <= i32::MAX as i64 => Ok(()),
            _ => bad("must be an integer between 0 and 2147483647"),
        },
        MESSAGE_TIMESTAMP_TYPE => match value {
            "CreateTime" | "LogAppendTime" => Ok(()),
            _ => bad("must be CreateTime or LogAppendTime"),
        },
        CLEANUP_POLICY => {
            let policies: Vec<&str> = value.split(',').map(str::trim).collect();
            let known = policies.iter().all(|p| *p == "delete" || *p == "compact");
            if known && !value.is_empty() {
                Ok(())
            } else {
                bad("must be delete, compact, or both (compact,delete)")
            }
        }
        MIN_CLEANABLE_DIRTY_RATIO => match value.parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Ok(()),
            _ => bad("must be a number between 0 and 1"),
        },
        MIN_COMPACTION_LAG_MS | DELETE_RETENTION_MS => match parse {
            Ok(v) if v >= 0 => Ok(()),
            _ => bad("must be an integer >= 0"),
        },
        MIN_INSYNC_REPLICAS => match parse {
            Ok(v) if (1..=i32::MAX as i64).contains(&v) => Ok(()),
            _ => bad("must be a positive integer"),
        },
        UNCLEAN_LEADER_ELECTION_ENABLE => match value {
            "true" | "false" => Ok(()),
            _ => bad("must be true or false"),
        },
        MAX_COMPACTION_LAG_MS => match parse {
            Ok(v) if v >= 1 => Ok(()),
            _ => bad("must be a positive integer"),
        },
        _ => Err(ConfigError::UnknownKey(key.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleanup_policies_resolve_to_retention_and_compaction() {
        let broker = BrokerConfig::default();
        let mut configs = TopicConfigs::default();
        let log = configs.log_config(&broker);
        assert!(log.cleanup_policy.delete && log.cleanup_policy.compact.is_none());
        configs
            .set(CLEANUP_POLICY, "compact")
            .expect("valid config");
        configs
            .set(MIN_CLEANABLE_DIRTY_RATIO, "0.01")
            .expect("valid config");
        configs
            .set(DELETE_RETENTION_MS, "100")
            .expect("valid config");
        let log = configs.log_config(&broker);
        assert!(!log.cleanup_policy.delete, "compact alone: no retention");
        let compact = log.cleanup_policy.compact.expect("compacted");
        assert_eq!(compact.min_cleanable_dirty_ratio, 0.01);
        assert_eq!(compact.delete_retention_ms, 100);
        configs
            .set(CLEANUP_POLICY, "compact, delete")
            .expect("valid config");
        let log = configs.log_config(&broker);
        assert!(log.cleanup_policy.delete && log.cleanup_policy.compact.is_some());
        for bad in ["", "compacted", "delete,nope"] {
            assert!(configs.set(CLEANUP_POLICY, bad).is_err(), "{bad:?}");
        }
        assert!(configs.set(MIN_CLEANABLE_DIRTY_RATIO, "1.5").is_err());
        assert!(configs.set(MAX_COMPACTION_LAG_MS, "0").is_err());
    }

    #[test]
    fn overrides_win_over_broker_defaults() {
        let broker = BrokerConfig::default();
        let mut configs = TopicConfigs::default();
        configs.set(RETENTION_MS, "1000").unwrap();
        configs
            .set(MESSAGE_TIMESTAMP_TYPE, "LogAppendTime")
            .unwrap();
        let log = configs.log_config(&broker);
        assert_eq!(log.retention_ms, 1000);
        assert_eq!(log.segment_bytes, broker.segment_bytes);
        assert!(matches!(log.timestamp_type, TimestampType::LogAppendTime));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let mut configs = TopicConfigs::default();
        assert!(configs.set("no.such.key", "1").is_err());
        assert!(configs.set(RETENTION_BYTES, "-2").is_err());
        assert!(configs.set(SEGMENT_BYTES, "12").is_err());
    }
}
