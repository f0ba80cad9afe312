//! DeleteAcls (key 31): removes every ACL each filter selects, and says which. The broker
//! matches the filters against its metadata and the controller removes those ids that still
//! exist (one removed meanwhile by another request is not reported twice). Needs ALTER on the
//! cluster.

use std::rc::Rc;

use std::collections::BTreeSet;

use kafka_protocol::messages::delete_acls_response::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl,
};
use kafka_protocol::messages::{DeleteAclsRequest, DeleteAclsResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use sluice_controller::records::AclId;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::acl_wire::refuse_whole_change;
use crate::kafka::acl_wire::{filter_of, FilterFields};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::metadata::MetadataService;
use crate::security::acl_cache::binding_of;

pub const VERSIONS: VersionRange = VersionRange { min: 1, max: 3 };

pub async fn handle(
    authz: &Authz,
    metadata: &Rc<MetadataService>,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: DeleteAclsRequest = request.decode()?;
    let mut response = DeleteAclsResponse::default();
    let refused = |error: ResponseError, message: &str| {
        let mut result = DeleteAclsFilterResult::default();
        result.error_code = error.code();
        result.error_message = Some(StrBytes::from_string(message.to_string()));
        result
    };
    let whole_request_refused = refuse_whole_change(authz, "DeleteAcls", body.filters.len());
    if let Some((error, message)) = whole_request_refused {
        response.filter_results = body
            .filters
            .iter()
            .map(|_| refused(error, &message))
            .collect();
        return Ok(request.respond(&response)?.into());
    }
    let (all, _) = metadata.acl_entries();
    // Per filter: its error, or the ids it selects.
    let mut selections: Vec<Result<Vec<AclId>, String>> = Vec::new();
    let mut wanted: BTreeSet<AclId> = BTreeSet::new();
    for f in &body.filters {
        let filter = filter_of(FilterFields {
            resource_type: f.resource_type_filter,
            resource_name: f.resource_name_filter.as_deref(),
            pattern_type: f.pattern_type_filter,
            principal: f.principal_filter.as_deref(),
            host: f.host_filter.as_deref(),
            operation: f.operation,
            permission_type: f.permission_type,
        });
        if let Err(err) = filter.validate() {
            selections.push(Err(err.message));
            continue;
        }
        let ids: Vec<AclId> = all
            .iter()
            .filter(|(_, entry)| filter.matches(&binding_of(entry)))
            .map(|(id, _)| id)
            .collect();
        wanted.extend(ids.iter().copied());
        selections.push(Ok(ids));
    }
    let removed: BTreeSet<AclId> = if wanted.is_empty() {
        BTreeSet::new()
    } else {
        match metadata.delete_acls(wanted.into_iter().collect()).await {
            Ok(ids) => ids.into_iter().collect(),
            Err((code, message)) => {
                response.filter_results = body
                    .filters
                    .iter()
                    .map(|_| {
                        let mut result = DeleteAclsFilterResult::default();
                        result.error_code = code;
                        result.error_message = Some(StrBytes::from_string(message.clone()));
                        result
                    })
                    .collect();
                return Ok(request.respond(&response)?.into());
            }
        }
    };
    // An ACL two filters select is reported under the first (Kafka reports it once).
    let mut reported: BTreeSet<AclId> = BTreeSet::new();
    response.filter_results = selections
        .into_iter()
        .map(|selection| match selection {
            Err(message) => refused(ResponseError::InvalidRequest, &message),
            Ok(ids) => {
                let mut result = DeleteAclsFilterResult::default();
                result.error_code = NONE;
                for id in ids {
                    if !removed.contains(&id) || !reported.insert(id) {
                        continue;
                    }
                    let Some(entry) = all.get(id) else {
                        continue;
                    };
                    let mut acl = DeleteAclsMatchingAcl::default();
                    acl.error_code = NONE;
                    acl.resource_type = entry.resource_type;
                    acl.resource_name = StrBytes::from_string(entry.resource_name.clone());
                    acl.pattern_type = entry.pattern_type;
                    acl.principal = StrBytes::from_string(entry.principal.clone());
                    acl.host = StrBytes::from_string(entry.host.clone());
                    acl.operation = entry.operation;
                    acl.permission_type = entry.permission_type;
                    result.matching_acls.push(acl);
                }
                result
            }
        })
        .collect();
    Ok(request.respond(&response)?.into())
}
