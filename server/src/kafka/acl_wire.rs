//! ACLs between the wire, the authorizer's types and the metadata records: Kafka's codes
//! throughout, so each conversion is a field copy plus the checks Kafka makes.

use sluice_controller::records::AclEntry;

use crate::error_code::ResponseError;
use crate::kafka::authz::Authz;
use crate::limits::ACL_CREATIONS_PER_REQUEST_MAX;
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

/// Why CreateAcls or DeleteAcls (`api`) refuses a whole request of `items` bindings or
/// filters: no authorizer configured (Kafka's SECURITY_DISABLED), no ALTER on the cluster, or
/// more items than one request may carry.
pub fn refuse_whole_change(
    authz: &Authz,
    api: &str,
    items: usize,
) -> Option<(ResponseError, String)> {
    if authz.is_off() {
        return Some((
            ResponseError::SecurityDisabled,
            "No Authorizer is configured on the broker".to_string(),
        ));
    }
    if !authz.cluster(AclOperation::Alter) {
        return Some((
            ResponseError::ClusterAuthorizationFailed,
            format!("{api} needs ALTER on the cluster"),
        ));
    }
    if items > ACL_CREATIONS_PER_REQUEST_MAX {
        return Some((
            ResponseError::InvalidRequest,
            format!("{items} items in one {api} request; at most {ACL_CREATIONS_PER_REQUEST_MAX}"),
        ));
    }
    None
}
