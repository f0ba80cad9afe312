//! The controller's bounds on what a command may ask for, in one place. Kafka's name is given
//! where Kafka has the same limit.

use crate::quorum::limits::SNAPSHOT_BYTES_MAX;
use crate::records::RECORD_BATCH_BYTES_MAX;

/// Longest topic name (Kafka's `Topic.MAX_NAME_LENGTH`).
pub const TOPIC_NAME_BYTES_MAX: usize = 249;

/// Largest `partitions_per_topic_max` a [`ControllerConfig`](super::ControllerConfig) may set:
/// the records that create this many partitions must fit one record batch.
pub const PARTITIONS_PER_TOPIC_CEILING: i32 = 20_000;

/// Listeners one broker may advertise.
pub const ENDPOINTS_PER_BROKER_MAX: usize = 16;

/// Longest host name (DNS) and, reused, longest listener name and rack.
pub const HOST_BYTES_MAX: usize = 255;

/// Config overrides one topic may carry.
pub const CONFIGS_PER_TOPIC_MAX: usize = 256;

pub const CONFIG_NAME_BYTES_MAX: usize = 255;

pub const CONFIG_VALUE_BYTES_MAX: usize = 8 * 1024;

/// Generous estimates of encoded records (JSON, 32-digit topic id, three replicas), for the
/// check below.
const PARTITION_RECORD_BYTES_ESTIMATE: usize = 256;
const CONFIG_RECORD_OVERHEAD_BYTES_ESTIMATE: usize = 128;

/// The largest CreateTopics batch (most partitions, most configs of the longest values) fits
/// one record batch.
const _: () = assert!(
    PARTITIONS_PER_TOPIC_CEILING as usize * PARTITION_RECORD_BYTES_ESTIMATE
        + CONFIGS_PER_TOPIC_MAX
            * (CONFIG_RECORD_OVERHEAD_BYTES_ESTIMATE
                + CONFIG_NAME_BYTES_MAX
                + CONFIG_VALUE_BYTES_MAX)
        <= RECORD_BATCH_BYTES_MAX
);

/// Random topic ids drawn before giving up on finding an unused one. A collision of two
/// 128-bit draws is never expected; running out means the generator is broken.
pub const TOPIC_ID_DRAWS_MAX: usize = 16;

/// Producer ids per AllocateProducerIds block (Kafka's `ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`).
pub const PRODUCER_ID_BLOCK_SIZE: i64 = 1000;

/// Leaderships one auto-rebalance pass moves at most (KRaft's `maxElectionsPerImbalance`).
pub const LEADER_ELECTIONS_PER_REBALANCE_MAX: usize = 1_000;

/// Partitions one AlterPartitionReassignments may name.
pub const REASSIGNMENTS_PER_REQUEST_MAX: usize = 10_000;

/// The largest reassignment batch (every partition of the largest request changing) fits one
/// record batch.
const _: () = assert!(
    REASSIGNMENTS_PER_REQUEST_MAX * PARTITION_RECORD_BYTES_ESTIMATE <= RECORD_BATCH_BYTES_MAX
);
const _: () = assert!(
    LEADER_ELECTIONS_PER_REBALANCE_MAX * PARTITION_RECORD_BYTES_ESTIMATE <= RECORD_BATCH_BYTES_MAX
);

/// Fewest and most PBKDF2 iterations of a SCRAM credential (Kafka's
/// `ScramMechanism.minIterations()`, 4096 for both mechanisms, and
/// `ScramControlManager.MAX_ITERATIONS`).
pub const SCRAM_ITERATIONS_MIN: i32 = 4096;
pub const SCRAM_ITERATIONS_MAX: i32 = 16_384;

/// Deletions plus upsertions one AlterUserScramCredentials may carry.
pub const SCRAM_ALTERATIONS_PER_REQUEST_MAX: usize = 1_000;

/// Users with a SCRAM credential in the cluster.
pub const SCRAM_USERS_MAX: usize = 10_000;

/// Longest SCRAM user name, and longest ACL principal and resource name.
pub const SECURITY_NAME_BYTES_MAX: usize = 1_024;

/// Longest SCRAM salt (Kafka's own are 32 bytes; a client may choose its own).
pub const SCRAM_SALT_BYTES_MAX: usize = 256;

/// Bindings one CreateAcls may carry.
pub const ACL_BINDINGS_PER_REQUEST_MAX: usize = 1_000;

/// ACL ids one DeleteAcls may remove (Kafka's `MAX_RECORDS_PER_USER_OP`).
pub const ACL_IDS_PER_DELETE_MAX: usize = 10_000;

/// ACLs in the cluster. The image checks its ACLs after every entry, so this bounds that
/// work as well as the snapshot.
pub const ACLS_MAX: usize = 10_000;

/// Random ACL ids drawn before giving up on an unused one (see [`TOPIC_ID_DRAWS_MAX`]).
pub const ACL_ID_DRAWS_MAX: usize = 16;

/// Generous estimates of encoded security records (JSON, field names, 32-digit ids; bytes as
/// hex, so twice their length).
const SECURITY_RECORD_OVERHEAD_BYTES_ESTIMATE: usize = 256;
const SCRAM_RECORD_BYTES_ESTIMATE: usize = SECURITY_RECORD_OVERHEAD_BYTES_ESTIMATE
    + SECURITY_NAME_BYTES_MAX
    + 2 * (SCRAM_SALT_BYTES_MAX + 64 + 64);
const ACL_RECORD_BYTES_ESTIMATE: usize =
    SECURITY_RECORD_OVERHEAD_BYTES_ESTIMATE + 2 * SECURITY_NAME_BYTES_MAX + HOST_BYTES_MAX;
const ACL_REMOVAL_RECORD_BYTES_ESTIMATE: usize = 96;

/// The largest security batches fit one record batch ...
const _: () = assert!(
    SCRAM_ALTERATIONS_PER_REQUEST_MAX * SCRAM_RECORD_BYTES_ESTIMATE <= RECORD_BATCH_BYTES_MAX
);
const _: () =
    assert!(ACL_BINDINGS_PER_REQUEST_MAX * ACL_RECORD_BYTES_ESTIMATE <= RECORD_BATCH_BYTES_MAX);
const _: () =
    assert!(ACL_IDS_PER_DELETE_MAX * ACL_REMOVAL_RECORD_BYTES_ESTIMATE <= RECORD_BATCH_BYTES_MAX);
const _: () = assert!(ACL_IDS_PER_DELETE_MAX >= ACL_BINDINGS_PER_REQUEST_MAX);
/// ... and every credential (two mechanisms per user) and ACL together take at most a quarter
/// of the largest snapshot.
const _: () = assert!(
    (SCRAM_USERS_MAX * 2 * SCRAM_RECORD_BYTES_ESTIMATE + ACLS_MAX * ACL_RECORD_BYTES_ESTIMATE) * 4
        <= SNAPSHOT_BYTES_MAX
);
const _: () = assert!(SCRAM_ITERATIONS_MIN > 0);
const _: () = assert!(SCRAM_ITERATIONS_MIN <= SCRAM_ITERATIONS_MAX);
