//! Broker configuration: embedded defaults, overridden by a TOML file (`--config`), overridden by
//! command-line flags. Keys use Kafka's names where Kafka has one (`auto.create.topics.enable`,
//! `num.partitions`, `socket.request.max.bytes`, `log.dirs`), so a TOML file reads like a
//! `server.properties` with quotes:
//!
//! ```toml
//! listen = "127.0.0.1:9092"
//! "log.dirs" = "/var/lib/sluice"
//! "auto.create.topics.enable" = false
//! "num.partitions" = 6
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::limits;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML for sluice: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid setting {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// Every broker setting, resolved. Lives on the main thread, then copied into each shard.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerConfig {
    /// Address the Kafka listener binds on every shard (SO_REUSEPORT).
    pub listen: SocketAddr,
    /// `advertised.listeners` (one `host:port`): what Metadata tells clients. Defaults to the
    /// address each connection reached us on.
    #[serde(rename = "advertised.listeners")]
    pub advertised_listener: Option<String>,
    /// `log.dirs` (one directory): partition logs and the topic metadata store.
    #[serde(rename = "log.dirs")]
    pub data_dir: PathBuf,
    /// Number of shards (one pinned executor per core). None = every online core.
    pub cores: Option<usize>,
    /// `node.id`: this broker's id in Metadata responses.
    #[serde(rename = "node.id")]
    pub node_id: i32,
    /// `cluster.id` reported by Metadata and DescribeCluster.
    #[serde(rename = "cluster.id")]
    pub cluster_id: String,
    /// `auto.create.topics.enable`: Metadata requests for unknown topics create them.
    #[serde(rename = "auto.create.topics.enable")]
    pub auto_create_topics_enable: bool,
    /// `num.partitions`: partitions of auto-created topics (and CreateTopics with -1).
    #[serde(rename = "num.partitions")]
    pub num_partitions: i32,
    /// `socket.request.max.bytes`: larger frames close the connection.
    #[serde(rename = "socket.request.max.bytes")]
    pub socket_request_max_bytes: u32,
    /// `connections.max.idle.ms`: a connection that has not completed a request frame for this
    /// long is closed. Unlike Kafka, the clock runs from the end of the previous frame, so a
    /// client trickling one byte at a time (slowloris) is closed too.
    #[serde(rename = "connections.max.idle.ms")]
    pub connections_max_idle_ms: u64,
    /// `log.flush.interval.ms`: background group-commit period for data written with acks=0/1.
    /// Unlike Kafka's default (never), Sluice flushes every 10 ms by default.
    #[serde(rename = "log.flush.interval.ms")]
    pub flush_interval_ms: u64,
    /// `log.retention.check.interval.ms`: how often retention runs on each shard.
    #[serde(rename = "log.retention.check.interval.ms")]
    pub retention_check_interval_ms: u64,
    /// Per-shard batch cache budget (bytes) handed to the engine.
    #[serde(rename = "sluice.batch.cache.bytes")]
    pub batch_cache_bytes_max: usize,
    /// Per-shard pool of aligned write buffers (bytes) handed to the engine.
    #[serde(rename = "sluice.write.buffer.pool.bytes")]
    pub write_buffer_pool_bytes_max: usize,
    /// `log.segment.bytes`: default `segment.bytes` of topics.
    #[serde(rename = "log.segment.bytes")]
    pub segment_bytes: u64,
    /// `log.roll.ms`: default `segment.ms`.
    #[serde(rename = "log.roll.ms")]
    pub segment_ms: i64,
    /// `log.retention.ms`: default `retention.ms`.
    #[serde(rename = "log.retention.ms")]
    pub retention_ms: i64,
    /// `log.retention.bytes`: default `retention.bytes`.
    #[serde(rename = "log.retention.bytes")]
    pub retention_bytes: i64,
    /// `message.max.bytes`: default `max.message.bytes` (largest batch).
    #[serde(rename = "message.max.bytes")]
    pub max_message_bytes: u32,
    /// `log.index.interval.bytes`.
    #[serde(rename = "log.index.interval.bytes")]
    pub index_interval_bytes: u32,
    /// `log.message.timestamp.type`: CreateTime or LogAppendTime.
    #[serde(rename = "log.message.timestamp.type")]
    pub message_timestamp_type: String,
    /// `offsets.topic.num.partitions`: partitions of `__consumer_offsets` (fixed once used).
    #[serde(rename = "offsets.topic.num.partitions")]
    pub offsets_topic_num_partitions: i32,
    /// `offsets.retention.minutes`: how long offsets of an empty group are kept.
    #[serde(rename = "offsets.retention.minutes")]
    pub offsets_retention_minutes: u64,
    /// `offsets.retention.check.interval.ms`.
    #[serde(rename = "offsets.retention.check.interval.ms")]
    pub offsets_retention_check_interval_ms: u64,
    /// `group.initial.rebalance.delay.ms`: first rebalance of an empty group waits this long.
    #[serde(rename = "group.initial.rebalance.delay.ms")]
    pub group_initial_rebalance_delay_ms: u64,
    /// `group.min.session.timeout.ms`.
    #[serde(rename = "group.min.session.timeout.ms")]
    pub group_min_session_timeout_ms: u64,
    /// `group.max.session.timeout.ms`.
    #[serde(rename = "group.max.session.timeout.ms")]
    pub group_max_session_timeout_ms: u64,
    /// Records appended to an offsets partition before its state is rewritten as a snapshot
    /// and everything older deleted (bounds `__consumer_offsets` until compaction exists).
    #[serde(rename = "sluice.offsets.snapshot.records")]
    pub offsets_snapshot_records: u64,
    /// `segment.bytes` of `__consumer_offsets` partitions.
    #[serde(rename = "sluice.offsets.segment.bytes")]
    pub offsets_segment_bytes: u64,
    /// `--metrics-listen`: Prometheus endpoint (None: `metrics::METRICS_LISTEN_DEFAULT`).
    #[serde(rename = "sluice.metrics.listen")]
    pub metrics_listen: Option<SocketAddr>,
    /// `log.cleaner.backoff.ms`: how long a shard's cleaner sleeps when no log needs cleaning.
    #[serde(rename = "log.cleaner.backoff.ms")]
    pub cleaner_backoff_ms: u64,
    /// `log.cleaner.dedupe.buffer.size`: offset-map memory of each shard's cleaner (Kafka's
    /// value is shared by its cleaner threads; here each shard has one cleaner).
    #[serde(rename = "log.cleaner.dedupe.buffer.size")]
    pub cleaner_dedupe_buffer_bytes: usize,
    /// Write sizes of the engine's segment appenders: not a setting but measured, from
    /// `<data>/iotune.toml` when `sluice iotune` has run (see `main::apply_io_properties`).
    #[serde(skip)]
    pub write_tuning: sluice_engine::WriteTuning,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9092)),
            advertised_listener: None,
            data_dir: PathBuf::from("./data"),
            cores: None,
            node_id: 0,
            cluster_id: "sluice-cluster".to_string(),
            auto_create_topics_enable: true,
            num_partitions: 1,
            socket_request_max_bytes: 100 * 1024 * 1024,
            connections_max_idle_ms: 600_000,
            flush_interval_ms: 10,
            retention_check_interval_ms: 5 * 60 * 1000,
            batch_cache_bytes_max: 256 * 1024 * 1024,
            write_buffer_pool_bytes_max: 64 * 1024 * 1024,
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3600 * 1000,
            retention_ms: 7 * 24 * 3600 * 1000,
            retention_bytes: -1,
            max_message_bytes: 1024 * 1024 + 12,
            index_interval_bytes: 4096,
            message_timestamp_type: "CreateTime".to_string(),
            offsets_topic_num_partitions: 50,
            offsets_retention_minutes: 7 * 24 * 60,
            offsets_retention_check_interval_ms: 600_000,
            group_initial_rebalance_delay_ms: 3_000,
            group_min_session_timeout_ms: 6_000,
            group_max_session_timeout_ms: 1_800_000,
            offsets_snapshot_records: 10_000,
            offsets_segment_bytes: 16 * 1024 * 1024,
            metrics_listen: None,
            cleaner_backoff_ms: 15_000,
            cleaner_dedupe_buffer_bytes:
                sluice_engine::compaction::cleaner::DEDUPE_BUFFER_BYTES_DEFAULT,
            write_tuning: sluice_engine::WriteTuning::default(),
        }
    }
}

