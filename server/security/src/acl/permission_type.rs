//! Kafka's `AclPermissionType` (org.apache.kafka.common.acl.AclPermissionType).

use super::code_enum::code_enum;

code_enum! {
    /// Whether an ACL allows or denies. `Any` exists only in filters.
    AclPermissionType {
        Unknown = 0 => "UNKNOWN",
        Any = 1 => "ANY",
        Deny = 2 => "DENY",
        Allow = 3 => "ALLOW",
    }
}
