//! Kafka's `ResourceType` (org.apache.kafka.common.resource.ResourceType).

use super::code_enum::code_enum;

code_enum! {
    /// What an ACL protects. `Any` exists only in filters; `Unknown` is an unrecognised code.
    ResourceType {
        Unknown = 0 => "UNKNOWN",
        Any = 1 => "ANY",
        Topic = 2 => "TOPIC",
        Group = 3 => "GROUP",
        Cluster = 4 => "CLUSTER",
        TransactionalId = 5 => "TRANSACTIONAL_ID",
        DelegationToken = 6 => "DELEGATION_TOKEN",
        User = 7 => "USER",
    }
}

/// The only name a CLUSTER resource may have (Kafka's `CLUSTER_NAME`).
pub const CLUSTER_NAME: &str = "kafka-cluster";
