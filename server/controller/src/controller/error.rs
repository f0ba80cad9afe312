//! The controller's refusals. Each kind maps to one Kafka error code, which the server puts in
//! the response of the request that carried the command.

/// Why a command was refused. The Kafka error each stands for is in its doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// TOPIC_ALREADY_EXISTS (36).
    TopicAlreadyExists,
    /// INVALID_TOPIC_EXCEPTION (17): a bad name, a reserved `__` name, or one that collides
    /// with an existing topic once '.' and '_' are treated alike.
    InvalidTopic,
    /// INVALID_PARTITIONS (37).
    InvalidPartitions,
    /// INVALID_REPLICATION_FACTOR (38), also when no broker can take a replica (as Kafka).
    InvalidReplicationFactor,
    /// INVALID_REPLICA_ASSIGNMENT (39).
    InvalidReplicaAssignment,
    /// UNKNOWN_TOPIC_OR_PARTITION (3).
    UnknownTopicOrPartition,
    /// STALE_BROKER_EPOCH (77): a heartbeat from an unknown broker or an old registration.
    StaleBrokerEpoch,
    /// DUPLICATE_BROKER_REGISTRATION (101): another incarnation of the id is alive.
    DuplicateBrokerRegistration,
    /// BROKER_NOT_AVAILABLE (8). Not produced by the controller: a topic that no broker can
    /// host gets [`InvalidReplicationFactor`](Self::InvalidReplicationFactor), as in Kafka. Kept
    /// for the server's own use (e.g. no active controller to forward to).
    BrokerNotAvailable,
    /// INVALID_REQUEST (42): a request Kafka would refuse as malformed (e.g. an explicit
    /// assignment together with a partition count, or a broker registration without listeners).
    InvalidRequest,
    /// UNKNOWN_SERVER_ERROR (-1): what Kafka answers when every producer id is used up.
    UnknownServerError,
    /// NOT_LEADER_OR_FOLLOWER (6): an AlterPartition from a broker that does not lead the
    /// partition (Kafka's controller answers INVALID_REQUEST here; ours tells the broker that
    /// its view of the leadership is wrong, which it is).
    NotLeaderOrFollower,
    /// FENCED_LEADER_EPOCH (74): an AlterPartition with an older leader epoch.
    FencedLeaderEpoch,
    /// INVALID_UPDATE_VERSION (95): an AlterPartition with an older partition epoch (another
    /// change of the partition came first).
    InvalidUpdateVersion,
    /// INELIGIBLE_REPLICA (107): an AlterPartition adds to the ISR a broker that is fenced,
    /// shutting down or not registered (KIP-841).
    IneligibleReplica,
    /// NOT_CONTROLLER (41): a request names epochs newer than this controller's image, so this
    /// controller is likely no longer the active one (Kafka's answer; the server retries it at
    /// whichever controller is active).
    NotController,
    /// NO_REASSIGNMENT_IN_PROGRESS (85): cancelling a reassignment that is not running.
    NoReassignmentInProgress,
    /// RESOURCE_NOT_FOUND (91): deleting a SCRAM credential that does not exist.
    ResourceNotFound,
    /// DUPLICATE_RESOURCE (92): one AlterUserScramCredentials names a user twice.
    DuplicateResource,
    /// UNACCEPTABLE_CREDENTIAL (93): an empty user name, iterations out of bounds, a salt or
    /// keys of the wrong size, or no room for another SCRAM user.
    UnacceptableCredential,
    /// UNSUPPORTED_SASL_MECHANISM (33): a SCRAM mechanism code that is none.
    UnsupportedSaslMechanism,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ControllerError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ControllerError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ControllerError {
        ControllerError {
            kind,
            message: message.into(),
        }
    }
}
