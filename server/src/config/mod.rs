//! Broker configuration: embedded defaults, overridden by a config file (`--config`), overridden
//! by command-line flags. Keys use Kafka's names where Kafka has one (`auto.create.topics.enable`,
//! `num.partitions`, `socket.request.max.bytes`, `log.dirs`), so a TOML file reads like a
//! `server.properties` with quotes:
//!
//! ```toml
//! listen = "127.0.0.1:9092"
//! "log.dirs" = "/var/lib/sluice"
//! "auto.create.topics.enable" = false
//! "num.partitions" = 6
//! ```
//!
//! The file may also be a Kafka `server.properties` (Java properties syntax): see [`file`] for
//! how the two are told apart and how properties map onto the same settings.
//!
//! Settings as read ([`BrokerConfig`]'s serde fields) are then resolved into what the broker
//! uses: `listen` (the client listener), `advertised`, `quorum` (this node's part in the
//! controller quorum, [`Quorum`]), and later `cluster_id` (from the data dir, by
//! `cluster_identity::ensure`).
//!
//! Module map: [`properties`] (the Java properties syntax), [`file`] (format detection and
//! properties → settings), [`listeners`] (`NAME://host:port` lists and endpoints), [`voters`]
//! (`controller.quorum.voters`, `process.roles` and the quorum checks).

pub mod file;
pub mod inter_broker;
pub mod listeners;
pub mod properties;
pub mod security;
pub mod voters;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use listeners::Endpoint;
pub use security::{ClientListener, SecurityProtocol, SecuritySettings};
pub use voters::{Quorum, Voter};

use crate::limits;

/// Longest `cluster.id` accepted (Kafka's generated ids are 22 characters).
pub const CLUSTER_ID_BYTES_MAX: usize = 64;

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
    #[error("config file {path} (Java properties): {reason}")]
    Properties { path: PathBuf, reason: String },
    #[error("invalid setting {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
    /// A key whose name is made of parts (`listener.name.<listener>.<mechanism>.…`).
    #[error("invalid setting {key}: {reason}")]
    InvalidNamed { key: String, reason: String },
    /// The controller quorum settings contradict each other (the message names them).
    #[error("controller quorum: {0}")]
    Quorum(String),
}

fn invalid(key: &'static str) -> impl FnOnce(String) -> ConfigError {
    move |reason| ConfigError::Invalid { key, reason }
}

