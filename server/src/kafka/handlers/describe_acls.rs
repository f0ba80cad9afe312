//! DescribeAcls (key 29): the ACLs a filter selects, grouped by resource pattern. Needs
//! DESCRIBE on the cluster; without an authorizer configured Kafka answers SECURITY_DISABLED.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::{DescribeAclsRequest, DescribeAclsResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use sluice_security::acl::AclOperation;

use crate::error_code::ResponseError;
use crate::kafka::acl_wire::{filter_of, FilterFields};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;
use crate::security::acl_cache::binding_of;

pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 3 };

pub fn handle(
    authz: &Authz,
    metadata: &MetadataService,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DescribeAclsRequest = request.decode()?;
    let mut response = DescribeAclsResponse::default();
    let refuse = |mut response: DescribeAclsResponse, error: ResponseError, message: String| {
        response.error_code = error.code();
        response.error_message = Some(StrBytes::from_string(message));
        response
    };
    if authz.is_off() {
        let message = "No Authorizer is configured on the broker".to_string();
        let response = refuse(response, ResponseError::SecurityDisabled, message);
        return Ok(request.respond(&response)?.into());
    }
    if !authz.cluster(AclOperation::Describe) {
        let message = "DescribeAcls needs DESCRIBE on the cluster".to_string();
        let response = refuse(response, ResponseError::ClusterAuthorizationFailed, message);
        return Ok(request.respond(&response)?.into());
    }
    let filter = filter_of(FilterFields {
        resource_type: body.resource_type_filter,
        resource_name: body.resource_name_filter.as_deref(),
        pattern_type: body.pattern_type_filter,
        principal: body.principal_filter.as_deref(),
        host: body.host_filter.as_deref(),
        operation: body.operation,
        permission_type: body.permission_type,
    });
    if let Err(err) = filter.validate() {
        let response = refuse(response, ResponseError::InvalidRequest, err.message);
        return Ok(request.respond(&response)?.into());
    }
    let (table, _) = metadata.acl_entries();
    let mut grouped: BTreeMap<(i8, String, i8), Vec<AclDescription>> = BTreeMap::new();
    for (_, entry) in table.iter() {
        if !filter.matches(&binding_of(entry)) {
            continue;
        }
        let mut acl = AclDescription::default();
        acl.principal = StrBytes::from_string(entry.principal.clone());
        acl.host = StrBytes::from_string(entry.host.clone());
        acl.operation = entry.operation;
        acl.permission_type = entry.permission_type;
        grouped
            .entry((
                entry.resource_type,
                entry.resource_name.clone(),
                entry.pattern_type,
            ))
            .or_default()
            .push(acl);
    }
    response.resources = grouped
        .into_iter()
        .map(|((resource_type, name, pattern_type), acls)| {
            let mut resource = DescribeAclsResource::default();
            resource.resource_type = resource_type;
            resource.resource_name = StrBytes::from_string(name);
            resource.pattern_type = pattern_type;
            resource.acls = acls;
            resource
        })
        .collect();
    Ok(request.respond(&response)?.into())
}
