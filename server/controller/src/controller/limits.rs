//! The controller's bounds on what a command may ask for, in one place. Kafka's name is given
//! where Kafka has the same limit.

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