/// Every broker setting, resolved. Lives on the main thread, then copied into each shard.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerConfig {
    /// Resolved: the address the Kafka (PLAINTEXT) listener binds on every shard
    /// (SO_REUSEPORT). From `--listen`, else the PLAINTEXT entry of `listeners`, else the
    /// `listen` key, else 127.0.0.1:9092.
    #[serde(skip)]
    pub listen: SocketAddr,
    /// `listen` (Sluice's key, `host:port`): the client listener, as `listeners` sets it.
    #[serde(rename = "listen")]
    pub listen_setting: Option<SocketAddr>,
    /// `listeners`: `NAME://host:port,...` (Kafka syntax). An entry named in
    /// `controller.listener.names` is the controller listener; every other one is a client
    /// listener whose protocol `listener.security.protocol.map` gives. An empty host means
    /// 0.0.0.0.
    pub listeners: Option<String>,
    /// `advertised.listeners`: `NAME://host:port,...` (Kafka syntax) or a bare `host:port` (the
    /// inter-broker listener's).
    #[serde(rename = "advertised.listeners")]
    pub advertised_listeners: Option<String>,
    /// Resolved from `advertised.listeners`: what Metadata tells clients. None: the address
    /// each connection reached us on.
    #[serde(skip)]
    pub advertised: Option<Endpoint>,
    /// Resolved: `advertised` as `host:port` (what `kafka::dispatch::Conn::advertised` reads).
    #[serde(skip)]
    pub advertised_listener: Option<String>,
    /// `controller.listener` (Sluice's key, `host:port`): this node's controller listener.
    /// `--controller-listen` overrides it; Kafka's way (a `listeners` entry named in
    /// `controller.listener.names`) works too.
    #[serde(rename = "controller.listener")]
    pub controller_listener: Option<String>,
    /// `controller.listener.names`: names of `listeners` entries that are controller listeners.
    #[serde(rename = "controller.listener.names")]
    pub controller_listener_names: Option<String>,
    /// `controller.quorum.voters`: `id@host:port,...`. `--controller-voters` overrides it.
    #[serde(rename = "controller.quorum.voters")]
    pub controller_quorum_voters: Option<String>,
    /// `process.roles`: `broker,controller` (or unset) may vote; `broker` never does;
    /// `controller` alone is refused (no dedicated controllers yet).
    #[serde(rename = "process.roles")]
    pub process_roles: Option<String>,
    /// Resolved: this node's part in the controller quorum (see [`Quorum`]); `SingleNode`
    /// when none of the controller settings is given.
    #[serde(skip)]
    pub quorum: Quorum,
    /// `broker.heartbeat.interval.ms`: how often a broker heartbeats to the controller.
    #[serde(rename = "broker.heartbeat.interval.ms")]
    pub broker_heartbeat_interval_ms: u64,
    /// `broker.session.timeout.ms`: the controller fences a broker silent for this long.
    #[serde(rename = "broker.session.timeout.ms")]
    pub broker_session_timeout_ms: u64,
    /// `controller.quorum.election.timeout.ms`: a voter that hears no leader for this long
    /// (plus jitter) starts an election.
    #[serde(rename = "controller.quorum.election.timeout.ms")]
    pub controller_quorum_election_timeout_ms: u64,
    /// `controller.quorum.fetch.timeout.ms`: a follower that cannot fetch from the leader for
    /// this long starts looking for a new one.
    #[serde(rename = "controller.quorum.fetch.timeout.ms")]
    pub controller_quorum_fetch_timeout_ms: u64,
    /// `default.replication.factor`: of auto-created topics and CreateTopics with -1.
    #[serde(rename = "default.replication.factor")]
    pub default_replication_factor: i16,
    /// `offsets.topic.replication.factor`: `__consumer_offsets` is created with
    /// min(this, live brokers) replicas.
    #[serde(rename = "offsets.topic.replication.factor")]
    pub offsets_topic_replication_factor: i16,
    /// `log.dirs` (one directory): partition logs and the topic metadata store.
    #[serde(rename = "log.dirs")]
    pub data_dir: PathBuf,
    /// Number of shards (one executor per core). None = every CPU the process may run on.
    pub cores: Option<usize>,
    /// `pin.shards`: each shard's thread is pinned to its own CPU (the default, for a host the
    /// broker has to itself). False lets the kernel move the shard threads between the CPUs
    /// the process may run on: for a shared host, such as several brokers on fewer cores.
    #[serde(rename = "pin.shards")]
    pub pin_shards: bool,
    /// `node.id`: this broker's id in Metadata responses.
    #[serde(rename = "node.id")]
    pub node_id: i32,
    /// `cluster.id` as configured. Unset: the data dir's, or a new one (see
    /// `cluster_identity`). Set: the data dir must belong to this cluster.
    #[serde(rename = "cluster.id")]
    pub cluster_id_configured: Option<String>,
    /// Resolved by `cli::start` from `cluster_identity::ensure` before the config is shared:
    /// the cluster id Metadata and DescribeCluster report. Empty until then.
    #[serde(skip)]
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
    /// client trickling one byte at a time (slowloris) is closed too. A connection whose client
    /// reads nothing of its responses for this long is closed as well (write timeout).
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
    /// Largest share (1-100 %) of a shard's time a cleaner pass takes; it pauses for the rest
    /// after each 128 KiB slice, so produce latency holds while it cleans (Kafka throttles
    /// with `log.cleaner.io.max.bytes.per.second` instead; its cleaner has its own threads).
    #[serde(rename = "sluice.log.cleaner.duty.percent")]
    pub cleaner_duty_percent: u32,
    /// `producer.id.expiration.ms`: a producer id with no batch in a partition for this long
    /// is forgotten there (its retries are then no longer recognised as duplicates).
    #[serde(rename = "producer.id.expiration.ms")]
    pub producer_id_expiration_ms: u64,
    /// `producer.id.expiration.check.interval.ms`: how often each shard looks for them.
    #[serde(rename = "producer.id.expiration.check.interval.ms")]
    pub producer_id_expiration_check_interval_ms: u64,
    /// `transaction.state.log.num.partitions`: partitions of `__transaction_state` (fixed
    /// once used: a transactional id's coordinator is its hash modulo this).
    #[serde(rename = "transaction.state.log.num.partitions")]
    pub transaction_state_log_num_partitions: i32,
    /// `transaction.state.log.replication.factor`: `__transaction_state` is created with
    /// min(this, live brokers) replicas.
    #[serde(rename = "transaction.state.log.replication.factor")]
    pub transaction_state_log_replication_factor: i16,
    /// `transaction.state.log.min.isr`: the topic's `min.insync.replicas` (bounded by its
    /// replication factor).
    #[serde(rename = "transaction.state.log.min.isr")]
    pub transaction_state_log_min_isr: i32,
    /// `transaction.state.log.segment.bytes`.
    #[serde(rename = "transaction.state.log.segment.bytes")]
    pub transaction_state_log_segment_bytes: u64,
    /// `transaction.max.timeout.ms`: the longest `transaction.timeout.ms` a producer may ask
    /// for (InitProducerId answers INVALID_TRANSACTION_TIMEOUT beyond it).
    #[serde(rename = "transaction.max.timeout.ms")]
    pub transaction_max_timeout_ms: i32,
    /// `transactional.id.expiration.ms`: a transactional id idle (no transaction) this long is
    /// forgotten.
    #[serde(rename = "transactional.id.expiration.ms")]
    pub transactional_id_expiration_ms: i64,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`: how often the
    /// coordinator looks for transactions past their timeout (and aborts them).
    #[serde(rename = "transaction.abort.timed.out.transaction.cleanup.interval.ms")]
    pub transaction_abort_timed_out_cleanup_interval_ms: u64,
    /// `transaction.remove.expired.transaction.cleanup.interval.ms`: how often it looks for
    /// expired transactional ids.
    #[serde(rename = "transaction.remove.expired.transaction.cleanup.interval.ms")]
    pub transaction_remove_expired_cleanup_interval_ms: u64,
    /// `min.insync.replicas`: the broker default of the fewest in-sync replicas an acks=all
    /// produce needs (a topic may override it).
    #[serde(rename = "min.insync.replicas")]
    pub min_insync_replicas: i32,
    /// `replica.lag.time.max.ms`: a follower that has not caught up with the leader's log end
    /// for this long leaves the ISR.
    #[serde(rename = "replica.lag.time.max.ms")]
    pub replica_lag_time_max_ms: u64,
    /// `unclean.leader.election.enable`: the broker default; an out-of-sync replica may lead a
    /// partition whose ISR has no live member (losing what only the ISR had).
    #[serde(rename = "unclean.leader.election.enable")]
    pub unclean_leader_election_enable: bool,
    /// `auto.leader.rebalance.enable`: the controller moves leadership back to preferred
    /// replicas.
    #[serde(rename = "auto.leader.rebalance.enable")]
    pub auto_leader_rebalance_enable: bool,
    /// `leader.imbalance.check.interval.seconds`: how often the controller looks for
    /// partitions not led by their preferred replica.
    #[serde(rename = "leader.imbalance.check.interval.seconds")]
    pub leader_imbalance_check_interval_seconds: u64,
    /// `replica.fetch.max.bytes`: the most a follower asks of one partition per fetch.
    #[serde(rename = "replica.fetch.max.bytes")]
    pub replica_fetch_max_bytes: u32,
    /// `replica.fetch.response.max.bytes`: the most a follower asks for in one fetch.
    #[serde(rename = "replica.fetch.response.max.bytes")]
    pub replica_fetch_response_max_bytes: u32,
    /// `replica.fetch.wait.max.ms`: how long a follower's fetch waits at the leader for data.
    #[serde(rename = "replica.fetch.wait.max.ms")]
    pub replica_fetch_wait_max_ms: u64,
    /// `replica.fetch.backoff.ms`: how long a follower waits after a failed fetch.
    #[serde(rename = "replica.fetch.backoff.ms")]
    pub replica_fetch_backoff_ms: u64,
    /// Write sizes of the engine's segment appenders: not a setting but measured, from
    /// `<data>/iotune.toml` when `sluice iotune` has run (see `main::apply_io_properties`).
    #[serde(skip)]
    pub write_tuning: sluice_engine::WriteTuning,
    /// Resolved: every listener Kafka clients connect to, with its security protocol. The
    /// first is the inter-broker listener (what other brokers and `listen` use).
    #[serde(skip)]
    pub client_listeners: Vec<ClientListener>,
    /// Resolved from the settings below (see [`security`]).
    #[serde(skip)]
    pub security: SecuritySettings,
    /// `listener.security.protocol.map`: `NAME:PROTOCOL,...`.
    #[serde(rename = "listener.security.protocol.map")]
    pub listener_security_protocol_map: Option<String>,
    /// `inter.broker.listener.name`: the listener other brokers use (default: PLAINTEXT if
    /// listed, else the first client listener).
    #[serde(rename = "inter.broker.listener.name")]
    pub inter_broker_listener_name: Option<String>,
    #[serde(rename = "ssl.keystore.type")]
    pub ssl_keystore_type: String,
    /// `ssl.keystore.location`: PEM holding the private key and the certificate chain.
    #[serde(rename = "ssl.keystore.location")]
    pub ssl_keystore_location: Option<PathBuf>,
    #[serde(rename = "ssl.truststore.type")]
    pub ssl_truststore_type: String,
    /// `ssl.truststore.location`: PEM CA certificates for client certificates.
    #[serde(rename = "ssl.truststore.location")]
    pub ssl_truststore_location: Option<PathBuf>,
    /// `ssl.client.auth`: none, requested or required.
    #[serde(rename = "ssl.client.auth")]
    pub ssl_client_auth: String,
    /// `ssl.principal.mapping.rules`: certificate subject → principal name.
    #[serde(rename = "ssl.principal.mapping.rules")]
    pub ssl_principal_mapping_rules: String,
    /// `ssl.enabled.protocols`: TLSv1.2 and/or TLSv1.3.
    #[serde(rename = "ssl.enabled.protocols")]
    pub ssl_enabled_protocols: String,
    /// `sasl.enabled.mechanisms`: of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.
    #[serde(rename = "sasl.enabled.mechanisms")]
    pub sasl_enabled_mechanisms: String,
    /// `sasl.plain.users.file` (Sluice's key): `name:password` lines PLAIN accepts, besides
    /// the SCRAM users.
    #[serde(rename = "sasl.plain.users.file")]
    pub sasl_plain_users_file: Option<PathBuf>,
    /// `authorizer.class.name`: empty (every principal may do everything) or the standard one.
    #[serde(rename = "authorizer.class.name")]
    pub authorizer_class_name: String,
    /// `super.users`: `User:a;User:b`, allowed everything.
    #[serde(rename = "super.users")]
    pub super_users: String,
    /// `allow.everyone.if.no.acl.found`: a resource no ACL names is open to all.
    #[serde(rename = "allow.everyone.if.no.acl.found")]
    pub allow_everyone_if_no_acl_found: bool,
    /// `connection.failed.authentication.delay.ms`: a failed authentication is answered this
    /// late, to slow brute force.
    #[serde(rename = "connection.failed.authentication.delay.ms")]
    pub connection_failed_authentication_delay_ms: u64,
    /// `connections.max.reauth.ms` (KIP-368): SASL sessions last this long; 0 = forever.
    #[serde(rename = "connections.max.reauth.ms")]
    pub connections_max_reauth_ms: u64,
    /// `sasl.mechanism.inter.broker.protocol`: how this broker logs in to the others on a
    /// SASL inter-broker listener (PLAIN by default: Kafka's GSSAPI is not supported).
    #[serde(rename = "sasl.mechanism.inter.broker.protocol")]
    pub sasl_mechanism_inter_broker_protocol: String,
    /// `sasl.jaas.config`: the login of that mechanism when no per-listener key gives it.
    #[serde(rename = "sasl.jaas.config")]
    pub sasl_jaas_config: Option<String>,
    /// `listener.name.<listener>.<mechanism>.sasl.jaas.config` keys (lower-cased, as
    /// written), gathered by the file reader since serde cannot name them.
    #[serde(skip)]
    pub listener_jaas_configs: std::collections::BTreeMap<String, String>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9092)),
            listen_setting: None,
            listeners: None,
            advertised_listeners: None,
            advertised: None,
            advertised_listener: None,
            controller_listener: None,
            controller_listener_names: None,
            controller_quorum_voters: None,
            process_roles: None,
            quorum: Quorum::SingleNode,
            broker_heartbeat_interval_ms: 2_000,
            broker_session_timeout_ms: 9_000,
            controller_quorum_election_timeout_ms: 1_000,
            controller_quorum_fetch_timeout_ms: 2_000,
            default_replication_factor: 1,
            offsets_topic_replication_factor: 3,
            data_dir: PathBuf::from("./data"),
            cores: None,
            pin_shards: true,
            node_id: 0,
            cluster_id_configured: None,
            cluster_id: String::new(),
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
            offsets_segment_bytes: 1024 * 1024,
            metrics_listen: None,
            cleaner_backoff_ms: 15_000,
            cleaner_dedupe_buffer_bytes:
                sluice_engine::compaction::cleaner::DEDUPE_BUFFER_BYTES_DEFAULT,
            cleaner_duty_percent: sluice_engine::compaction::cleaner::DUTY_PERCENT_DEFAULT,
            producer_id_expiration_ms: 86_400_000,
            producer_id_expiration_check_interval_ms: 600_000,
            transaction_state_log_num_partitions: 50,
            transaction_state_log_replication_factor: 3,
            transaction_state_log_min_isr: 2,
            transaction_state_log_segment_bytes: 100 * 1024 * 1024,
            transaction_max_timeout_ms: 900_000,
            transactional_id_expiration_ms: 604_800_000,
            transaction_abort_timed_out_cleanup_interval_ms: 10_000,
            transaction_remove_expired_cleanup_interval_ms: 3_600_000,
            min_insync_replicas: 1,
            replica_lag_time_max_ms: 30_000,
            unclean_leader_election_enable: false,
            auto_leader_rebalance_enable: true,
            leader_imbalance_check_interval_seconds: 300,
            replica_fetch_max_bytes: 1_048_576,
            replica_fetch_response_max_bytes: 10_485_760,
            replica_fetch_wait_max_ms: 500,
            replica_fetch_backoff_ms: 1_000,
            write_tuning: sluice_engine::WriteTuning::default(),
            client_listeners: Vec::new(),
            security: SecuritySettings::default(),
            listener_security_protocol_map: None,
            inter_broker_listener_name: None,
            ssl_keystore_type: "PEM".to_string(),
            ssl_keystore_location: None,
            ssl_truststore_type: "PEM".to_string(),
            ssl_truststore_location: None,
            ssl_client_auth: "none".to_string(),
            ssl_principal_mapping_rules: "DEFAULT".to_string(),
            ssl_enabled_protocols: "TLSv1.2,TLSv1.3".to_string(),
            sasl_enabled_mechanisms: "SCRAM-SHA-256,SCRAM-SHA-512".to_string(),
            sasl_plain_users_file: None,
            authorizer_class_name: String::new(),
            super_users: String::new(),
            allow_everyone_if_no_acl_found: false,
            connection_failed_authentication_delay_ms: 100,
            connections_max_reauth_ms: 0,
            sasl_mechanism_inter_broker_protocol: "PLAIN".to_string(),
            sasl_jaas_config: None,
            listener_jaas_configs: std::collections::BTreeMap::new(),
        }
    }
}

/// Flag overrides from the command line (already parsed by clap). Flags win over the file.
#[derive(Debug, Default, Clone)]
pub struct FlagOverrides {
    /// `--listen HOST:PORT`: the PLAINTEXT listener.
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub cores: Option<usize>,
    /// `--pin-shards true|false`.
    pub pin_shards: Option<bool>,
    pub metrics_listen: Option<SocketAddr>,
    /// `--node-id N`.
    pub node_id: Option<i32>,
    /// `--controller-listen HOST:PORT` (a host name is resolved).
    pub controller_listen: Option<String>,
    /// `--controller-voters id@host:port,...`.
    pub controller_voters: Option<String>,
}

impl BrokerConfig {
    /// Defaults, then the file (if any, TOML or properties), then flags; resolved and
    /// validated. A properties file's keys Sluice does not use are logged in one warning.
    pub fn resolve(file: Option<&Path>, flags: &FlagOverrides) -> Result<Self, ConfigError> {
        let mut config = match file {
            None => BrokerConfig::default(),
            Some(path) => {
                let loaded = file::load(path)?;
                if !loaded.ignored_keys.is_empty() {
                    tracing::warn!(
                        "config file {}: ignoring {} setting(s) Sluice does not use: {}",
                        path.display(),
                        loaded.ignored_keys.len(),
                        loaded.ignored_keys.join(", ")
                    );
                }
                loaded.config
            }
        };
        if let Some(dir) = &flags.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(cores) = flags.cores {
            config.cores = Some(cores);
        }
        if let Some(pin_shards) = flags.pin_shards {
            config.pin_shards = pin_shards;
        }
        if let Some(node_id) = flags.node_id {
            config.node_id = node_id;
        }
        if let Some(voters) = &flags.controller_voters {
            config.controller_quorum_voters = Some(voters.clone());
        }
        config.metrics_listen = flags.metrics_listen.or(config.metrics_listen);
        // Before the listeners: quorum messages name the node id, which must be sane.
        config.validate()?;
        config.resolve_listeners(flags)?;
        Ok(config)
    }

    /// Sets the resolved `listen`, `advertised`, `advertised_listener` and `quorum` from the
    /// listener and controller settings and the flags.
    fn resolve_listeners(&mut self, flags: &FlagOverrides) -> Result<(), ConfigError> {
        let controller_names: Vec<String> = self
            .controller_listener_names
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(|name| name.trim().to_ascii_uppercase())
            .filter(|name| !name.is_empty())
            .collect();
        let protocol_map =
            security::parse_protocol_map(self.listener_security_protocol_map.as_deref())
                .map_err(invalid("listener.security.protocol.map"))?;
        let mut clients: Vec<(listeners::Listener, SecurityProtocol)> = Vec::new();
        let mut controller_in_listeners: Option<Endpoint> = None;
        let listed = match self.listeners.as_deref() {
            Some(text) => listeners::parse_listeners(text).map_err(invalid("listeners"))?,
            None => Vec::new(),
        };
        for listener in listed {
            if controller_names.contains(&listener.name) {
                if controller_in_listeners.is_some() {
                    return Err(invalid("listeners")(
                        "more than one controller listener; Sluice uses one".to_string(),
                    ));
                }
                controller_in_listeners = Some(listener.endpoint);
            } else {
                let protocol = security::protocol_of(&protocol_map, &listener)
                    .map_err(invalid("listeners"))?;
                clients.push((listener, protocol));
            }
        }
        let plaintext_listed = clients
            .iter()
            .position(|(l, _)| l.name == listeners::CLIENT_LISTENER_NAME);
        let mut resolved: Vec<ClientListener> = Vec::new();
        for (listener, protocol) in &clients {
            resolved.push(ClientListener {
                name: listener.name.clone(),
                protocol: *protocol,
                address: listener.endpoint.resolve().map_err(invalid("listeners"))?,
                advertised: None,
            });
        }
        // `--listen` and the `listen` key set the PLAINTEXT listener, as before security.
        let plaintext = match (flags.listen, plaintext_listed, self.listen_setting) {
            (Some(flag), _, _) => Some(flag),
            (None, Some(_), Some(_)) => {
                return Err(invalid("listen")(
                    "set the client listener once: in listeners (PLAINTEXT://...) or in listen"
                        .to_string(),
                ))
            }
            (None, _, Some(address)) => Some(address),
            (None, _, None) if resolved.is_empty() => Some(BrokerConfig::default().listen),
            (None, _, None) => None,
        };
        if let Some(address) = plaintext {
            match resolved
                .iter_mut()
                .find(|l| l.name == listeners::CLIENT_LISTENER_NAME)
            {
                Some(listener) => listener.address = address,
                None => resolved.push(ClientListener {
                    name: listeners::CLIENT_LISTENER_NAME.to_string(),
                    protocol: SecurityProtocol::Plaintext,
                    address,
                    advertised: None,
                }),
            }
        }
        let inter_broker = match self.inter_broker_listener_name.as_deref() {
            Some(name) => {
                let name = name.trim().to_ascii_uppercase();
                resolved
                    .iter()
                    .position(|l| l.name == name)
                    .ok_or_else(|| {
                        invalid("inter.broker.listener.name")(format!(
                            "{name} is not one of the listeners"
                        ))
                    })?
            }
            None => resolved
                .iter()
                .position(|l| l.name == listeners::CLIENT_LISTENER_NAME)
                .unwrap_or(0),
        };
        let first = resolved.remove(inter_broker);
        resolved.insert(0, first);
        for (i, a) in resolved.iter().enumerate() {
            if resolved[..i].iter().any(|b| b.address == a.address) {
                return Err(invalid("listeners")(format!(
                    "listeners {} and another share the address {}",
                    a.name, a.address
                )));
            }
        }
        self.listen = resolved[0].address;
        self.client_listeners = resolved;
        let controller_key = match self.controller_listener.as_deref() {
            Some(text) => Some(Endpoint::parse(text).map_err(invalid("controller.listener"))?),
            None => None,
        };
        let controller_listen = match &flags.controller_listen {
            Some(text) => Some(Endpoint::parse(text).map_err(invalid("--controller-listen"))?),
            None => match (controller_key, controller_in_listeners) {
                (Some(_), Some(_)) => {
                    return Err(invalid("controller.listener")(
                        "set the controller listener once: in controller.listener or in \
                         listeners (with controller.listener.names)"
                            .to_string(),
                    ))
                }
                (key, in_listeners) => key.or(in_listeners),
            },
        };
        let roles =
            voters::parse_roles(self.process_roles.as_deref()).map_err(invalid("process.roles"))?;
        self.quorum = voters::resolve_quorum(&voters::QuorumSettings {
            node_id: self.node_id,
            roles,
            voters: self
                .controller_quorum_voters
                .as_deref()
                .filter(|text| !text.trim().is_empty()),
            controller_listen: controller_listen.as_ref(),
        })
        .map_err(ConfigError::Quorum)?;
        if let Some(controller) = self.quorum.controller_listen() {
            let shared_port = controller.port() == self.listen.port()
                && (controller.ip() == self.listen.ip()
                    || controller.ip().is_unspecified()
                    || self.listen.ip().is_unspecified());
            if shared_port {
                return Err(ConfigError::Quorum(format!(
                    "the controller listener {controller} and the client listener {} share a port",
                    self.listen
                )));
            }
        }
        if let Some(text) = self.advertised_listeners.as_deref() {
            let advertised = listeners::parse_advertised(text, &controller_names)
                .map_err(invalid("advertised.listeners"))?;
            for (name, endpoint) in advertised {
                let name = name.unwrap_or_else(|| self.client_listeners[0].name.clone());
                let listener = self
                    .client_listeners
                    .iter_mut()
                    .find(|l| l.name == name)
                    .ok_or_else(|| {
                        invalid("advertised.listeners")(format!(
                            "{name} is advertised but is not one of the listeners"
                        ))
                    })?;
                listener.advertised = Some(endpoint);
            }
        }
        self.advertised = self.client_listeners[0].advertised.clone();
        self.advertised_listener = self.advertised.as_ref().map(Endpoint::to_string);
        // The controller listener's protocol: its name's entry in the map; a name the map
        // does not list (Sluice's `controller.listener` key, or an older file) is PLAINTEXT.
        let controller_protocol = controller_names
            .first()
            .and_then(|name| protocol_map.iter().find(|(n, _)| n == name))
            .map(|(_, protocol)| *protocol)
            .unwrap_or(SecurityProtocol::Plaintext);
        self.security = self.resolve_security(controller_protocol)?;
        Ok(())
    }

    fn resolve_security(
        &self,
        controller_protocol: SecurityProtocol,
    ) -> Result<SecuritySettings, ConfigError> {
        let in_cluster = self.quorum.voters().len() > 1;
        let controller_tls = self.quorum.controller_listen().is_some()
            && match controller_protocol {
                SecurityProtocol::Plaintext => false,
                SecurityProtocol::Ssl => true,
                sasl => {
                    return Err(invalid("listener.security.protocol.map")(format!(
                        "the controller listener maps to {sasl}: controllers authenticate \
                         each other with mutual TLS (SSL) only; SASL is not served there"
                    )))
                }
            };
        let uses_tls =
            controller_tls || self.client_listeners.iter().any(|l| l.protocol.uses_tls());
        let tls = if uses_tls {
            security::check_pem(&self.ssl_keystore_type).map_err(invalid("ssl.keystore.type"))?;
            security::check_pem(&self.ssl_truststore_type)
                .map_err(invalid("ssl.truststore.type"))?;
            let keystore = self.ssl_keystore_location.clone().ok_or_else(|| {
                invalid("ssl.keystore.location")(
                    "a TLS listener (SSL or SASL_SSL) needs the PEM file with the key and \
                     certificate chain"
                        .to_string(),
                )
            })?;
            let client_auth = security::ClientAuth::parse(&self.ssl_client_auth)
                .map_err(invalid("ssl.client.auth"))?;
            if client_auth != security::ClientAuth::None && self.ssl_truststore_location.is_none() {
                return Err(invalid("ssl.truststore.location")(
                    "ssl.client.auth asks for client certificates: give the CA certificates \
                     they must chain to"
                        .to_string(),
                ));
            }
            let (tls12, tls13) = security::parse_tls_versions(&self.ssl_enabled_protocols)
                .map_err(invalid("ssl.enabled.protocols"))?;
            Some(security::TlsSettings {
                keystore,
                truststore: self.ssl_truststore_location.clone(),
                client_auth,
                principal_mapping_rules: self.ssl_principal_mapping_rules.clone(),
                tls12,
                tls13,
            })
        } else {
            None
        };
        let sasl_mechanisms = security::parse_mechanisms(&self.sasl_enabled_mechanisms)
            .map_err(invalid("sasl.enabled.mechanisms"))?;
        let uses_sasl = self.client_listeners.iter().any(|l| l.protocol.uses_sasl());
        if uses_sasl && sasl_mechanisms.is_empty() {
            return Err(invalid("sasl.enabled.mechanisms")(
                "a SASL listener needs at least one mechanism".to_string(),
            ));
        }
        if controller_tls && self.ssl_truststore_location.is_none() {
            return Err(invalid("ssl.truststore.location")(
                "the controller listener uses SSL: controllers verify each other's \
                 certificates against these CA certificates"
                    .to_string(),
            ));
        }
        let inter_broker_login = self.resolve_inter_broker(in_cluster)?;
        Ok(SecuritySettings {
            tls,
            sasl_mechanisms,
            plain_users_file: self.sasl_plain_users_file.clone(),
            authorizer_enabled: security::parse_authorizer(&self.authorizer_class_name)
                .map_err(invalid("authorizer.class.name"))?,
            super_users: security::parse_super_users(&self.super_users)
                .map_err(invalid("super.users"))?,
            allow_everyone_if_no_acl_found: self.allow_everyone_if_no_acl_found,
            failed_authentication_delay_ms: self.connection_failed_authentication_delay_ms,
            max_reauth_ms: self.connections_max_reauth_ms,
            inter_broker_protocol: self.client_listeners[0].protocol,
            inter_broker_login,
            controller_tls,
        })
    }

    /// This broker's login to the other brokers' inter-broker listener (other brokers'
    /// replica fetchers and transaction coordinators connect to it as this broker does to
    /// theirs). In a cluster a secured listener needs what a client of it needs: the CA
    /// certificates (TLS) and a JAAS login (SASL). A single node reaches only itself, so
    /// there they are optional.
    fn resolve_inter_broker(
        &self,
        in_cluster: bool,
    ) -> Result<Option<inter_broker::SaslLogin>, ConfigError> {
        let listener = &self.client_listeners[0];
        if listener.protocol.uses_tls() && in_cluster && self.ssl_truststore_location.is_none() {
            return Err(invalid("ssl.truststore.location")(format!(
                "the inter-broker listener {} uses {}: brokers verify each other's \
                 certificates against these CA certificates",
                listener.name, listener.protocol
            )));
        }
        let mechanism =
            inter_broker::parse_inter_broker_mechanism(&self.sasl_mechanism_inter_broker_protocol)
                .map_err(invalid("sasl.mechanism.inter.broker.protocol"))?;
        if !listener.protocol.uses_sasl() {
            return Ok(None);
        }
        let enabled = security::parse_mechanisms(&self.sasl_enabled_mechanisms)
            .map_err(invalid("sasl.enabled.mechanisms"))?;
        if !enabled.contains(&mechanism) {
            return Err(invalid("sasl.mechanism.inter.broker.protocol")(format!(
                "{mechanism} is not in sasl.enabled.mechanisms, so the other brokers' \
                 listener {} would refuse it",
                listener.name
            )));
        }
        let listener_key = inter_broker::listener_jaas_key(&listener.name, &mechanism);
        let (key, text) = match self.listener_jaas_configs.get(&listener_key) {
            Some(text) => (listener_key.clone(), text),
            None => match &self.sasl_jaas_config {
                Some(text) => ("sasl.jaas.config".to_string(), text),
                None if in_cluster => {
                    return Err(invalid("sasl.jaas.config")(format!(
                        "the inter-broker listener {} uses {}: set {listener_key} (or \
                         sasl.jaas.config) to this broker's {mechanism} login",
                        listener.name, listener.protocol
                    )))
                }
                None => return Ok(None),
            },
        };
        let login = inter_broker::parse_jaas_login(text, &mechanism).map_err(|reason| {
            ConfigError::InvalidNamed {
                key,
                reason: reason.to_string(),
            }
        })?;
        Ok(Some(login))
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
        if !(1..=100).contains(&self.cleaner_duty_percent) {
            return invalid(
                "sluice.log.cleaner.duty.percent",
                "must be between 1 and 100",
            );
        }
        if self.offsets_retention_check_interval_ms == 0 {
            return invalid("offsets.retention.check.interval.ms", "must be at least 1");
        }
        if self.min_insync_replicas < 1 {
            return invalid("min.insync.replicas", "must be at least 1");
        }
        if self.replica_lag_time_max_ms == 0 {
            return invalid("replica.lag.time.max.ms", "must be positive");
        }
        if self.leader_imbalance_check_interval_seconds == 0 {
            return invalid(
                "leader.imbalance.check.interval.seconds",
                "must be positive",
            );
        }
        if self.replica_fetch_max_bytes == 0 || self.replica_fetch_response_max_bytes == 0 {
            return invalid("replica.fetch.max.bytes", "must be positive");
        }
        if self.replica_fetch_wait_max_ms > crate::limits::FETCH_WAIT_MS_MAX as u64 {
            return invalid("replica.fetch.wait.max.ms", "is too large");
        }
        if self.transaction_state_log_num_partitions < 1
            || self.transaction_state_log_num_partitions > 1000
        {
            return invalid(
                "transaction.state.log.num.partitions",
                "must be between 1 and 1000",
            );
        }
        if self.transaction_state_log_replication_factor < 1 {
            return invalid(
                "transaction.state.log.replication.factor",
                "must be at least 1",
            );
        }
        if self.transaction_state_log_min_isr < 1 {
            return invalid("transaction.state.log.min.isr", "must be at least 1");
        }
        if self.transaction_max_timeout_ms < 1 {
            return invalid("transaction.max.timeout.ms", "must be at least 1");
        }
        if self.transactional_id_expiration_ms < 1 {
            return invalid("transactional.id.expiration.ms", "must be at least 1");
        }
        if self.transaction_abort_timed_out_cleanup_interval_ms == 0
            || self.transaction_remove_expired_cleanup_interval_ms == 0
        {
            return invalid(
                "transaction.abort.timed.out.transaction.cleanup.interval.ms",
                "cleanup intervals must be at least 1",
            );
        }
        if self.producer_id_expiration_ms > i64::MAX as u64 {
            return invalid("producer.id.expiration.ms", "is too large");
        }
        if self.producer_id_expiration_check_interval_ms == 0 {
            return invalid(
                "producer.id.expiration.check.interval.ms",
                "must be at least 1",
            );
        }
        self.validate_cluster_settings()?;
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

impl BrokerConfig {
    fn validate_cluster_settings(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_string(),
            })
        };
        if self.node_id < 0 {
            return invalid("node.id", "must be 0 or more");
        }
        let dirs: Vec<&str> = self
            .data_dir
            .to_str()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|dir| !dir.is_empty())
            .collect();
        if dirs.len() > 1 {
            return Err(ConfigError::Invalid {
                key: "log.dirs",
                reason: format!(
                    "lists {} directories ({}); Sluice keeps its data in one directory",
                    dirs.len(),
                    dirs.join(", ")
                ),
            });
        }
        if self.broker_heartbeat_interval_ms == 0 {
            return invalid("broker.heartbeat.interval.ms", "must be at least 1");
        }
        if self.broker_heartbeat_interval_ms >= self.broker_session_timeout_ms {
            return invalid(
                "broker.heartbeat.interval.ms",
                "must be less than broker.session.timeout.ms",
            );
        }
        if self.controller_quorum_election_timeout_ms == 0 {
            return invalid(
                "controller.quorum.election.timeout.ms",
                "must be at least 1",
            );
        }
        if self.controller_quorum_fetch_timeout_ms == 0 {
            return invalid("controller.quorum.fetch.timeout.ms", "must be at least 1");
        }
        if self.default_replication_factor < 1 {
            return invalid("default.replication.factor", "must be at least 1");
        }
        if self.offsets_topic_replication_factor < 1 {
            return invalid("offsets.topic.replication.factor", "must be at least 1");
        }
        if let Some(id) = &self.cluster_id_configured {
            check_cluster_id(id).map_err(self::invalid("cluster.id"))?;
        }
        Ok(())
    }
}

/// A cluster id is 1 to [`CLUSTER_ID_BYTES_MAX`] characters of URL-safe base64's alphabet
/// (`A-Z a-z 0-9 - _`) plus `.`: Kafka's generated ids, and names like `sluice-cluster`.
pub fn check_cluster_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > CLUSTER_ID_BYTES_MAX {
        return Err(format!(
            "{id:?} must be 1 to {CLUSTER_ID_BYTES_MAX} characters"
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    if !id.chars().all(allowed) {
        return Err(format!("{id:?} may hold only A-Z a-z 0-9 - _ ."));
    }
    Ok(())
}

#[cfg(test)]
// A failed unwrap is a failed test, with the value in the message.
#[allow(clippy::unwrap_used)]
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
    fn shards_are_pinned_unless_the_file_or_the_flag_says_otherwise() {
        let default = BrokerConfig::resolve(None, &FlagOverrides::default()).unwrap();
        assert!(default.pin_shards);
        let toml = resolve_text(
            "a.toml",
            "\"pin.shards\" = false\n",
            &FlagOverrides::default(),
        );
        assert!(!toml.unwrap().pin_shards);
        let properties = resolve_text(
            "a.properties",
            "pin.shards=false\n",
            &FlagOverrides::default(),
        );
        assert!(!properties.unwrap().pin_shards);
        let flag = FlagOverrides {
            pin_shards: Some(true),
            ..FlagOverrides::default()
        };
        assert!(
            resolve_text("a.toml", "\"pin.shards\" = false\n", &flag)
                .unwrap()
                .pin_shards
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sluice.toml");
        std::fs::write(&path, "\"no.such.setting\" = 1\n").unwrap();
        assert!(BrokerConfig::resolve(Some(&path), &FlagOverrides::default()).is_err());
    }

    fn write_config(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn resolve_text(name: &str, text: &str, flags: &FlagOverrides) -> Result<BrokerConfig, String> {
        let (_dir, path) = write_config(name, text);
        BrokerConfig::resolve(Some(&path), flags).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_a_single_node_quorum_with_node_id_0() {
        let config = BrokerConfig::resolve(None, &FlagOverrides::default()).unwrap();
        assert_eq!(config.node_id, 0);
        assert_eq!(config.quorum, Quorum::SingleNode);
        assert_eq!(config.quorum.voter_ids(config.node_id), vec![0]);
        assert_eq!(config.advertised, None);
        assert_eq!(config.cluster_id_configured, None);
        assert_eq!(config.broker_heartbeat_interval_ms, 2_000);
        assert_eq!(config.broker_session_timeout_ms, 9_000);
        assert_eq!(config.controller_quorum_election_timeout_ms, 1_000);
        assert_eq!(config.controller_quorum_fetch_timeout_ms, 2_000);
        assert_eq!(config.default_replication_factor, 1);
        assert_eq!(config.offsets_topic_replication_factor, 3);
    }

    #[test]
    fn the_issue_command_line_makes_node_1_a_voter_of_three() {
        let flags = FlagOverrides {
            node_id: Some(1),
            listen: Some("127.0.0.1:9092".parse().unwrap()),
            controller_listen: Some("127.0.0.1:9093".to_string()),
            controller_voters: Some(
                "1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293".to_string(),
            ),
            ..FlagOverrides::default()
        };
        let config = BrokerConfig::resolve(None, &flags).unwrap();
        assert_eq!(config.node_id, 1);
        assert_eq!(config.listen.to_string(), "127.0.0.1:9092");
        assert_eq!(
            config.quorum.controller_listen().unwrap().to_string(),
            "127.0.0.1:9093"
        );
        assert_eq!(config.quorum.voter_ids(1), vec![1, 2, 3]);
    }

    #[test]
    fn a_kafka_server_properties_configures_listeners_and_quorum() {
        let text = "process.roles=broker,controller\nnode.id=2\n\
                    controller.quorum.voters=1@127.0.0.1:9093,2@127.0.0.1:9193\n\
                    listeners=PLAINTEXT://:9192,CONTROLLER://127.0.0.1:9193\n\
                    controller.listener.names=CONTROLLER\n\
                    advertised.listeners=PLAINTEXT://kafka-2.example:9192\n\
                    num.network.threads=3\nlog.dirs=/var/lib/kafka\n";
        let config = resolve_text("server.properties", text, &FlagOverrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:9192");
        assert_eq!(
            config.advertised_listener.as_deref(),
            Some("kafka-2.example:9192")
        );
        assert_eq!(
            config.quorum.controller_listen().unwrap().to_string(),
            "127.0.0.1:9193"
        );
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/kafka"));
    }

    #[test]
    fn flags_win_over_a_properties_file() {
        let flags = FlagOverrides {
            listen: Some("127.0.0.1:7777".parse().unwrap()),
            node_id: Some(5),
            data_dir: Some(PathBuf::from("/tmp/elsewhere")),
            ..FlagOverrides::default()
        };
        let text = "listeners=PLAINTEXT://127.0.0.1:9092\nnode.id=1\nlog.dirs=/a\n";
        let config = resolve_text("server.properties", text, &flags).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:7777");
        assert_eq!(config.node_id, 5);
        assert_eq!(config.data_dir, PathBuf::from("/tmp/elsewhere"));
    }

    #[test]
    fn toml_takes_the_new_keys_too() {
        let text = "\"node.id\" = 3\n\"listeners\" = \"PLAINTEXT://127.0.0.1:9392\"\n\
                    \"controller.listener\" = \"127.0.0.1:9393\"\n\
                    \"controller.quorum.voters\" = \"3@127.0.0.1:9393\"\n\
                    \"advertised.listeners\" = \"broker-3:9392\"\n\
                    \"cluster.id\" = \"prod\"\n\"default.replication.factor\" = 3\n";
        let config = resolve_text("sluice.toml", text, &FlagOverrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9392");
        assert_eq!(config.quorum.voter_ids(3), vec![3]);
        assert_eq!(config.advertised_listener.as_deref(), Some("broker-3:9392"));
        assert_eq!(config.cluster_id_configured.as_deref(), Some("prod"));
        assert_eq!(config.default_replication_factor, 3);
    }

    #[test]
    fn security_listeners_resolve_with_the_inter_broker_listener_first() {
        let none = FlagOverrides::default();
        let text = "listeners=SASL_SSL://127.0.0.1:9094,PLAINTEXT://127.0.0.1:9092\n\
                    advertised.listeners=SASL_SSL://broker1.example:9094\n\
                    ssl.keystore.location=/etc/sluice/server.pem\n\
                    ssl.client.auth=requested\nssl.truststore.location=/etc/sluice/ca.pem\n\
                    sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512\n\
                    authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n\
                    super.users=User:admin;User:ops\n";
        let config = resolve_text("server.properties", text, &none).unwrap();
        let names: Vec<&str> = config
            .client_listeners
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(names, ["PLAINTEXT", "SASL_SSL"]);
        assert_eq!(config.listen.port(), 9092);
        let secure = &config.client_listeners[1];
        assert_eq!(secure.protocol, SecurityProtocol::SaslSsl);
        assert_eq!(
            secure.advertised.as_ref().unwrap().to_string(),
            "broker1.example:9094"
        );
        let tls = config.security.tls.as_ref().unwrap();
        assert_eq!(tls.client_auth, security::ClientAuth::Requested);
        assert_eq!(config.security.sasl_mechanisms, ["PLAIN", "SCRAM-SHA-512"]);
        assert!(config.security.authorizer_enabled);
        assert_eq!(config.security.super_users, ["User:admin", "User:ops"]);
        // --listen still sets the PLAINTEXT listener beside the others.
        let flags = FlagOverrides {
            listen: Some("127.0.0.1:19092".parse().unwrap()),
            ..FlagOverrides::default()
        };
        let config = resolve_text("server.properties", text, &flags).unwrap();
        assert_eq!(config.client_listeners[0].address.port(), 19092);
        assert_eq!(config.client_listeners.len(), 2);
    }

    #[test]
    fn bad_cluster_settings_are_refused_naming_the_key() {
        let none = FlagOverrides::default();
        let cases = [
            ("listeners=SSL://:9093\n", "ssl.keystore.location"),
            ("listeners=PLAINTEXT://:9092,EXTERNAL://:9094\n", "listener.security.protocol.map"),
            ("listeners=SASL_SSL://:9094\nssl.keystore.location=/k.pem\nssl.keystore.type=JKS\n", "PEM"),
            ("listeners=SASL_PLAINTEXT://:9094\nsasl.enabled.mechanisms=GSSAPI\n", "GSSAPI"),
            ("authorizer.class.name=com.example.Custom\n", "authorizer.class.name"),
            ("advertised.listeners=SSL://h:1\n", "SSL is advertised but is not one of the listeners"),
            ("log.dirs=/data/a,/data/b\n", "log.dirs"),
            ("process.roles=controller\n", "dedicated controllers are not supported"),
            ("broker.heartbeat.interval.ms=9000\n", "broker.heartbeat.interval.ms"),
            ("node.id=-1\n", "node.id"),
            ("cluster.id=has space\n", "cluster.id"),
            ("offsets.topic.replication.factor=0\n", "offsets.topic.replication.factor"),
            ("listen=127.0.0.1:1\nlisteners=PLAINTEXT://127.0.0.1:2\n", "once"),
            ("listeners=PLAINTEXT://:9092,CONTROLLER://:9092\ncontroller.listener.names=CONTROLLER\n\
              controller.quorum.voters=0@127.0.0.1:9092\n", "share a port"),
            ("controller.quorum.voters=0@127.0.0.1:9093,0@127.0.0.1:9193\n\
              controller.listener=127.0.0.1:9093\n", "node 0 appears twice"),
        ];
        for (text, expected) in cases {
            let err = resolve_text("server.properties", text, &none).unwrap_err();
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    /// A voter of three whose inter-broker listener is SASL_SSL (SCRAM) and whose controller
    /// listener is SSL, as server.properties; `overrides` replace (or add) keys, and an empty
    /// value removes one.
    fn secured_cluster(overrides: &[(&str, &str)]) -> String {
        let mut keys: Vec<(String, String)> = [
            ("node.id", "1"),
            (
                "listeners",
                "SASL_SSL://127.0.0.1:9094,CONTROLLER://127.0.0.1:9093",
            ),
            ("controller.listener.names", "CONTROLLER"),
            (
                "controller.quorum.voters",
                "1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293",
            ),
            (
                "listener.security.protocol.map",
                "SASL_SSL:SASL_SSL,CONTROLLER:SSL",
            ),
            ("inter.broker.listener.name", "SASL_SSL"),
            ("ssl.keystore.location", "/etc/sluice/server.pem"),
            ("ssl.truststore.location", "/etc/sluice/ca.pem"),
            ("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512"),
            ("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512"),
            (
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required \
                 username=\"broker\" password=\"broker-secret\";",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (key, value) in overrides {
            keys.retain(|(k, _)| k != key);
            if !value.is_empty() {
                keys.push((key.to_string(), value.to_string()));
            }
        }
        keys.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }

    #[test]
    fn a_secured_cluster_resolves_its_inter_broker_login_and_controller_tls() {
        let none = FlagOverrides::default();
        let config = resolve_text("server.properties", &secured_cluster(&[]), &none).unwrap();
        let security = &config.security;
        assert_eq!(security.inter_broker_protocol, SecurityProtocol::SaslSsl);
        let login = security.inter_broker_login.as_ref().unwrap();
        assert_eq!(login.mechanism, "SCRAM-SHA-512");
        assert_eq!(login.username, "broker");
        assert_eq!(login.password, "broker-secret");
        assert!(security.controller_tls);
        assert!(security.tls.is_some());
        // sasl.jaas.config serves when no per-listener key does; TOML takes the same keys.
        let toml = "\"node.id\" = 1\n\
                    listeners = \"SASL_PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9093\"\n\
                    \"controller.listener.names\" = \"CONTROLLER\"\n\
                    \"controller.quorum.voters\" = \"1@127.0.0.1:9093,2@127.0.0.1:9193\"\n\
                    \"sasl.enabled.mechanisms\" = \"PLAIN\"\n\
                    \"listener.name.sasl_plaintext.plain.sasl.jaas.config\" = '\
                    org.apache.kafka.common.security.plain.PlainLoginModule required \
                    username=\"b\" password=\"p\";'\n";
        let config = resolve_text("sluice.toml", toml, &none).unwrap();
        let login = config.security.inter_broker_login.unwrap();
        assert_eq!(
            (login.mechanism.as_str(), login.username.as_str()),
            ("PLAIN", "b")
        );
        // The controller listener is not in the (default) map: PLAINTEXT, as before.
        assert!(!config.security.controller_tls);
        let plain = secured_cluster(&[
            ("sasl.mechanism.inter.broker.protocol", "PLAIN"),
            (
                "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required \
                 username=\"b2\" password=\"p2\";",
            ),
        ]);
        let config = resolve_text("server.properties", &plain, &none).unwrap();
        assert_eq!(config.security.inter_broker_login.unwrap().username, "b2");
        let not_text = "\"listener.name.sasl_ssl.plain.sasl.jaas.config\" = 5\n";
        let err = resolve_text("sluice.toml", not_text, &none).unwrap_err();
        assert!(
            err.contains("invalid setting listener.name.sasl_ssl.plain.sasl.jaas.config"),
            "{err}"
        );
    }

    #[test]
    fn insecure_or_incomplete_inter_broker_settings_are_refused_naming_the_key() {
        let none = FlagOverrides::default();
        let scram = "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config";
        let cases: [(&[(&str, &str)], &str); 8] = [
            (
                &[(
                    "listener.security.protocol.map",
                    "SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL",
                )],
                "listener.security.protocol.map: the controller listener maps to SASL_SSL",
            ),
            (
                &[(
                    "listener.security.protocol.map",
                    "SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT",
                )],
                "SASL is not served",
            ),
            (
                &[("sasl.mechanism.inter.broker.protocol", "GSSAPI")],
                "sasl.mechanism.inter.broker.protocol: GSSAPI",
            ),
            (
                &[("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-256")],
                "SCRAM-SHA-256 is not in sasl.enabled.mechanisms",
            ),
            (
                &[("sasl.mechanism.inter.broker.protocol", "PLAIN")],
                "set listener.name.sasl_ssl.plain.sasl.jaas.config",
            ),
            (&[(scram, "")], "sasl.jaas.config"),
            (
                &[(
                    scram,
                    "org.apache.kafka.common.security.scram.ScramLoginModule required user=b;",
                )],
                "invalid setting listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
            ),
            (
                &[("ssl.truststore.location", "")],
                "ssl.truststore.location",
            ),
        ];
        for (overrides, expected) in cases {
            let text = secured_cluster(overrides);
            let err = resolve_text("server.properties", &text, &none).unwrap_err();
            assert!(err.contains(expected), "{overrides:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
            assert!(!err.contains("broker-secret"), "{err}");
        }
    }
}
