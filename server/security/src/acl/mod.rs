//! ACLs with Kafka's semantics: the wire enums, bindings and filters as CreateAcls,
//! DescribeAcls and DeleteAcls carry them, and the StandardAuthorizer decision procedure.

mod authorizer;
mod binding;
mod code_enum;
mod decision;
mod filter;
mod index;
mod operation;
mod pattern_type;
mod permission_type;
mod resource_type;

pub use authorizer::{Authorizer, AuthorizerConfig};
pub use binding::{AclBinding, InvalidAcl, INVALID_REQUEST_ERROR_CODE};
pub use decision::{Decision, Reason};
pub use filter::AclBindingFilter;
pub use operation::AclOperation;
pub use pattern_type::{PatternType, WILDCARD_RESOURCE};
pub use permission_type::AclPermissionType;
pub use resource_type::{ResourceType, CLUSTER_NAME};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes_are_kafkas() {
        assert_eq!(ResourceType::TransactionalId.code(), 5);
        assert_eq!(ResourceType::from_code(7), ResourceType::User);
        assert_eq!(ResourceType::from_code(8), ResourceType::Unknown);
        assert_eq!(ResourceType::from_code(-1), ResourceType::Unknown);
        assert_eq!(PatternType::Prefixed.code(), 4);
        assert_eq!(AclOperation::IdempotentWrite.code(), 12);
        assert_eq!(AclOperation::from_code(14), AclOperation::DescribeTokens);
        assert_eq!(AclPermissionType::Allow.code(), 3);
        for op in AclOperation::ALL_VALUES {
            assert_eq!(AclOperation::from_code(op.code()), *op);
            assert_eq!(AclOperation::parse(op.name()), Some(*op));
        }
    }

    #[test]
    fn names_parse_case_insensitively() {
        assert_eq!(ResourceType::parse("topic"), Some(ResourceType::Topic));
        assert_eq!(
            ResourceType::parse("Transactional_Id"),
            Some(ResourceType::TransactionalId)
        );
        assert_eq!(PatternType::parse("PREFIXED"), Some(PatternType::Prefixed));
        assert_eq!(
            AclOperation::parse("describe_configs"),
            Some(AclOperation::DescribeConfigs)
        );
        assert_eq!(
            AclPermissionType::parse("allow"),
            Some(AclPermissionType::Allow)
        );
        assert_eq!(AclOperation::parse("READS"), None);
        assert_eq!(AclOperation::ClusterAction.to_string(), "CLUSTER_ACTION");
    }
}
