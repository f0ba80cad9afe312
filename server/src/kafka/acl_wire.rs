//! ACLs between the wire, the authorizer's types and the metadata records: Kafka's codes
//! throughout, so each conversion is a field copy plus the checks Kafka makes.

use sluice_controller::records::AclEntry;
use sluice_security::acl::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, PatternType, ResourceType,
};

/// A filter from DescribeAcls' or DeleteAcls' fields (`None` names match any).
pub struct FilterFields<'a> {
    pub resource_type: i8,
    pub resource_name: Option<&'a str>,
    pub pattern_type: i8,
    pub principal: Option<&'a str>,
    pub host: Option<&'a str>,
    pub operation: i8,
    pub permission_type: i8,
}

pub fn filter_of(fields: FilterFields<'_>) -> AclBindingFilter {
    AclBindingFilter {
        resource_type: ResourceType::from_code(fields.resource_type),
        resource_name: fields.resource_name.map(str::to_string),
        pattern_type: PatternType::from_code(fields.pattern_type),
        principal: fields.principal.map(str::to_string),
        host: fields.host.map(str::to_string),
        operation: AclOperation::from_code(fields.operation),
        permission: AclPermissionType::from_code(fields.permission_type),
    }
}

pub fn entry_of(binding: &AclBinding) -> AclEntry {
    AclEntry {
        resource_type: binding.resource_type.code(),
        resource_name: binding.resource_name.clone(),
        pattern_type: binding.pattern_type.code(),
        principal: binding.principal.clone(),
        host: binding.host.clone(),
        operation: binding.operation.code(),
        permission_type: binding.permission.code(),
    }
}