/// Flag overrides from the command line (already parsed by clap).
#[derive(Debug, Default, Clone)]
pub struct FlagOverrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub cores: Option<usize>,
    pub metrics_listen: Option<SocketAddr>,
}

impl BrokerConfig {
    /// Defaults, then the TOML file (if any), then flags; validated.
    pub fn resolve(file: Option<&Path>, flags: &FlagOverrides) -> Result<Self, ConfigError> {
        let mut config = match file {
            None => BrokerConfig::default(),
            Some(path) => Self::from_file(path)?,
        };
        if let Some(listen) = flags.listen {
            config.listen = listen;
        }
        if let Some(dir) = &flags.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(cores) = flags.cores {
            config.cores = Some(cores);
        }
        config.metrics_listen = flags.metrics_listen.or(config.metrics_listen);
        config.validate()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_string(),
            })
        };
        if self.num_partitions < 1 || self.num_partitions > limits::PARTITIONS_PER_TOPIC_MAX {
            return invalid("num.partitions", "must be between 1 and 10000");
        }
        if self.socket_request_max_bytes < limits::FRAME_BYTES_MIN {
            return invalid("socket.request.max.bytes", "must be at least 1 KiB");
        }
        if self.connections_max_idle_ms < limits::CONNECTION_IDLE_MS_MIN {
            return invalid("connections.max.idle.ms", "must be at least 100 ms");
        }
        if self.cores == Some(0) {
            return invalid("cores", "must be at least 1");
        }
        if self.flush_interval_ms == 0 {
            return invalid("log.flush.interval.ms", "must be at least 1");
        }
        if self.retention_check_interval_ms == 0 {
            return invalid("log.retention.check.interval.ms", "must be at least 1");
        }
        if self.offsets_topic_num_partitions < 1 || self.offsets_topic_num_partitions > 1000 {
            return invalid("offsets.topic.num.partitions", "must be between 1 and 1000");
        }
        if self.group_min_session_timeout_ms > self.group_max_session_timeout_ms {
            return invalid(
                "group.min.session.timeout.ms",
                "must not exceed group.max.session.timeout.ms",
            );
        }
        if self.offsets_snapshot_records == 0 {
            return invalid("sluice.offsets.snapshot.records", "must be at least 1");
        }
        if self.offsets_retention_check_interval_ms == 0 {
            return invalid("offsets.retention.check.interval.ms", "must be at least 1");
        }
        let ts = self.message_timestamp_type.as_str();
        if ts != "CreateTime" && ts != "LogAppendTime" {
            return invalid(
                "log.message.timestamp.type",
                "must be CreateTime or LogAppendTime",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_localhost_9092_with_data_in_dot_data() {
        let config = BrokerConfig::resolve(None, &FlagOverrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9092");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert!(config.auto_create_topics_enable);
        assert_eq!(config.socket_request_max_bytes, 100 * 1024 * 1024);
    }

    #[test]
    fn toml_uses_kafka_names_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sluice.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9999\"\n\"auto.create.topics.enable\" = false\n\
             \"num.partitions\" = 6\n\"log.segment.bytes\" = 1048576\n",
        )
        .unwrap();
        let flags = FlagOverrides {
            listen: Some("127.0.0.1:7777".parse().unwrap()),
            ..FlagOverrides::default()
        };
        let config = BrokerConfig::resolve(Some(&path), &flags).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:7777");
        assert!(!config.auto_create_topics_enable);
        assert_eq!(config.num_partitions, 6);
        assert_eq!(config.segment_bytes, 1048576);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sluice.toml");
        std::fs::write(&path, "\"no.such.setting\" = 1\n").unwrap();
        assert!(BrokerConfig::resolve(Some(&path), &FlagOverrides::default()).is_err());
    }
}
