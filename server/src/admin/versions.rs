//! The request versions this CLI's code handles, per API. The version used is the highest
//! one the broker also serves (see `sluice_kafka_client::negotiate`).

use kafka_protocol::protocol::VersionRange;

const fn range(min: i16, max: i16) -> VersionRange {
    VersionRange { min, max }
}

/// v1+: a null topic list means "all topics".
pub const METADATA: VersionRange = range(1, 13);
pub const CREATE_TOPICS: VersionRange = range(2, 7);
pub const DELETE_TOPICS: VersionRange = range(1, 6);
pub const DESCRIBE_CONFIGS: VersionRange = range(1, 4);
pub const INCREMENTAL_ALTER_CONFIGS: VersionRange = range(0, 1);
pub const DESCRIBE_CLUSTER: VersionRange = range(0, 2);
pub const DESCRIBE_QUORUM: VersionRange = range(0, 1);
pub const LIST_GROUPS: VersionRange = range(0, 5);
pub const FIND_COORDINATOR: VersionRange = range(0, 6);
pub const DESCRIBE_GROUPS: VersionRange = range(0, 6);
/// v2+: a null topic list fetches every committed offset of the group.
pub const OFFSET_FETCH: VersionRange = range(2, 9);
/// v1+: one offset per partition (v0 returned lists).
pub const LIST_OFFSETS: VersionRange = range(1, 10);
pub const DESCRIBE_PRODUCERS: VersionRange = range(0, 0);
/// v1 adds a duration filter, v2 a transactional id pattern: neither is sent.
pub const LIST_TRANSACTIONS: VersionRange = range(0, 1);
pub const DESCRIBE_TRANSACTIONS: VersionRange = range(0, 0);
/// v1 adds `allow_replication_factor_change` (KIP-860); the default (true) is v0's behaviour.
pub const ALTER_PARTITION_REASSIGNMENTS: VersionRange = range(0, 1);
pub const LIST_PARTITION_REASSIGNMENTS: VersionRange = range(0, 0);
pub const DESCRIBE_USER_SCRAM_CREDENTIALS: VersionRange = range(0, 0);
pub const ALTER_USER_SCRAM_CREDENTIALS: VersionRange = range(0, 0);
/// v1+: resource pattern types (LITERAL, PREFIXED); v2 is the flexible encoding, v3 adds
/// USER resources.
pub const CREATE_ACLS: VersionRange = range(1, 3);
pub const DESCRIBE_ACLS: VersionRange = range(1, 3);
pub const DELETE_ACLS: VersionRange = range(1, 3);

/// CreateTopics v4+ accepts -1: "use the broker's default replication factor".
pub const CREATE_TOPICS_DEFAULT_REPLICATION_VERSION: i16 = 4;
/// Metadata v4+ carries `allow_auto_topic_creation`.
pub const METADATA_AUTO_CREATE_VERSION: i16 = 4;
/// DeleteTopics v6+ names topics in `topics` (name or id) instead of `topic_names`.
pub const DELETE_TOPICS_STATE_VERSION: i16 = 6;
/// FindCoordinator v4+ batches keys in `coordinator_keys`.
pub const FIND_COORDINATOR_BATCH_VERSION: i16 = 4;
/// OffsetFetch v8+ batches groups in `groups`.
pub const OFFSET_FETCH_BATCH_VERSION: i16 = 8;
