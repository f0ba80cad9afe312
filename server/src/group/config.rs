//! Limits and timings of the group coordinator, named as in Kafka's broker config.

/// Broker-wide settings of the group coordinator. Every field carries Kafka's config name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// `offsets.topic.num.partitions`: partitions of `__consumer_offsets`.
    pub offsets_partitions: i32,
    /// `group.min.session.timeout.ms`: smallest session timeout a member may ask for.
    pub session_timeout_ms_min: u64,
    /// `group.max.session.timeout.ms`: largest session timeout a member may ask for.
    pub session_timeout_ms_max: u64,
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits
    /// for more members, re-armed while new members keep arriving (up to the rebalance timeout).
    pub initial_rebalance_delay_ms: u64,
    /// `group.max.size`: members per group.
    pub group_size_max: usize,
    /// `offsets.retention.minutes`, in ms: how long offsets of an empty group (or standalone
    /// commits) are kept.
    pub offsets_retention_ms: u64,
    /// `offsets.retention.check.interval.ms`: how often expired offsets are looked for.
    pub offsets_retention_check_interval_ms: u64,
    /// `offset.metadata.max.bytes`: longest metadata string kept with a committed offset.
    pub offset_metadata_bytes_max: usize,
    /// Kafka's fixed `NewMemberJoinTimeoutMs`: a brand-new member parked in JoinGroup is dropped
    /// after this, since it cannot heartbeat yet.
    pub new_member_join_timeout_ms: u64,
    /// `segment.bytes` of offsets partitions (Kafka's `offsets.topic.segment.bytes`): the
    /// cleaner never cleans the active segment, so this bounds what a load replays uncleaned.
    pub offsets_segment_bytes: u64,
}

impl Default for GroupConfig {
    fn default() -> GroupConfig {
        GroupConfig {
            offsets_partitions: 50,
            session_timeout_ms_min: 6_000,
            session_timeout_ms_max: 1_800_000,
            initial_rebalance_delay_ms: 3_000,
            group_size_max: i32::MAX as usize,
            offsets_retention_ms: 7 * 24 * 60 * 60 * 1000,
            offsets_retention_check_interval_ms: 600_000,
            offset_metadata_bytes_max: 4096,
            new_member_join_timeout_ms: 300_000,
            offsets_segment_bytes: 1024 * 1024,
        }
    }
}

impl GroupConfig {
    /// The group settings of the broker config (Kafka names there); the rest keep defaults.
    pub fn from_broker(broker: &crate::config::BrokerConfig) -> GroupConfig {
        GroupConfig {
            offsets_partitions: broker.offsets_topic_num_partitions,
            session_timeout_ms_min: broker.group_min_session_timeout_ms,
            session_timeout_ms_max: broker.group_max_session_timeout_ms,
            initial_rebalance_delay_ms: broker.group_initial_rebalance_delay_ms,
            offsets_retention_ms: broker.offsets_retention_minutes.saturating_mul(60_000),
            offsets_retention_check_interval_ms: broker.offsets_retention_check_interval_ms,
            offsets_segment_bytes: broker.offsets_segment_bytes,
            ..GroupConfig::default()
        }
    }
}
