//! `AclBindingFilter`: which bindings DescribeAcls lists and DeleteAcls removes, with Kafka's
//! `ResourcePatternFilter` and `AccessControlEntryFilter` matching.

use super::binding::InvalidAcl;
use super::{
    AclBinding, AclOperation, AclPermissionType, PatternType, ResourceType, WILDCARD_RESOURCE,
};

/// Each field narrows the match; `None` and the `Any` values match everything.
///
/// `pattern_type` is the subtle one (Kafka's semantics):
/// - `Any`: any pattern type, the name compared exactly;
/// - `Literal` / `Prefixed`: that type only, the name compared exactly;
/// - `Match`: every binding that would apply to a resource with this literal name: a LITERAL
///   binding with the same name or `*`, and every PREFIXED binding whose name is a prefix of
///   it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclBindingFilter {
    pub resource_type: ResourceType,
    pub resource_name: Option<String>,
    pub pattern_type: PatternType,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: AclOperation,
    pub permission: AclPermissionType,
}

impl AclBindingFilter {
    /// The filter that matches every binding.
    pub fn any() -> AclBindingFilter {
        AclBindingFilter {
            resource_type: ResourceType::Any,
            resource_name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: AclOperation::Any,
            permission: AclPermissionType::Any,
        }
    }

    /// Kafka's `AclControlManager.validateFilter`: no UNKNOWN anywhere.
    pub fn validate(&self) -> Result<(), InvalidAcl> {
        if self.resource_type == ResourceType::Unknown || self.pattern_type == PatternType::Unknown
        {
            return Err(InvalidAcl::new("Unknown patternFilter.".to_string()));
        }
        if self.operation == AclOperation::Unknown || self.permission == AclPermissionType::Unknown
        {
            return Err(InvalidAcl::new("Unknown entryFilter.".to_string()));
        }
        Ok(())
    }

    /// Whether `binding` is selected: its pattern and its entry both match.
    pub fn matches(&self, binding: &AclBinding) -> bool {
        self.matches_pattern(binding) && self.matches_entry(binding)
    }

    fn matches_pattern(&self, binding: &AclBinding) -> bool {
        if self.resource_type != ResourceType::Any && self.resource_type != binding.resource_type {
            return false;
        }
        let any_or_match = matches!(self.pattern_type, PatternType::Any | PatternType::Match);
        if !any_or_match && self.pattern_type != binding.pattern_type {
            return false;
        }
        let Some(name) = &self.resource_name else {
            return true;
        };
        if self.pattern_type != PatternType::Match {
            return *name == binding.resource_name;
        }
        match binding.pattern_type {
            PatternType::Literal => {
                *name == binding.resource_name || binding.resource_name == WILDCARD_RESOURCE
            }
            PatternType::Prefixed => name.starts_with(binding.resource_name.as_str()),
            // Kafka throws here; a stored binding is never of another type (validate), so
            // nothing is the safe answer.
            _ => false,
        }
    }

    fn matches_entry(&self, binding: &AclBinding) -> bool {
        if self
            .principal
            .as_ref()
            .is_some_and(|p| *p != binding.principal)
        {
            return false;
        }
        if self.host.as_ref().is_some_and(|h| *h != binding.host) {
            return false;
        }
        if self.operation != AclOperation::Any && self.operation != binding.operation {
            return false;
        }
        self.permission == AclPermissionType::Any || self.permission == binding.permission
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(name: &str, pattern_type: PatternType) -> AclBinding {
        AclBinding {
            resource_type: ResourceType::Topic,
            resource_name: name.to_string(),
            pattern_type,
            principal: "User:alice".to_string(),
            host: "*".to_string(),
            operation: AclOperation::Read,
            permission: AclPermissionType::Allow,
        }
    }

    fn named(name: &str, pattern_type: PatternType) -> AclBindingFilter {
        AclBindingFilter {
            resource_type: ResourceType::Topic,
            resource_name: Some(name.to_string()),
            pattern_type,
            ..AclBindingFilter::any()
        }
    }

    #[test]
    fn any_matches_everything() {
        assert!(AclBindingFilter::any().matches(&binding("x", PatternType::Prefixed)));
        assert_eq!(AclBindingFilter::any().validate(), Ok(()));
    }

    #[test]
    fn match_finds_literal_wildcard_and_prefixes() {
        let filter = named("orders-eu", PatternType::Match);
        assert!(filter.matches(&binding("orders-eu", PatternType::Literal)));
        assert!(filter.matches(&binding("*", PatternType::Literal)));
        assert!(filter.matches(&binding("orders-", PatternType::Prefixed)));
        assert!(filter.matches(&binding("orders-eu", PatternType::Prefixed)));
        assert!(!filter.matches(&binding("orders", PatternType::Literal)));
        assert!(!filter.matches(&binding("orders-eu-1", PatternType::Prefixed)));
        assert!(!filter.matches(&binding("*", PatternType::Prefixed)));
    }

    #[test]
    fn any_and_exact_pattern_types_compare_names_exactly() {
        let any = named("orders-", PatternType::Any);
        assert!(any.matches(&binding("orders-", PatternType::Prefixed)));
        assert!(any.matches(&binding("orders-", PatternType::Literal)));
        assert!(!any.matches(&binding("*", PatternType::Literal)));
        let literal = named("orders-", PatternType::Literal);
        assert!(!literal.matches(&binding("orders-", PatternType::Prefixed)));
    }

    #[test]
    fn entry_fields_narrow() {
        let b = binding("t", PatternType::Literal);
        let mut filter = AclBindingFilter::any();
        filter.principal = Some("User:bob".to_string());
        assert!(!filter.matches(&b));
        filter.principal = Some("User:alice".to_string());
        filter.operation = AclOperation::Write;
        assert!(!filter.matches(&b));
        filter.operation = AclOperation::Read;
        filter.permission = AclPermissionType::Deny;
        assert!(!filter.matches(&b));
        filter.permission = AclPermissionType::Allow;
        filter.host = Some("10.0.0.1".to_string());
        assert!(!filter.matches(&b));
        filter.host = Some("*".to_string());
        assert!(filter.matches(&b));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut filter = AclBindingFilter::any();
        filter.pattern_type = PatternType::Unknown;
        assert!(filter.validate().is_err());
        let mut filter = AclBindingFilter::any();
        filter.permission = AclPermissionType::Unknown;
        assert!(filter.validate().is_err());
    }
}
