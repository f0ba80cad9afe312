//! The active controller's decisions, pure: commands in (with the current image and the time),
//! records out. Only the Raft leader runs it; the records it returns are proposed, and take
//! effect when committed and applied to every node's image.
//!
//! The caller serialises commands: it hands one command the image, proposes the batch that
//! comes back, waits until that entry is applied, then hands the next command the new image.
//! So every command sees the effects of the one before, and a decision never races another.
//! An empty batch means nothing to propose.
//!
//! What is in which file:
//! - `register.rs`, `heartbeat.rs`, `tick.rs`: the broker lifecycle (registration, catch-up and
//!   unfencing, controlled shutdown, fencing on session expiry).
//! - `create_topic.rs`, `create_partitions.rs`, `delete_topic.rs`, `topic_configs.rs`.
//! - `election.rs`: leader election (clean, and unclean where a topic allows it) and ISR
//!   changes; `placement.rs`: where replicas go.
//! - `alter_partition.rs`: a leader's ISR changes (AlterPartition, KIP-497).
//! - `reassignment.rs`: moving replicas (AlterPartitionReassignments, KIP-455);
//!   `rebalance.rs`: moving leaderships back to preferred replicas (auto leader rebalance).
//! - `producer_ids.rs`: blocks of producer ids for the brokers (AllocateProducerIds).
//! - `scram.rs`: SCRAM credentials (AlterUserScramCredentials); `acls.rs`: ACLs (CreateAcls,
//!   DeleteAcls by id).
//! - `session.rs`: the volatile broker sessions; `batch.rs`: building a batch against the
//!   image it will produce.

mod acls;
mod alter_partition;
mod assignment;
mod batch;
mod create_partitions;
mod create_topic;
mod delete_topic;
mod election;
mod error;
mod heartbeat;
pub mod limits;
mod partition_change;
mod placement;
mod producer_ids;
mod reassignment;
mod rebalance;
mod register;
mod rng;
mod scram;
mod session;
#[cfg(test)]
mod tests;
mod tick;
mod topic_configs;
mod topic_name;

use std::collections::BTreeMap;

pub use alter_partition::{AlterPartition, AlterPartitionReply};
pub use error::{ControllerError, ErrorKind};
pub use producer_ids::ProducerIdBlock;
pub use reassignment::{PartitionReassignment, ReassignmentResult};
pub use scram::{ScramAlteration, ScramDeletion, ScramUpsertion};
pub use topic_name::INTERNAL_TOPIC_PREFIX;

use crate::image::MetadataImage;
use crate::records::Endpoint;
use rng::SeededRng;
use session::Sessions;

/// The controller's settings, with Kafka's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerConfig {
    /// `broker.session.timeout.ms`: a broker not heard from for longer is fenced.
    pub session_timeout_ms: u64,
    /// `num.partitions`: for a CreateTopics that asks for -1.
    pub default_partitions: i32,
    /// `default.replication.factor`: for a CreateTopics that asks for -1.
    pub default_replication_factor: i16,
    /// The most partitions one topic may have (at most
    /// [`limits::PARTITIONS_PER_TOPIC_CEILING`]).
    pub partitions_per_topic_max: i32,
    /// `unclean.leader.election.enable`, the broker default: an offline partition whose ISR
    /// has no active member may elect an out-of-sync replica (losing what only the ISR had).
    /// A topic's override, then the cluster-wide dynamic default, win over it.
    pub unclean_leader_election_enable: bool,
    /// `auto.leader.rebalance.enable`: the tick moves leaderships back to preferred replicas.
    pub auto_leader_rebalance_enable: bool,
    /// `leader.imbalance.check.interval.seconds`, in ms: how often the tick rebalances.
    pub leader_imbalance_check_interval_ms: u64,
}

impl Default for ControllerConfig {
    fn default() -> ControllerConfig {
        ControllerConfig {
            session_timeout_ms: 9_000,
            default_partitions: 1,
            default_replication_factor: 1,
            partitions_per_topic_max: 10_000,
            unclean_leader_election_enable: false,
            auto_leader_rebalance_enable: true,
            leader_imbalance_check_interval_ms: 300_000,
        }
    }
}

/// A broker's registration request (BrokerRegistration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub broker_id: i32,
    /// New on every process start (non-zero): tells a restart from a retry.
    pub incarnation_id: u128,
    pub endpoints: Vec<Endpoint>,
    pub rack: Option<String>,
}

/// A broker's heartbeat (BrokerHeartbeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub broker_id: i32,
    pub broker_epoch: i64,
    /// The offset of the broker's own metadata image.
    pub metadata_offset: u64,
    pub want_shutdown: bool,
}

/// The answer to a heartbeat, as the image will be once the returned records are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatReply {
    /// The broker's metadata offset has reached its catch-up target.
    pub is_caught_up: bool,
    pub is_fenced: bool,
    /// The broker may stop now: it leads nothing any more.
    pub should_shutdown: bool,
}

/// A CreateTopics entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateTopic {
    pub name: String,
    /// -1: `num.partitions`. Must be -1 when `assignments` is given.
    pub partitions: i32,
    /// -1: `default.replication.factor`. Must be -1 when `assignments` is given.
    pub replication_factor: i16,
    /// Explicit replica lists, one per partition. `Some` of an empty list means none (Kafka
    /// sends an empty array when there is no assignment).
    pub assignments: Option<Vec<Vec<i32>>>,
    pub configs: BTreeMap<String, String>,
    pub validate_only: bool,
    /// May create a name starting with [`INTERNAL_TOPIC_PREFIX`] (`__consumer_offsets`).
    pub internal: bool,
}

/// The active controller. Lives on the controller shard of the Raft leader, created (or
/// [`activate`](Controller::activate)d) when this node becomes leader; holds only volatile
/// state (broker sessions, the seeded generator), everything durable is in the image.
#[derive(Debug)]
pub struct Controller {
    config: ControllerConfig,
    sessions: Sessions,
    rng: SeededRng,
    /// When the tick next rebalances leaderships; set at activation (a new controller waits a
    /// whole interval first, as Kafka's does).
    next_rebalance_ms: Option<u64>,
}

impl Controller {
    /// `seed` drives placement and topic ids; vary it between activations in production
    /// (e.g. wall-clock nanos), fix it in tests.
    pub fn new(config: ControllerConfig, seed: u64) -> Controller {
        assert!(config.session_timeout_ms > 0);
        assert!(config.partitions_per_topic_max >= 1);
        assert!(config.partitions_per_topic_max <= limits::PARTITIONS_PER_TOPIC_CEILING);
        assert!(config.default_partitions >= 1);
        assert!(config.default_partitions <= config.partitions_per_topic_max);
        assert!(config.default_replication_factor >= 1);
        assert!(config.leader_imbalance_check_interval_ms > 0);
        Controller {
            config,
            sessions: Sessions::default(),
            rng: SeededRng::new(seed),
            next_rebalance_ms: None,
        }
    }

    pub fn config(&self) -> &ControllerConfig {
        &self.config
    }

    /// This node just became the active controller: every registered broker gets a fresh
    /// session from `now_ms` (a new controller cannot know when the old one last heard from
    /// them, so it gives each a full timeout, as Kafka does). Fenced brokers stay fenced until
    /// they heartbeat and catch up.
    pub fn activate(&mut self, image: &MetadataImage, now_ms: u64) {
        self.sessions.clear();
        self.next_rebalance_ms = Some(now_ms + self.config.leader_imbalance_check_interval_ms);
        for broker in image.brokers.values() {
            self.sessions
                .start(broker.broker_id, broker.broker_epoch, now_ms, false);
        }
    }
}
