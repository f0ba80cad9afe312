//! `AclBinding`: one ACL as CreateAcls carries it and the authorizer stores it, and the checks
//! Kafka makes before storing one.

use std::fmt;

use super::{AclOperation, AclPermissionType, PatternType, ResourceType, CLUSTER_NAME};
use crate::principal::KafkaPrincipal;

/// Kafka's INVALID_REQUEST error code, the code every refusal below maps to.
pub const INVALID_REQUEST_ERROR_CODE: i16 = 42;

/// A resource pattern plus an access control entry. `principal` is in `Type:name` form
/// ("User:alice", "User:*"); `host` is an IP address as Java prints it, or `*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub resource_name: String,
    pub pattern_type: PatternType,
    pub principal: String,
    pub host: String,
    pub operation: AclOperation,
    pub permission: AclPermissionType,
}

/// Why a binding or filter was refused. The broker answers with [`InvalidAcl::error_code`]
/// and the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidAcl {
    pub message: String,
}

impl InvalidAcl {
    pub(crate) fn new(message: String) -> InvalidAcl {
        InvalidAcl { message }
    }

    /// INVALID_REQUEST, as Kafka's broker and controller answer for every check here.
    pub fn error_code(&self) -> i16 {
        INVALID_REQUEST_ERROR_CODE
    }
}

impl AclBinding {
    /// The checks Kafka makes before storing a binding: the broker's (CreateAcls: a CLUSTER
    /// resource must be named "kafka-cluster", no empty name), then the controller's
    /// (`AclControlManager.validateNewAcl`: no UNKNOWN/ANY resource type, only LITERAL or
    /// PREFIXED patterns, no UNKNOWN/ANY operation, only ALLOW or DENY). Stricter than Kafka
    /// in one place: the principal must parse as `Type:name`; Kafka stores such an ACL and
    /// then fails every authorization that meets it.
    pub fn validate(&self) -> Result<(), InvalidAcl> {
        if self.resource_type == ResourceType::Cluster && self.resource_name != CLUSTER_NAME {
            return Err(InvalidAcl::new(format!(
                "The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
            )));
        }
        if self.resource_name.is_empty() {
            return Err(InvalidAcl::new("Invalid empty resource name".to_string()));
        }
        if matches!(
            self.resource_type,
            ResourceType::Unknown | ResourceType::Any
        ) {
            return Err(InvalidAcl::new(format!(
                "Invalid resourceType {}",
                self.resource_type
            )));
        }
        if !matches!(
            self.pattern_type,
            PatternType::Literal | PatternType::Prefixed
        ) {
            return Err(InvalidAcl::new(format!(
                "Invalid patternType {}",
                self.pattern_type
            )));
        }
        if matches!(self.operation, AclOperation::Unknown | AclOperation::Any) {
            return Err(InvalidAcl::new(format!(
                "Invalid operation {}",
                self.operation
            )));
        }
        if !matches!(
            self.permission,
            AclPermissionType::Allow | AclPermissionType::Deny
        ) {
            return Err(InvalidAcl::new(format!(
                "Invalid permissionType {}",
                self.permission
            )));
        }
        if let Err(error) = KafkaPrincipal::parse(&self.principal) {
            return Err(InvalidAcl::new(format!("Invalid principal: {error}")));
        }
        Ok(())
    }
}

impl fmt::Display for AclBinding {
    /// Kafka's AclBinding toString shape, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "(pattern=ResourcePattern(resourceType={}, name={}, patternType={}), \
             entry=(principal={}, host={}, operation={}, permissionType={}))",
            self.resource_type,
            self.resource_name,
            self.pattern_type,
            self.principal,
            self.host,
            self.operation,
            self.permission
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic_read(name: &str) -> AclBinding {
        AclBinding {
            resource_type: ResourceType::Topic,
            resource_name: name.to_string(),
            pattern_type: PatternType::Literal,
            principal: "User:alice".to_string(),
            host: "*".to_string(),
            operation: AclOperation::Read,
            permission: AclPermissionType::Allow,
        }
    }

    #[test]
    fn a_plain_binding_is_valid() {
        assert_eq!(topic_read("orders").validate(), Ok(()));
    }

    #[test]
    fn kafka_refusals() {
        let refused = |binding: AclBinding, words: &str| {
            let error = binding.validate().expect_err("refused");
            assert!(error.message.contains(words), "{error} lacks {words}");
            assert_eq!(error.error_code(), INVALID_REQUEST_ERROR_CODE);
        };
        refused(topic_read(""), "empty resource name");
        refused(
            AclBinding {
                resource_type: ResourceType::Cluster,
                ..topic_read("my-cluster")
            },
            "kafka-cluster",
        );
        for resource_type in [ResourceType::Any, ResourceType::Unknown] {
            refused(
                AclBinding {
                    resource_type,
                    ..topic_read("t")
                },
                "resourceType",
            );
        }
        for pattern_type in [PatternType::Any, PatternType::Match, PatternType::Unknown] {
            refused(
                AclBinding {
                    pattern_type,
                    ..topic_read("t")
                },
                "patternType",
            );
        }
        for operation in [AclOperation::Any, AclOperation::Unknown] {
            refused(
                AclBinding {
                    operation,
                    ..topic_read("t")
                },
                "operation",
            );
        }
        for permission in [AclPermissionType::Any, AclPermissionType::Unknown] {
            refused(
                AclBinding {
                    permission,
                    ..topic_read("t")
                },
                "permissionType",
            );
        }
        refused(
            AclBinding {
                principal: "alice".to_string(),
                ..topic_read("t")
            },
            "principal",
        );
    }

    #[test]
    fn cluster_binding_named_kafka_cluster_is_valid() {
        let binding = AclBinding {
            resource_type: ResourceType::Cluster,
            operation: AclOperation::ClusterAction,
            ..topic_read(CLUSTER_NAME)
        };
        assert_eq!(binding.validate(), Ok(()));
    }
}
